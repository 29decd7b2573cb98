"""The green 2026 CEMIG design on synthetic texts: labels that are images, so values are read by their shape.

No PDF of the green design is public (reference cemig-bill-layout.md §8). These texts put together every
public fact of §5.1 and §5.3: the dotted UC with leading zeros dropped, GD I + GD II rows in one bill,
`Energia Injetada` meter rows, `Custo de Disponibilidade` and its `Ajuste`, the MAI/2026 names
(`Energia compensada ISENTA`, `Compensação GD I/II`), glued meter rows, item rows without `kWh`, and the
debts notice, with the section labels missing as if they were images. Names and numbers are made up; the
linha digitável and the access key carry correct check digits (built with the simulator's codes).
"""

from __future__ import annotations

import pytest

from processor.parse.cemig import parse_cemig
from processor.parse.cemig.meters import split_glued
from processor.parse.checks import checks_passed
from processor.parse.errors import BillUnparseable

ISSUER = "CEMIG DISTRIBUIÇÃO S.A. CNPJ 06.981.180/0001-16 / INSC. ESTADUAL 062.322136.0087."
KEY = "31260906981180000116660004290497751012345674"
LINHA = "83620000000-5 55410138003-4 42079962932-4 00049979842-9"

ITEMS = """Custo de Disponibilidade 1,17263918 117,25 3,94 117,25 18,00 21,10 0,92214000
Energia SCEE ISENTA kWh 1.112 0,61234567 680,93 0,00 0,00 0,00 0,00 0,61234567
Energia compensada GD I kWh 600 0,61234567 -367,41 0,00 0,00 0,00 0,00 0,61234567
Energia compensada GD II kWh 512 0,61234567 -313,52 0,00 0,00 0,00 0,00 0,61234567
Ajuste Custo Disponibilidade -92,21 0,00 0,00 0,00 0,00 0,92214000
Contrib Ilum Publica Municipal 30,37
TOTAL 55,41 3,94 117,25 21,10"""

METERS = """Energia kWh PRB212101622 4.149 5.361 1 1.212
Energia Injetada PRB212101622 919 1.911 1 992"""

HISTORY = "\n".join(
    f"{month} {kwh} {avg} {days}" for month, kwh, avg, days in [
        ("SET/26", "1.212", "37,87", 32), ("AGO/26", "1.180", "38,06", 31), ("JUL/26", "1.096", "35,35", 31),
        ("JUN/26", "1.020", "34,00", 30), ("MAI/26", "990", "31,93", 31), ("ABR/26", "1.005", "33,50", 30),
        ("MAR/26", "1.150", "37,09", 31), ("FEV/26", "1.210", "43,21", 28), ("JAN/26", "1.260", "40,64", 31),
        ("DEZ/25", "1.240", "40,00", 31), ("NOV/25", "1.190", "39,66", 30), ("OUT/25", "1.160", "37,41", 31),
    ])

GREEN = f"""MARIA EXEMPLO DA SILVA
RUA DAS FLORES 100
CENTRO
30000-000 BELO HORIZONTE, MG
CPF 123.4**.***-**
2.777.942.018-25
SET/2026 17/10/2026 55,41
NOTA FISCAL Nº 429049775 - SÉRIE 000
Data de emissão:14/09/2026
chave de acesso:
{KEY}
Residencial Residencial Convencional B1
Bifásico 13/08 14/09 32 12/10
{METERS}
{ITEMS}
Bandeira Amarela - Já Incluído no valor a pagar 1,22
{HISTORY}
NOTIFICAÇÃO DE DÉBITO(S)
Até 14/09/2026 constava(m) o(s) seguinte(s) débito(s):
08/2026 283,01 30/09/2026
SALDO ATUAL DE GERAÇÃO: 457,85 kWh. Unidade faz parte de sistema de compensação de energia.
AGO/26 Band. Verde - SET/26 Band. Amarela.
ICMS 117,25 18,00 21,10
PASEP 117,25 0,63 0,74
COFINS 117,25 2,73 3,20
000049979842 2.777.942.018-25 17/10/2026 R$ 55,41
Setembro/2026 {LINHA}
DOCUMENTO AUXILIAR DA NOTA FISCAL DE ENERGIA ELÉTRICA ELETRÔNICA
{ISSUER}
"""

UC = "000277794201825"


