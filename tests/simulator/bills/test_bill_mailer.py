"""The Conta Digital mailer against a real SMTP server (aiosmtpd on loopback), and DKIM."""

from __future__ import annotations

import email
import email.policy
import io
import socket
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from aiosmtpd.controller import Controller
from pypdf import PdfReader

from simulator.bills.formats import br_date, br_number
from simulator.bills.generator import generate_bill
from simulator.mailer import (
    BillMailerError,
    DkimKey,
    build_bill_message,
    dkim_verify,
    generate_dkim_key,
    send_cycle,
)
from tests.simulator.bills.bill_profiles import GD_COMPANY, GD_HOME, PLAIN_HOME, PROFILES

NOW = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    content: bytes


@dataclass
class CollectingHandler:
    messages: list[Received] = field(default_factory=list)

    async def handle_DATA(self, server, session, envelope) -> str:  # noqa: N802 - aiosmtpd's hook name
        self.messages.append(Received(envelope.mail_from, list(envelope.rcpt_tos), envelope.original_content))
        return "250 Message accepted for delivery"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def dkim_key() -> DkimKey:
    return generate_dkim_key("contadigital", "cemig.com.br")


@pytest.fixture
def smtp_server() -> Iterator[tuple[Controller, CollectingHandler]]:
    handler = CollectingHandler()
    controller = Controller(handler, hostname="127.0.0.1", port=_free_port())
    controller.start()
    try:
        yield controller, handler
    finally:
        controller.stop()


@pytest.mark.integration
def test_cycle_delivers_one_dkim_valid_bill_per_enrolled_profile(smtp_server, dkim_key) -> None:
    controller, handler = smtp_server
    report = send_cycle(
        PROFILES, "2026-11", smtp_host=controller.hostname, smtp_port=controller.port, dkim_key=dkim_key, now=NOW
    )

    assert report.not_enrolled == (PLAIN_HOME.installation,)
    assert [d.recipient for d in report.sent] == [GD_COMPANY.email, GD_HOME.email]
    assert report.failed == ()
    assert sorted(r for m in handler.messages for r in m.rcpt_tos) == sorted([GD_COMPANY.email, GD_HOME.email])
    assert len(handler.messages) == 2
    dns = {f"{dkim_key.selector}._domainkey.{dkim_key.domain}": dkim_key.dns_txt}
    for received, profile in zip(handler.messages, (GD_COMPANY, GD_HOME), strict=True):
        assert received.rcpt_tos == [profile.email]
        assert received.mail_from == "contadigital@cemig.com.br"
        assert dkim_verify(received.content, dns)
        message = email.message_from_bytes(received.content, policy=email.policy.default)
        assert "d=cemig.com.br" in message["DKIM-Signature"] and "s=contadigital" in message["DKIM-Signature"]
        assert message["To"] == profile.email
        assert message["From"].addresses[0].addr_spec == "contadigital@cemig.com.br"
        assert message["Subject"] == (
            f"Sua conta de energia CEMIG - Instalação {profile.installation} - Referência NOV/2026"
        )
        assert message["Message-ID"].endswith("@cemig.com.br>")
        assert message["Date"].datetime == NOW
        expected = generate_bill(profile, "2026-11")
        text = message.get_body(("plain",)).get_content()
        html = message.get_body(("html",)).get_content()
        amount = br_number(Decimal(expected.bill.amount_due))
        due = br_date(date.fromisoformat(expected.bill.due_date))
        for body in (text, html):
            assert expected.linha_digitavel in body
            assert f"R$ {amount}" in body
            assert "Vencimento" in body and due in body
        attachments = list(message.iter_attachments())
        assert len(attachments) == 1
        attachment = attachments[0]
        assert attachment.get_content_type() == "application/pdf"
        assert attachment.get_filename() == f"Conta_CEMIG_{expected.bill.uc_code}_NOV2026.pdf"  # 2026: the UC
        pdf = attachment.get_content()
        reader = PdfReader(io.BytesIO(pdf))
        if profile.pdf_password:
            assert reader.is_encrypted
            reader.decrypt(profile.pdf_password)
        else:
            assert pdf == expected.plain_pdf
        assert expected.bill.access_key in reader.pages[0].extract_text()


