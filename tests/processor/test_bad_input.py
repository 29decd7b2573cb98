"""Bad input: each case ends in a named state with a reason, nothing is lost, and the pass goes on."""

from __future__ import annotations

import dataclasses

import pytest
from sqlmodel import select

from simulator.mailer import generate_dkim_key
from storage.engine import session_scope
from storage.mail_models import Forward, Invoice, MailMessage
from tests.processor.conftest import USER
from tests.processor.mime import bill, bill_message, encrypt_pdf, plain_message, sign_bytes


def _messages(world) -> list[MailMessage]:
    with session_scope(world.engine) as session:
        return list(session.exec(select(MailMessage).order_by(MailMessage.id)).all())


def _invoices(world) -> list[Invoice]:
    with session_scope(world.engine) as session:
        return list(session.exec(select(Invoice).order_by(Invoice.id)).all())


def _forwards(world) -> list[Forward]:
    with session_scope(world.engine) as session:
        return list(session.exec(select(Forward).order_by(Forward.id)).all())


def _one(world, raw: bytes, **settings) -> MailMessage:
    if settings:
        world.settings = world.settings.model_copy(update=settings)
    world.deliver(raw)
    world.poll()
    (message,) = _messages(world)
    return message


def test_no_attachment_is_no_bill(world):
    unit = world.add_unit(1)
    message = _one(world, plain_message(unit.inbox_address))
    assert message.stage == "no_bill" and "no PDF" in message.error and message.settle_folder == "Quarantine"
    assert world.counts()["Quarantine"] == 1 and world.smtp.messages == []


def test_html_only_mail_with_a_download_link_is_no_bill_and_the_link_is_not_followed(world):
    unit = world.add_unit(1)
    html = '<p>Sua conta está disponível: <a href="https://cemig.example/fatura/123.pdf">baixar</a></p>'
    message = _one(world, plain_message(unit.inbox_address, text="", html=html))
    assert message.stage == "no_bill" and "download link" in message.error
    assert "link" in message.user_message and message.settle_folder == "Quarantine"


def test_two_bills_in_one_mail_are_both_stored_and_forwarded(world):
    unit = world.add_unit(1)
    first, second = bill(unit.installation, "2026-09"), bill(unit.installation, "2026-10")
    raw = plain_message(unit.inbox_address, attachments=[(first.pdf, "application/pdf", first.filename, "attachment"),
                                                       (second.pdf, "application/pdf", second.filename, "attachment")])
    message = _one(world, raw)
    assert message.stage == "parsed"
    assert sorted(i.reference_month for i in _invoices(world)) == ["2026-09", "2026-10"]
    assert len(world.smtp.messages) == 2 and world.counts()["Processed"] == 1


@pytest.mark.parametrize(("ctype", "disposition"), [("application/octet-stream", "attachment"),
                                                    ("application/pdf", "inline"),
                                                    ("image/png", "inline")])
def test_a_pdf_is_recognised_by_its_bytes_whatever_the_content_type(world, ctype, disposition):
    unit = world.add_unit(1)
    generated = bill(unit.installation, "2026-10")
    raw = plain_message(unit.inbox_address, attachments=[(generated.pdf, ctype, "conta", disposition)])
    assert _one(world, raw).stage == "parsed"
    assert len(world.smtp.messages) == 1


def test_a_corrupt_pdf_is_unreadable(world):
    unit = world.add_unit(1)
    corrupt = bill(unit.installation, "2026-10").pdf[:1500]
    message = _one(world, plain_message(unit.inbox_address, attachments=[(corrupt, "application/pdf", "c.pdf",
                                                                           "attachment")]))
    assert message.stage == "unreadable" and message.settle_folder == "Quarantine" and world.smtp.messages == []


def test_a_non_pdf_named_pdf_is_unreadable(world):
    unit = world.add_unit(1)
    fake = b"PK\x03\x04 this is a zip file, not a bill" * 10
    message = _one(world, plain_message(unit.inbox_address, attachments=[(fake, "application/pdf", "conta.pdf",
                                                                          "attachment")]))
    assert message.stage == "unreadable" and "not one" in message.error


def test_an_attachment_over_the_size_limit_is_too_large(world):
    unit = world.add_unit(1)
    big = b"%PDF-1.7\n" + b"0" * 40_000
    message = _one(world, plain_message(unit.inbox_address, attachments=[(big, "application/pdf", "big.pdf",
                                                                          "attachment")]),
                   max_attachment_bytes=30_000)
    assert message.stage == "too_large" and message.settle_folder == "Quarantine"