def test_the_green_design_is_read_by_the_shape_of_its_values():
    bill = parse_cemig(GREEN)
    assert bill.layout == "cemig-2026"
    assert (bill.installation, bill.customer_number, bill.uc_code) == (None, None, UC)
    assert (bill.reference_month, bill.due_date, bill.amount_due) == ("2026-09", "2026-10-17", "55.41")
    assert (bill.invoice_number, bill.series, bill.issue_date, bill.access_key) == (
        "429049775", "000", "2026-09-14", KEY)
    assert bill.holder_name == "MARIA EXEMPLO DA SILVA"
    assert (bill.tariff_class, bill.tariff_subclass, bill.tariff_modality, bill.supply_type) == (
        "Residencial", "Residencial", "Convencional B1", "bifasico")
    assert bill.reading.model_dump() == {"previous": "2026-08-13", "current": "2026-09-14", "days": 32,
                                         "next": "2026-10-12"}
    assert bill.meter.model_dump() == {"id": "PRB212101622", "previous": "4149", "current": "5361",
                                       "multiplier": "1"}
    assert bill.consumption_kwh == "1212"
    assert bill.injection is not None and bill.injection.model_dump() == {
        "id": "PRB212101622", "previous": "919", "current": "1911", "multiplier": "1", "kwh": "992"}
    assert [item.description for item in bill.items] == [
        "Custo de Disponibilidade", "Energia SCEE ISENTA", "Energia compensada GD I", "Energia compensada GD II",
        "Ajuste Custo Disponibilidade", "Contrib Ilum Publica Municipal"]
    assert bill.items[0].model_dump() == {"description": "Custo de Disponibilidade", "unit": None,
                                          "quantity": None, "unit_price": "1.17263918", "amount": "117.25"}
    assert bill.items[4].amount == "-92.21" and bill.items_total == "55.41"
    assert bill.scee is not None and bill.scee.model_dump() == {
        "energy_kwh": "1112", "compensated_kwh": "1112", "credit_balance_kwh": "457.85"}
    assert [(entry.month, entry.kwh, entry.days) for entry in bill.history[:2]] == [
        ("2026-09", "1212", 32), ("2026-08", "1180", 31)]
    assert len(bill.history) == 12
    assert [(flag.month, flag.flag) for flag in bill.flags] == [("2026-08", "verde"), ("2026-09", "amarela")]
    assert bill.taxes["icms"].value == "21.10" and bill.taxes["pis"].rate == "0.63"
    assert [debt.model_dump() for debt in bill.debts] == [
        {"month": "2026-08", "amount": "283.01", "cut_off_date": "2026-09-30"}]
    assert bill.automatic_debit_code == "000049979842"
    assert bill.barcode == LINHA.replace("-", "").replace(" ", "")
    assert bill.checks and all(bill.checks.values()), bill.checks
    assert checks_passed(bill, expected_installation=UC)
    assert checks_passed(bill, expected_installation="2.777.942.018-25")
    assert not checks_passed(bill, expected_installation="2777942018")  # the sequential part is no installation


def test_the_may_2026_item_names_count_as_scee_energy_and_compensation():
    text = (GREEN.replace("Energia SCEE ISENTA", "Energia compensada ISENTA")
            .replace("Energia compensada GD II", "Compensação GD II")
            .replace("Energia compensada GD I ", "Compensação GD I "))
    bill = parse_cemig(text)
    assert [item.description for item in bill.items][1:4] == [
        "Energia compensada ISENTA", "Compensação GD I", "Compensação GD II"]
    assert bill.scee is not None and (bill.scee.energy_kwh, bill.scee.compensated_kwh) == ("1112", "1112")
    assert all(bill.checks.values())


def test_item_rows_printed_without_kwh_keep_their_quantity():
    bill = parse_cemig(GREEN.replace(" kWh 1.112 ", " 1.112 ").replace(" kWh 600 ", " 600 ")
                       .replace(" kWh 512 ", " 512 "))
    rows = {item.description: item for item in bill.items}
    assert rows["Energia SCEE ISENTA"].model_dump() == {
        "description": "Energia SCEE ISENTA", "unit": None, "quantity": "1112", "unit_price": "0.61234567",
        "amount": "680.93"}
    assert rows["Energia compensada GD II"].quantity == "512"
    assert bill.scee is not None and bill.scee.compensated_kwh == "1112"
    assert all(bill.checks.values())


