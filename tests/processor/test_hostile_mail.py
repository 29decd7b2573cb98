"""Hostile e-mails (issue 14, item 2): a message Python's `email` package cannot read never stops its shard.

Each case goes through the real pipeline against the session's Dovecot, with good bills in the same shard
that must be stored, forwarded and settled on the first pass.
"""

from __future__ import annotations

from sqlmodel import select

from storage.engine import session_scope
from storage.mail_models import MailMessage
from tests.processor.mime import bill, bill_message, plain_message

# An RFC 2047 word whose base64 payload is not base64: `email.header.decode_header` raises HeaderParseError.
BROKEN_WORD = "=?utf-8?b?idna\x1b$B'?="


def _nested(to: str, depth: int) -> bytes:
    """A message whose MIME tree is `depth` multiparts deep: the stdlib parser recurses past its limit."""
    head = f"From: CEMIG <fatura@cemig.com.br>\r\nTo: {to}\r\nSubject: conta\r\nMIME-Version: 1.0\r\n".encode()
    opening = b"".join(b'Content-Type: multipart/mixed; boundary="b%d"\r\n\r\n--b%d\r\n' % (i, i)
                       for i in range(depth))
    closing = b"".join(b"\r\n--b%d--\r\n" % i for i in reversed(range(depth)))
    return head + opening + b"Content-Type: text/plain\r\n\r\nx" + closing


def _rows(world) -> dict[int, MailMessage]:
    with session_scope(world.engine) as session:
        return {m.uid: m for m in session.exec(select(MailMessage))}


def test_hostile_headers_and_deep_mime_never_stop_the_shard(world):
    world.settings = world.settings.model_copy(update={"shards": 1, "max_message_attempts": 2})
    unit = world.add_unit(1)
    broken_header = bill_message(unit.inbox_address, unit.installation, "2026-08", sign=False,
                                 extra_headers={"Subject": BROKEN_WORD, "X-Note": BROKEN_WORD})
    broken_header = broken_header.replace(b"\r\nSubject:", b"\r\nX-Old-Subject:", 1)  # one Subject: the broken one
    world.settings = world.settings.model_copy(update={"dkim_policy": "warn"})
    world.deliver(bill_message(unit.inbox_address, unit.installation, "2026-09"),   # UID 1
                  plain_message(unit.inbox_address, subject=BROKEN_WORD),          # UID 2
                  _nested(unit.inbox_address, 5000),                              # UID 3
                  broken_header,                                                  # UID 4
                  bill_message(unit.inbox_address, unit.installation, "2026-10"))  # UID 5

    first = world.poll()
    assert first.accounts[0].error is None
    rows = _rows(world)
    assert sorted(rows) == [1, 2, 3, 4, 5]  # every message has a ledger row, even the unreadable one
    assert rows[1].stage == rows[5].stage == "parsed"
    assert rows[2].stage == "no_bill" and rows[2].subject  # the broken word is kept as it came
    assert rows[4].stage == "parsed"
    assert rows[3].stage == "claimed" and "RecursionError" in (rows[3].error or "")
    assert len(world.smtp.messages) == 3
    assert world.counts() == {"INBOX": 1, "Processed": 3, "Quarantine": 1}

    for _ in range(2):  # the unreadable one is retried `max_message_attempts` times, then given up
        world.poll()
    rows = _rows(world)
    assert rows[3].stage == "unreadable" and "RecursionError" in rows[3].error
    assert rows[3].user_message
    assert world.counts() == {"INBOX": 0, "Processed": 3, "Quarantine": 2}
    assert len(world.smtp.messages) == 3  # nothing forwarded twice


def _zip_of(name: str, data: bytes) -> bytes:
    import io
    import zipfile

    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_STORED) as archive:
        archive.writestr(name, data)
    return out.getvalue()


def test_a_zip_holding_a_pdf_is_refused_by_name_not_stored_as_the_pdf(world):
    unit = world.add_unit(1)
    generated = bill(unit.installation, "2026-10")
    raw = plain_message(unit.inbox_address, attachments=[(_zip_of("fatura.pdf", generated.pdf), "application/zip",
                                                          "fatura.zip", "attachment")])
    world.deliver(raw)
    world.poll()
    (row,) = _rows(world).values()
    assert row.stage == "unreadable" and "fatura.zip is a ZIP archive" in row.error and "ZIP" in row.user_message
    assert world.counts()["Quarantine"] == 1 and world.smtp.messages == []


def test_a_path_traversal_attachment_name_is_forwarded_as_a_plain_base_name(world):
    unit = world.add_unit(1)
    generated = bill(unit.installation, "2026-10")
    raw = plain_message(unit.inbox_address, attachments=[(generated.pdf, "application/pdf",
                                                          "../../etc/cron.d/..\\evil\\conta.pdf", "attachment")])
    world.deliver(raw)
    world.poll()
    (row,) = _rows(world).values()
    assert row.stage == "parsed"
    (sent,) = world.smtp.messages
    names = [part.get_filename() for part in sent.message.walk() if part.get_filename()]
    assert names == ["conta.pdf"]