@pytest.mark.integration
def test_tampered_message_fails_dkim(smtp_server, dkim_key) -> None:
    controller, handler = smtp_server
    send_cycle(
        [GD_COMPANY], "2026-11", smtp_host=controller.hostname, smtp_port=controller.port, dkim_key=dkim_key, now=NOW
    )
    (received,) = handler.messages
    dns = {f"{dkim_key.selector}._domainkey.{dkim_key.domain}": dkim_key.dns_txt}
    assert dkim_verify(received.content, dns)
    amount = br_number(Decimal(generate_bill(GD_COMPANY, "2026-11").bill.amount_due)).encode()
    assert amount in received.content
    assert not dkim_verify(received.content.replace(amount, b"1,00", 1), dns)
    assert not dkim_verify(received.content.replace(b"Subject: Sua conta", b"Subject: Sua fatura", 1), dns)
    other = generate_dkim_key("contadigital", "cemig.com.br")
    assert not dkim_verify(received.content, {"contadigital._domainkey.cemig.com.br": other.dns_txt})
    assert not dkim_verify(received.content, {})


@pytest.mark.integration
def test_unreachable_server_is_a_mailer_error(dkim_key) -> None:
    with pytest.raises(BillMailerError):
        send_cycle([GD_COMPANY], "2026-11", smtp_host="127.0.0.1", smtp_port=_free_port(), dkim_key=dkim_key, timeout=2)


def test_built_message_survives_serialisation_and_is_unsigned_without_key(dkim_key) -> None:
    bill = generate_bill(GD_COMPANY, "2026-11")
    signed = build_bill_message(GD_COMPANY, bill, dkim_key=dkim_key, now=NOW)
    dns = {dkim_key.record_name: dkim_key.dns_txt}
    assert dkim_verify(signed.as_bytes(policy=email.policy.SMTP), dns)
    unsigned = build_bill_message(GD_COMPANY, bill, now=NOW)
    assert unsigned["DKIM-Signature"] is None
    assert not dkim_verify(unsigned.as_bytes(policy=email.policy.SMTP), dns)


def test_profiles_without_email_and_foreign_keys_are_refused(dkim_key) -> None:
    with pytest.raises(ValueError, match="not enrolled"):
        build_bill_message(PLAIN_HOME, generate_bill(PLAIN_HOME, "2026-11"))
    with pytest.raises(ValueError, match="DKIM key"):
        build_bill_message(
            GD_COMPANY, generate_bill(GD_COMPANY, "2026-11"), dkim_key=dkim_key, sender="Faturas <bills@example.org>"
        )


def test_dkim_key_never_shows_its_private_half(dkim_key) -> None:
    # (the PEM header is split so no committed line looks like a key to secret scanners)
    assert dkim_key.private_key_pem.startswith(b"-----BEGIN RSA " + b"PRIVATE KEY-----")
    assert "PRIVATE" not in repr(dkim_key)
    assert dkim_key.dns_txt.startswith("v=DKIM1; k=rsa; p=")


def test_bill_command_runs_a_cycle_for_enrolled_installations_only(smtp_server, simulator, tmp_path, capsys) -> None:
    from cli.main import build_app
    from cli.support import run_app

    controller, handler = smtp_server
    enrolled = simulator.add_customer(email="uc-3000055479-abcd@faturas.example.com", installations=())
    simulator.admin.add_installation(enrolled.id, "3000055479", enrolled=True)
    simulator.add_customer(name="Outro Cliente", document="529.982.247-25", email="outro@example.com",
                           installations=("3000099999",))
    key_file = tmp_path / "dkim.pem"
    args = ["simulator", "bill", "--cycle", "2026-11", "--smtp-port", str(controller.port), "--url", simulator.url,
            "--admin-token", simulator.admin_token, "--dkim-key", str(key_file)]
    assert run_app(build_app(), args) == 0
    out = capsys.readouterr().out
    assert "cycle 2026-11: 1 sent, 0 refused" in out
    assert [m.rcpt_tos for m in handler.messages] == [["uc-3000055479-abcd@faturas.example.com"]]
    txt = out.split('TXT "', 1)[1].rsplit('"', 1)[0]
    assert dkim_verify(handler.messages[0].content, {"contadigital._domainkey.cemig.com.br": txt})
    assert key_file.stat().st_mode & 0o777 == 0o600
    # The next cycle signs with the same key, so one published record verifies every cycle.
    assert run_app(build_app(), [*args[:3], "2026-12", *args[4:]]) == 0
    assert txt in capsys.readouterr().out
    assert dkim_verify(handler.messages[1].content, {"contadigital._domainkey.cemig.com.br": txt})