def test_an_unknown_recipient_is_quarantined_never_guessed(world):
    world.add_unit(1)
    message = _one(world, bill_message("uc-9999999999-zzzz@faturas.example.com", "3000000001", "2026-10"))
    assert message.stage == "unroutable" and "uc-9999999999-zzzz@faturas.example.com" in message.error
    assert message.unit_id is None and _invoices(world) == [] and world.counts()["Quarantine"] == 1


def test_the_envelope_header_and_plus_addresses_route(world):
    unit, other = world.add_unit(1), world.add_unit(2)
    local, domain = unit.inbox_address.split("@")
    raw = bill_message(other.inbox_address, unit.installation, "2026-10",
                       extra_headers={"X-Original-To": f"{local}+cemig@{domain}"})
    message = _one(world, raw)
    assert message.unit_id == unit.id and message.recipient == unit.inbox_address and message.stage == "parsed"


def test_a_dkim_failure_under_require_is_quarantined(world):
    unit = world.add_unit(1)
    forged = bill_message(unit.inbox_address, unit.installation, "2026-10", key=generate_dkim_key())
    message = _one(world, forged)
    assert message.stage == "dkim_failed" and message.dkim == "fail" and _invoices(world) == []
    assert message.settle_folder == "Quarantine"


def test_an_unsigned_bill_passes_under_warn_and_is_recorded(world):
    unit = world.add_unit(1)
    message = _one(world, bill_message(unit.inbox_address, unit.installation, "2026-10", sign=False),
                   dkim_policy="warn")
    assert message.stage == "parsed" and message.dkim == "none"


@pytest.mark.parametrize("password", [None, "wrong-password"])
def test_an_encrypted_pdf_without_the_right_password_is_locked(world, password):
    unit = world.add_unit(1, pdf_password=password)
    raw = bill_message(unit.inbox_address, unit.installation, "2026-10", pdf_password="52998")
    message = _one(world, raw)
    assert message.stage == "pdf_locked" and "Cadastre a senha do PDF" in message.user_message
    assert "52998" not in (message.error or "") and "wrong-password" not in (message.error or "")
    assert _invoices(world) == [] and world.smtp.messages == [] and message.settle_folder == "Quarantine"


def test_an_encrypted_pdf_opens_with_the_units_password_or_the_utility_rule(world):
    unit = world.add_unit(1, pdf_password="senha-da-unidade")
    ruled = world.add_unit(2)
    world.settings = world.settings.model_copy(update={"pdf_password_rules": {"cemig": ("{document[0:5]}",)}})
    world.deliver(bill_message(unit.inbox_address, unit.installation, "2026-10", pdf_password="senha-da-unidade"),
                  bill_message(ruled.inbox_address, ruled.installation, "2026-10",
                               pdf_password=ruled.holder_document[:5]))
    world.poll()
    assert [m.stage for m in _messages(world)] == ["parsed", "parsed"]
    assert len(world.smtp.messages) == 2


def test_a_cemig_pdf_protected_by_the_first_four_cpf_digits_opens_with_the_default_rule(world):
    unit = world.add_unit(1)
    assert world.settings.pdf_password_rules == {"cemig": ("{document[0:4]}",)}
    world.deliver(bill_message(unit.inbox_address, unit.installation, "2026-10",
                               pdf_password=unit.holder_document[:4]))
    world.poll()
    (message,) = _messages(world)
    assert message.stage == "parsed" and len(world.smtp.messages) == 1
    assert unit.holder_document[:4] not in (message.error or "")


def test_a_bill_for_another_installation_needs_review_and_is_not_forwarded(world):
    unit = world.add_unit(1)
    raw = bill_message(unit.inbox_address, "3000000999", "2025-10")  # the 2024 layout prints the installation
    message = _one(world, raw)
    assert message.stage == "needs_review" and "installation_mismatch" in message.error
    (invoice,) = _invoices(world)
    assert invoice.status == "needs_review" and "installation_mismatch" in invoice.review_reasons
    assert world.smtp.messages == [] and _forwards(world) == [] and message.settle_folder == "Quarantine"


def test_a_duplicate_bill_is_stored_once_and_forwarded_once(world):
    unit = world.add_unit(1)
    world.deliver(bill_message(unit.inbox_address, unit.installation, "2026-10"))
    world.poll()
    world.deliver(bill_message(unit.inbox_address, unit.installation, "2026-10"))
    world.poll()
    assert [m.stage for m in _messages(world)] == ["parsed", "duplicate"]
    assert len(_invoices(world)) == 1 and len(world.smtp.messages) == 1
    assert world.counts()["Processed"] == 2