def test_glued_meter_rows_are_split_by_their_arithmetic():
    glued = GREEN.replace(METERS, "Energia kWhPRB2121016224.1495.36111.212\nEnergia InjetadaPRB2121016229191.9111992")
    bill = parse_cemig(glued)
    assert (bill.meter.id, bill.meter.previous, bill.meter.current, bill.meter.multiplier) == (
        "PRB212101622", "4149", "5361", "1")
    assert bill.consumption_kwh == "1212"
    assert bill.injection is not None and (bill.injection.previous, bill.injection.current, bill.injection.kwh) == (
        "919", "1911", "992")


@pytest.mark.parametrize(("letters", "digits", "expected"), [
    ("ART", "2304163896.3386.6411303", ("ART230416389", "6338", "6641", "1", "303")),  # reference §5.3
    ("BPC", "22820335975778540" + "1.120", ("BPC228203359", "757", "785", "40", "1120")),
])
def test_split_glued_meter_rows(letters, digits, expected):
    row = split_glued(letters, digits)
    assert row is not None and (row.id, row.previous, row.current, row.multiplier, row.kwh) == expected


def test_a_glued_row_that_fits_two_readings_is_not_guessed():
    # "111110" cuts as 1 11 1 10 and as 11 11 1 0: both true, so neither is taken.
    assert split_glued("ABC", "123456789" + "111110") is None
    assert split_glued("ABC", "123456789") is None  # no readings at all


def test_classification_cells_one_per_line_and_glued_reading_dates():
    text = GREEN.replace("Residencial Residencial Convencional B1\nBifásico 13/08 14/09 32 12/10",
                         "Comercial\nConvencional B3\nTrifásico\ne outras atividades\n13/0814/09 3212/10")
    bill = parse_cemig(text)
    assert (bill.tariff_class, bill.tariff_subclass, bill.tariff_modality, bill.supply_type) == (
        "Comercial", None, "Convencional B3", "trifasico")
    assert (bill.reading.previous, bill.reading.current, bill.reading.days, bill.reading.next) == (
        "2026-08-13", "2026-09-14", 32, "2026-10-12")


def test_reading_dates_whose_days_do_not_fit_are_not_taken():
    bill = parse_cemig(GREEN.replace("13/08 14/09 32 12/10", "13/08 14/09 12 12/10"))
    assert bill.reading.model_dump() == {"previous": None, "current": None, "days": None, "next": None}


def test_a_consolidated_block_that_prints_month_due_date_and_total_apart():
    text = GREEN.replace("SET/2026 17/10/2026 55,41\n", "Total a pagar\nR$ 55,41\nVence em\n17/10/2026\n")
    bill = parse_cemig(text)
    assert (bill.reference_month, bill.due_date, bill.amount_due) == ("2026-09", "2026-10-17", "55.41")
    assert bill.checks["footer_matches_header"] is True


def test_the_uc_label_wins_and_two_different_unlabelled_uc_codes_are_no_answer():
    labelled = GREEN.replace("CPF 123.4**.***-**\n2.777.942.018-25", "CPF 123.4**.***-**\nN.º DA UNIDADE "
                             "CONSUMIDORA 2.777.942.018-25\n9.019.799.018-64")
    assert parse_cemig(labelled).uc_code == UC
    ambiguous = GREEN.replace("CPF 123.4**.***-**\n2.777.942.018-25", "CPF 123.4**.***-**\n9.019.799.018-64")
    bill = parse_cemig(ambiguous)  # the header says 9.019.799.018-64, the stub 2.777.942.018-25
    assert bill.uc_code is None and bill.checks["required_fields_present"] is False
    assert bill.checks["footer_matches_header"] is False


def test_without_the_total_row_the_bill_still_parses_and_needs_review():
    bill = parse_cemig(GREEN.replace("TOTAL 55,41 3,94 117,25 21,10\n", ""))
    assert bill.items == [] and bill.checks["items_sum_matches_total"] is False
    assert not checks_passed(bill)


def test_a_green_bill_without_month_due_date_or_total_is_unparseable():
    text = GREEN.replace("SET/2026 17/10/2026 55,41\n", "").replace("000049979842 2.777.942.018-25 17/10/2026 "
                                                                     "R$ 55,41\n", "")
    with pytest.raises(BillUnparseable, match="cemig-2026"):
        parse_cemig(text)
