"""The review screen: bills waiting for a person are confirmed or corrected, validated in pt-BR, per integrator."""

from __future__ import annotations

import re
from decimal import Decimal

from sqlmodel import select

from storage.engine import session_scope
from storage.mail_models import Forward, Invoice
from storage.models import Unit
from tests.web.conftest import csrf_of
from tests.web.review_bills import store_for_review


def _form(page_html: str) -> dict[str, str]:
    """The review form's inputs as the page shows them."""
    form = page_html[page_html.index('action="/faturas/'):]
    return {name: value for name, value in re.findall(r'<input id="f-[a-z_]+" name="([a-z_]+)" value="([^"]*)"', form)}


def _invoice(web, invoice_id: int) -> Invoice:
    with session_scope(web.app.engine) as session:
        invoice = session.get(Invoice, invoice_id)
        session.expunge(invoice)
        return invoice


def test_a_review_item_is_listed_shown_with_its_sources_and_confirmed_into_the_report(web):
    owner = web.user("dona@example.com")
    unit_id = web.unit(owner, 1)
    invoice_id, truth = store_for_review(web.app, unit_id)
    client = web.login("dona@example.com")

    listing = client.get("/revisao")
    assert listing.status_code == 200 and f'href="/faturas/{invoice_id}/revisao"' in listing.text
    assert "Modelo de fatura desconhecido" in listing.text
    screen = client.get(f"/faturas/{invoice_id}/revisao")
    assert screen.status_code == 200
    assert re.search(r'data-source="amount_due">código de barras \(linha digitável\)<', screen.text)
    assert re.search(r'data-source="due_date">rótulo impresso na fatura<', screen.text)
    assert re.search(r'data-source="consumption_kwh">não encontrado<', screen.text)
    image = client.get(f"/faturas/{invoice_id}/pagina.png")
    assert image.status_code == 200 and image.content.startswith(b"\x89PNG") and len(image.content) > 5000
    shown = _form(screen.text)
    assert shown["amount_due"] == truth.amount_due.replace(".", ",")
    assert shown["due_date"] == "/".join(reversed(truth.due_date.split("-")))
    assert shown["reference_month"] == "11/2026"

    confirmed = client.post(f"/faturas/{invoice_id}/revisao",
                            data={**shown, "consumption_kwh": truth.consumption_kwh, "csrf_token": csrf_of(screen)})
    assert confirmed.status_code == 303, confirmed.text
    invoice = _invoice(web, invoice_id)
    assert invoice.status == "parsed" and invoice.review_reasons == []
    assert invoice.reviewed_by == "dona@example.com" and invoice.reviewed_at is not None
    assert invoice.amount_due == Decimal(truth.amount_due)
    assert invoice.consumption_kwh == Decimal(truth.consumption_kwh)
    assert invoice.data["sources"]["consumption_kwh"] == "review"
    assert invoice.data["sources"]["amount_due"] == "linha_digitavel"  # confirmed, not changed
    with session_scope(web.app.engine) as session:
        assert session.get(Unit, unit_id).uc_code == truth.uc_code  # learnt from the confirmed bill
    assert f'href="/faturas/{invoice_id}/revisao"' not in client.get("/revisao").text
    report = client.get(f"/unidades/{unit_id}/relatorio")
    amount_br = truth.amount_due.replace(".", ",")
    assert amount_br in report.text
    # Reviewed: the screen shows the figures and who confirmed them, and a second submission is refused.
    again = client.get(f"/faturas/{invoice_id}/revisao")
    assert "Revisada por dona@example.com" in again.text and "Confirmar campos" not in again.text
    assert client.post(f"/faturas/{invoice_id}/revisao",
                       data={**shown, "csrf_token": csrf_of(again)}).status_code == 404


def test_corrections_are_validated_with_pt_br_messages_and_nothing_is_saved(web):
    owner = web.user("dona@example.com")
    unit_id = web.unit(owner, 1)
    invoice_id, truth = store_for_review(web.app, unit_id)
    client = web.login("dona@example.com")
    screen = client.get(f"/faturas/{invoice_id}/revisao")
    shown = _form(screen.text)
    token = csrf_of(screen)

    cases = [
        ({"due_date": "31/02/2026"}, "Vencimento inválido: use DD/MM/AAAA"),
        ({"due_date": "10/06/2027"}, "O vencimento deve cair no mês de referência"),
        ({"amount_due": "cento e dez"}, "Valor inválido: use reais e centavos"),
        ({"amount_due": "1,234"}, "Valor inválido: use reais e centavos"),
        ({"amount_due": "999,99"}, "O valor difere do código de barras da fatura"),
        ({"installation": "12345"}, "Nº da instalação inválido: use os 10 dígitos"),
        ({"installation": "3999999999"}, "não é a desta unidade (3000000001)"),
        ({"installation": "", "uc_code": ""}, "Informe o nº da instalação ou o código da Unidade Consumidora"),
        ({"uc_code": "12.34"}, "Código da Unidade Consumidora inválido"),
        ({"reference_month": "13/2026"}, "Mês de referência inválido: use MM/AAAA"),
        ({"reference_month": "01/2099"}, "O mês de referência está no futuro"),
        ({"consumption_kwh": "-5"}, "Energia inválida"),
    ]
    for change, message in cases:
        refused = client.post(f"/faturas/{invoice_id}/revisao", data={**shown, **change, "csrf_token": token})
        assert refused.status_code == 422, change
        assert message in refused.text, (change, refused.text[-2000:])
        assert 'aria-invalid="true"' in refused.text
        for name, value in change.items():  # what was typed comes back for correction
            assert f'name="{name}" value="{value}"' in refused.text
    invoice = _invoice(web, invoice_id)
    assert invoice.status == "needs_review" and invoice.reviewed_by is None
    assert invoice.amount_due == Decimal(truth.amount_due)

    no_csrf = client.post(f"/faturas/{invoice_id}/revisao", data=shown)
    assert no_csrf.status_code == 403 and _invoice(web, invoice_id).status == "needs_review"