def test_a_duplicate_of_an_encrypted_bill_is_recognised_by_its_content(world):
    unit = world.add_unit(1, pdf_password="abcde")
    first = bill_message(unit.inbox_address, unit.installation, "2026-10", pdf_password="abcde")
    generated = bill(unit.installation, "2026-10", 0, "abcde")
    again = dataclasses.replace(generated, pdf=encrypt_pdf(generated.plain_pdf, "abcde"))
    assert again.pdf != generated.pdf
    world.deliver(first, bill_message(unit.inbox_address, unit.installation, "2026-10", generated=again))
    world.poll()
    assert [m.stage for m in _messages(world)] == ["parsed", "duplicate"] and len(_invoices(world)) == 1


def test_a_reissued_bill_supersedes_the_first_and_is_forwarded_as_a_reissue(world):
    unit = world.add_unit(1)
    world.deliver(bill_message(unit.inbox_address, unit.installation, "2026-10", seed=0))
    world.poll()
    world.deliver(bill_message(unit.inbox_address, unit.installation, "2026-10", seed=7))
    world.poll()
    first, second = _invoices(world)
    assert first.amount_due != second.amount_due
    assert (first.version, second.version) == (1, 2) and first.superseded_by_id == second.id
    assert second.superseded_by_id is None
    assert [m.stage for m in _messages(world)] == ["parsed", "parsed"]
    assert len(world.smtp.messages) == 2 and "[Reemissão]" in world.smtp.messages[1].message["Subject"]


def test_latin1_and_rfc2047_subjects_are_decoded(world):
    unit = world.add_unit(1)
    generated = bill(unit.installation, "2026-10")
    attachment = [(generated.pdf, "application/pdf", generated.filename, "attachment")]
    encoded = plain_message(unit.inbox_address, subject="Sua fatura está disponível", attachments=attachment)
    raw8 = plain_message(unit.inbox_address, subject="SUBJECT-PLACEHOLDER", attachments=attachment, sign=False)
    raw8 = sign_bytes(raw8.replace(b"SUBJECT-PLACEHOLDER", "Conta de energia - referência".encode("latin-1")))
    world.deliver(encoded, raw8)
    world.poll()
    first, second = sorted(_messages(world), key=lambda m: m.uid)  # shards: claim order is not UID order
    assert first.subject == "Sua fatura está disponível"
    assert second.subject == "Conta de energia - referência"
    assert sorted([first.stage, second.stage]) == ["duplicate", "parsed"]  # the same bill twice


def test_a_missing_date_header_is_fine(world):
    unit = world.add_unit(1)
    generated = bill(unit.installation, "2026-10")
    raw = plain_message(unit.inbox_address, date=False,
                        attachments=[(generated.pdf, "application/pdf", generated.filename, "attachment")])
    message = _one(world, raw)
    assert message.stage == "parsed" and message.sent_date is None


def test_a_changed_uidvalidity_reprocesses_without_a_second_bill_or_forward(world):
    unit = world.add_unit(1)
    world.deliver(bill_message(unit.inbox_address, unit.installation, "2026-09"))
    world.poll()
    # the mailbox is rebuilt: the settled message comes back to INBOX under a new UIDVALIDITY, with a new one
    with world.dovecot.mailbox(USER) as box:
        box.folder.set("Processed")
        box.move(box.uids(), "INBOX")
    before = world.dovecot.mailbox(USER)
    with before as box:
        old_validity = box.folder.status("INBOX")["UIDVALIDITY"]
    world.dovecot.recreate_inbox(USER)
    world.deliver(bill_message(unit.inbox_address, unit.installation, "2026-10"))
    with world.dovecot.mailbox(USER) as box:
        assert box.folder.status("INBOX")["UIDVALIDITY"] != old_validity
    world.poll()
    stages = [m.stage for m in _messages(world)]
    assert stages == ["parsed", "duplicate", "parsed"] or stages == ["parsed", "parsed", "duplicate"]
    assert len(_invoices(world)) == 2 and len(world.smtp.messages) == 2
    assert world.counts()["INBOX"] == 0


def test_one_pass_survives_every_bad_message_and_still_handles_the_good_one(world):
    unit = world.add_unit(1)
    good = bill_message(unit.inbox_address, unit.installation, "2026-10")
    world.deliver(plain_message(unit.inbox_address),
                  plain_message(unit.inbox_address, attachments=[(b"%PDF-1.4 junk", "application/pdf", "x.pdf",
                                                                  "attachment")]),
                  bill_message("nobody@faturas.example.com", unit.installation, "2026-09"),
                  bill_message(unit.inbox_address, unit.installation, "2026-08", key=generate_dkim_key()),
                  good)
    report = world.poll()
    assert report.outcomes == {"no_bill": 1, "unreadable": 1, "unroutable": 1, "dkim_failed": 1, "parsed": 1}
    assert world.counts() == {"INBOX": 0, "Processed": 1, "Quarantine": 4}
    assert len(world.smtp.messages) == 1
