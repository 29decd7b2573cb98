"""The generic extractor: a bill in a layout no parser knows still gives its amount, due date and payee."""

from __future__ import annotations

from decimal import Decimal

from processor.parse.cemig import parse_cemig
from processor.parse.generic import extract, names_utility
from tests.processor.parse.test_cemig_2026 import GREEN, LINHA, UC

# The green design's blocks shuffled and relabelled: no header triple, no payment stub row.
SHUFFLED = "\n".join(reversed(GREEN.replace("SET/2026 17/10/2026 55,41\n", "")
                              .replace("000049979842 2.777.942.018-25 17/10/2026 R$ 55,41\n", "")
                              .split("\n"))) + "\nMês de referência: SET/2026\nVence em 17/10/2026\nTotal R$ 55,41\n"


def test_an_unknown_layout_of_the_utility_gives_amount_due_date_month_and_uc_with_their_sources():
    try:
        parse_cemig(SHUFFLED)
        raise AssertionError("the layout parser must not accept the shuffled text")
    except Exception as exc:  # noqa: BLE001 - any parser error: the point is that it refuses
        assert "cemig-2026" in str(exc)
    assert names_utility(SHUFFLED, "cemig")
    bill = extract(SHUFFLED, utility="cemig")
    assert bill.layout == "generic"
    assert (bill.amount_due, bill.due_date, bill.reference_month, bill.uc_code) == (
        "55.41", "2026-10-17", "2026-09", UC)
    assert bill.barcode == LINHA.replace("-", "").replace(" ", "")
    assert bill.sources == {"barcode": "linha_digitavel", "amount_due": "linha_digitavel", "due_date": "label",
                            "reference_month": "label", "uc_code": "shape"}
    assert bill.checks == {"barcode_check_digits": True, "payee_is_utility": True, "barcode_amount_printed": True,
                           "required_fields_present": True}


def test_a_barcode_for_another_payee_a_mistyped_one_or_an_amount_not_printed_is_flagged():
    from simulator.bills.codes import arrecadacao_barcode, format_linha_digitavel, linha_digitavel

    other = format_linha_digitavel(linha_digitavel(arrecadacao_barcode(
        amount=Decimal("55.41"), free_field="0034207996293200049979842", company="0999")))
    payee = extract(SHUFFLED.replace(LINHA, other), utility="cemig")
    assert payee.amount_due == "55.41" and payee.checks["payee_is_utility"] is False
    mistyped = extract(SHUFFLED.replace(LINHA, LINHA.replace("55410138", "55410139")), utility="cemig")
    assert mistyped.barcode is None and mistyped.amount_due is None and "amount_due" not in mistyped.sources
    assert mistyped.checks["required_fields_present"] is False
    unprinted = extract(SHUFFLED.replace("55,41", "55,40"), utility="cemig")
    assert unprinted.amount_due == "55.41" and unprinted.checks["barcode_amount_printed"] is False


def test_another_utilitys_page_is_not_the_utilitys():
    assert not names_utility("ENEL DISTRIBUICAO SAO PAULO\nConta de energia\nVencimento 10/10/2026", "cemig")
    bill = extract("Vencimento 10/10/2026\nVencimento 11/10/2026", utility="cemig")
    assert bill.due_date is None  # two different due dates: no answer