def test_a_bill_kept_back_by_a_check_is_corrected_then_forwarded_once(web):
    owner = web.user("dona@example.com")
    unit_id = web.unit(owner, 1)
    # A 2026-10 bill printing another installation: never forwarded while it waits.
    invoice_id, truth = store_for_review(web.app, unit_id, cycle="2026-10", other_installation="3000000099")
    with session_scope(web.app.engine) as session:
        assert session.exec(select(Forward).where(Forward.invoice_id == invoice_id)).all() == []
    client = web.login("dona@example.com")
    screen = client.get(f"/faturas/{invoice_id}/revisao")
    shown = _form(screen.text)
    assert "A instalação impressa na fatura não é a desta unidade" in screen.text
    corrected = client.post(f"/faturas/{invoice_id}/revisao",
                            data={**shown, "installation": "3000000001", "uc_code": "", "reference_month": "2026-10",
                                  "csrf_token": csrf_of(screen)})
    assert corrected.status_code == 303, corrected.text
    invoice = _invoice(web, invoice_id)
    assert invoice.status == "parsed" and invoice.installation == "3000000001"
    assert invoice.data["installation"] == "3000000001" and invoice.data["sources"]["installation"] == "review"
    with session_scope(web.app.engine) as session:
        forwards = session.exec(select(Forward).where(Forward.invoice_id == invoice_id)).all()
        assert [f.recipient for f in forwards] == ["cliente1@example.com"] and forwards[0].status == "pending"


def test_a_bill_paying_someone_else_cannot_be_confirmed(web):
    owner = web.user("dona@example.com")
    unit_id = web.unit(owner, 1)
    invoice_id, _ = store_for_review(web.app, unit_id)
    with session_scope(web.app.engine) as session:
        invoice = session.get(Invoice, invoice_id)
        invoice.data = {**invoice.data, "checks": {**invoice.data["checks"], "payee_is_utility": False}}
        session.add(invoice)
    client = web.login("dona@example.com")
    screen = client.get(f"/faturas/{invoice_id}/revisao")
    assert "paga outra empresa" in screen.text and "Confirmar campos" not in screen.text
    refused = client.post(f"/faturas/{invoice_id}/revisao", data={"amount_due": "1,00", "csrf_token": csrf_of(screen)})
    assert refused.status_code == 422 and "possível fraude" in refused.text
    assert _invoice(web, invoice_id).status == "needs_review"


def test_an_integrator_sees_and_reviews_only_its_own_bills(web):
    owner = web.user("dona@example.com")
    web.user("outra@example.com")
    invoice_id, _ = store_for_review(web.app, web.unit(owner, 1))
    other = web.login("outra@example.com")
    listing = other.get("/revisao")
    assert listing.status_code == 200 and "Nenhuma fatura aguardando revisão" in listing.text
    assert other.get(f"/faturas/{invoice_id}/revisao").status_code == 404
    assert other.get(f"/faturas/{invoice_id}/pagina.png").status_code == 404
    token = csrf_of(listing)
    posted = other.post(f"/faturas/{invoice_id}/revisao", data={"amount_due": "1,00", "csrf_token": token})
    assert posted.status_code == 404
    assert _invoice(web, invoice_id).status == "needs_review"
    anonymous = web.client()
    assert anonymous.get(f"/faturas/{invoice_id}/pagina.png").status_code in (401, 303)


def test_a_bill_whose_pix_pays_someone_else_cannot_be_confirmed(web):
    from config.wiring import blob_store
    from processor.bill import read_bill
    from processor.store import store_bill
    from processor.types import UnlockedPdf
    from storage.models import Unit
    from tests.processor.test_payee import FRAUD_KEY, _forged

    owner = web.user("dona@example.com")
    unit_id = web.unit(owner, 1)
    forged = _forged("3000000001", "2026-11", pix_key=FRAUD_KEY)
    with session_scope(web.app.engine) as session:
        unit = session.get(Unit, unit_id)
        read = read_bill(UnlockedPdf(filename="f.pdf", original=forged.pdf, readable=forged.plain_pdf),
                         utility="cemig", installations=[unit.installation], uc_code_known=False)
        invoice_id = store_bill(session=session, blobs=blob_store(web.app), unit=unit, read=read, source="email",
                                mail_message_id=None).invoice_id
    client = web.login("dona@example.com")
    screen = client.get(f"/faturas/{invoice_id}/revisao")
    assert "QR code Pix paga outra pessoa" in screen.text and "Confirmar campos" not in screen.text
    refused = client.post(f"/faturas/{invoice_id}/revisao", data={"amount_due": "1,00", "csrf_token": csrf_of(screen)})
    assert refused.status_code == 422 and "possível fraude" in refused.text
    assert _invoice(web, invoice_id).status == "needs_review"
    with session_scope(web.app.engine) as session:
        assert session.exec(select(Forward).where(Forward.invoice_id == invoice_id)).all() == []
