"""The CEMIG parser on synthetic texts: the 2024 layout, layout recognition, odd rows and malformed input.

The texts follow the pypdfium2 reading order of real bills; names, addresses and numbers identifying a
customer are made up. The access key and the linha digitável are from a public bill in the reference.
"""

from __future__ import annotations

import pytest

from processor.parse.cemig import parse_cemig
from processor.parse.cemig.layouts import detect_layout
from processor.parse.cemig.tables import flags, items, taxes
from processor.parse.checks import checks_passed, installation_matches
from processor.parse.errors import BillUnparseable
from processor.parse.registry import PARSERS

ISSUER = "CEMIG DISTRIBUIÇÃO S.A. CNPJ 06.981.180/0001-16 / INSC. ESTADUAL 062.322136.0087."

NF3E_2024 = f"""Valores Faturados
Itens da Fatura Unid. Quant. Preço Unit Valor (R$) PIS/COFINS Base Calc. Aliq. ICMS Tarifa Unit.
ICMS ICMS
Energia Elétrica kWh 100 1,02217946 102,19 3,29 102,19 18,00 18,39 0,80516258
Energia SCEE s/ ICMS kWh 1.020 0,55817466 569,32 22,42 0,00 0,00 0,00 0,53618258
Energia compensada GD I kWh 1.020 0,53618258 -546,90 0,00 0,00 0,00 0,00 0,53618258
Contrib Ilum Publica Municipal 43,19
TOTAL 167,80 25,71 102,19 18,39
Bandeira Amarela - Já Incluído no valor a pagar 0,89
Histórico de Consumo
MÊS/ANO Cons. kWh Média kWh/Dia Dias
AGO/24 1.120 36,12 31
JUL/24 1.600 50,00 32
JUN/24 1.760 56,77 31
MAI/24 2.320 74,83 31
ABR/24 2.440 84,13 29
MAR/24 2.600 89,65 29
FEV/24 2.040 68,00 30
JAN/24 2.400 72,72 33
DEZ/23 2.280 81,42 28
NOV/23 2.360 78,66 30
OUT/23 2.880 87,27 33
SET/23 1.520 52,41 29
AGO/23 1.520 46,06 33
Reservado ao Fisco
Base de cálculo (R$) Alíquota (%) Valor (R$)
ICMS 102,19 18,00 18,39
PASEP 653,12 0,70 4,56
COFINS 653,12 3,24 21,15
Fale com CEMIG: 116 - CEMIG Torpedo 29810 - Ouvidoria CEMIG: 0800 728 3838
Código de Débito Automático Instalação Vencimento Total a pagar
008128696724 3000000001 09/09/2024 R$167,80
Agosto/2024 83630000001-2 67800138006-5 00947330133-2 08128696724-5
EMPRESA EXEMPLO LTDA
RUA DAS FLORES 100
CENTRO
30000-000 BELO HORIZONTE, MG
CNPJ 11.222.3**/****-**
 Nº DO CLIENTE Nº DA INSTALAÇÃO
 7000000001 3000000001
 Referente a Vencimento Valor a pagar (R$)
 AGO/2024 09/09/2024 167,80
NOTA FISCAL Nº 182588018 - SÉRIE 000
Data de emissão: 23/08/2024
Consulte pela chave de acesso em:
http://www.sped.fazenda.mg.gov.br/spedmg/nf3e
chave de acesso:
31240806981180000116660001825880181088485546
Protocolo de autorização: 1312400198719749
25.08.2024 às 10:49:32
Classe Subclasse Modalidade Tarifária Datas de Leitura
Comercial Outros serviços Convencional B3 Anterior Atual Nº de dias Próxima
Trifásico e outras atividades 22/07 22/08 31 18/09
Informações Técnicas
Tipo de Medição Medição Leitura Leitura Constante Consumo kWh
Anterior Atual de Multiplicação
Energia kWh BPC228203359 757 785 40 1.120
DOCUMENTO AUXILIAR DA NOTA FISCAL DE ENERGIA ELÉTRICA ELETRÔNICA REIMPRESSÃO
{ISSUER}
Informações Gerais
SALDO ATUAL DE GERAÇÃO: 9.062,00 kWh. Tarifa vigente conforme Res Aneel nº 3.328, de 21/05/2024.
Unidade faz parte de sistema de compensação de energia. JUL/24 Band. Amarela - AGO/24 Band. Verde.
"""


def test_the_2024_layout_with_tax_columns():
    bill = parse_cemig(NF3E_2024)
    assert bill.layout == "cemig-nf3e-2024"
    assert (bill.installation, bill.customer_number) == ("3000000001", "7000000001")
    assert (bill.reference_month, bill.due_date, bill.issue_date) == ("2024-08", "2024-09-09", "2024-08-23")
    assert bill.amount_due == bill.items_total == "167.80"
    assert (bill.invoice_number, bill.series) == ("182588018", "000")
    assert bill.access_key == "31240806981180000116660001825880181088485546"
    assert bill.holder_name == "EMPRESA EXEMPLO LTDA"
    assert (bill.supply_type, bill.tariff_class) == ("trifasico", "Comercial")
    assert bill.tariff_subclass == "Outros serviços e outras atividades"
    assert bill.tariff_modality == "Convencional B3"
    assert bill.reading.model_dump() == {
        "previous": "2024-07-22",
        "current": "2024-08-22",
        "days": 31,
        "next": "2024-09-18",
    }
    assert bill.meter.model_dump() == {"id": "BPC228203359", "previous": "757", "current": "785", "multiplier": "40"}
    assert bill.consumption_kwh == "1120"
    assert [(i.description, i.unit, i.quantity, i.unit_price, i.amount) for i in bill.items] == [
        ("Energia Elétrica", "kWh", "100", "1.02217946", "102.19"),
        ("Energia SCEE s/ ICMS", "kWh", "1020", "0.55817466", "569.32"),
        ("Energia compensada GD I", "kWh", "1020", "0.53618258", "-546.90"),
        ("Contrib Ilum Publica Municipal", None, None, None, "43.19"),
    ]
    assert bill.public_lighting == "43.19"
    assert bill.scee is not None
    assert bill.scee.model_dump() == {"energy_kwh": "1020", "compensated_kwh": "1020", "credit_balance_kwh": "9062.00"}
    assert {name: tax.model_dump() for name, tax in bill.taxes.items()} == {
        "icms": {"base": "102.19", "rate": "18.00", "value": "18.39"},
        "pis": {"base": "653.12", "rate": "0.70", "value": "4.56"},
        "cofins": {"base": "653.12", "rate": "3.24", "value": "21.15"},
    }
    assert [(f.month, f.flag) for f in bill.flags] == [("2024-07", "amarela"), ("2024-08", "verde")]
    assert len(bill.history) == 13
    assert (bill.history[0].month, bill.history[0].kwh, bill.history[0].days) == ("2024-08", "1120", 31)
    assert bill.history[-1].month == "2023-08"
    assert bill.barcode == "836300000012678001380065009473301332081286967245"
    assert bill.automatic_debit_code == "008128696724"
    assert bill.checks == {
        "required_fields_present": True,
        "items_sum_matches_total": True,
        "barcode_amount_matches_total": True,
        "barcode_check_digits": True,
        "access_key_check_digit": True,
        "footer_matches_header": True,
    }
    assert checks_passed(bill, expected_installation="3000000001")
    assert not checks_passed(bill, expected_installation="3000000002")


def test_registry_names_the_cemig_parser():
    assert PARSERS["cemig"] is parse_cemig


def test_a_changed_amount_fails_the_cross_checks():
    bill = parse_cemig(NF3E_2024.replace(" AGO/2024 09/09/2024 167,80", " AGO/2024 09/09/2024 176,80"))
    assert bill.checks["items_sum_matches_total"] is False
    assert bill.checks["barcode_amount_matches_total"] is False
    assert bill.checks["footer_matches_header"] is False
    assert not checks_passed(bill)


def test_a_mistyped_barcode_fails_its_check_digits():
    bill = parse_cemig(NF3E_2024.replace("00947330133-2", "00947330134-2"))
    assert bill.checks["barcode_check_digits"] is False
    assert bill.checks["barcode_amount_matches_total"] is True


def test_a_danf3e_without_its_access_key_fails():
    text = NF3E_2024.replace("31240806981180000116660001825880181088485546\n", "")
    bill = parse_cemig(text)
    assert bill.access_key is None
    assert bill.checks["access_key_check_digit"] is False


def test_the_pre_nf3e_layout():
    text = (
        NF3E_2024.replace(
            "NOTA FISCAL Nº 182588018 - SÉRIE 000", "NOTA FISCAL Nº 096069516 - SÉRIE U\nPTA Nº: 45.000014006.81"
        )
        .replace("DOCUMENTO AUXILIAR DA NOTA FISCAL DE ENERGIA ELÉTRICA ELETRÔNICA REIMPRESSÃO", "SEGUNDA VIA")
        .replace("Consulte pela chave de acesso em:\n", "")
        .replace("chave de acesso:\n31240806981180000116660001825880181088485546\n", "")
    )
    bill = parse_cemig(text)
    assert bill.layout == "cemig-pre-nf3e"
    assert (bill.series, bill.access_key) == ("U", None)
    assert "access_key_check_digit" not in bill.checks


def test_without_tax_columns_the_layout_is_2023():
    text = "\n".join(line for line in NF3E_2024.split("\n") if not line.startswith(("ICMS ", "PASEP ", "COFINS ")))
    text = text.replace("TOTAL 167,80 25,71 102,19 18,39", "TOTAL 167,80")
    assert detect_layout(text) == "cemig-nf3e-2023"
    assert parse_cemig(text).taxes == {}


def test_a_bill_without_generation_has_no_scee():
    text = "\n".join(
        line for line in NF3E_2024.split("\n") if "SCEE" not in line and "compensa" not in line and "SALDO" not in line
    )
    assert parse_cemig(text).scee is None


@pytest.mark.parametrize(
    ("row", "expected"),
    [
        ("Bônus Itaipu art 21 Lei 10438 -9,79", ("Bônus Itaipu art 21 Lei 10438", None, None, None, "-9.79")),
        (
            "Juros 1%am sobre conta 09/23 pg 16/10/23 0,19",
            ("Juros 1%am sobre conta 09/23 pg 16/10/23", None, None, None, "0.19"),
        ),
        ("Ass Combt Câncer (37)3512-1528 10,00", ("Ass Combt Câncer (37)3512-1528", None, None, None, "10.00")),
        (
            "Custo de Disponibilidade 1,17263918 117,25 3,94 117,25 18,00 21,10 0,92214000",
            ("Custo de Disponibilidade", None, None, "1.17263918", "117.25"),
        ),
        (
            "Energia injetada HFP kWh 1.671 0,65313000 -1.091,38 0,65313000",
            ("Energia injetada HFP", "kWh", "1671", "0.65313000", "-1091.38"),
        ),
    ],
)
def test_odd_item_rows(row, expected):
    text = f"Itens da Fatura Unid. Quant.\nICMS ICMS\n{row}\nTOTAL 1,00\n"
    rows, total, complete = items(text)
    assert complete and total == "1.00"
    assert [(i.description, i.unit, i.quantity, i.unit_price, i.amount) for i in rows] == [expected]


def test_flags_wrapped_across_lines():
    found = flags("local. AGO/24 Band. Verde - SET/24 Band. Verm.\nP1.\n")
    assert [(f.month, f.flag) for f in found] == [("2024-08", "verde"), ("2024-09", "vermelha_p1")]


def test_installation_matches_ignores_masks_and_leading_zeros():
    bill = parse_cemig(NF3E_2024)
    assert installation_matches(bill, "3000000001")
    assert installation_matches(bill, "000003000000001")
    assert not installation_matches(bill, "3000000002")
    assert not installation_matches(bill, "")


@pytest.mark.parametrize("text", ["", "   \n\f  "])
def test_empty_text(text):
    with pytest.raises(BillUnparseable, match="empty"):
        parse_cemig(text)


def test_a_document_from_another_utility():
    text = (
        "ENEL DISTRIBUIÇÃO SÃO PAULO CNPJ 61.695.227/0001-93\n"
        "NOTA FISCAL/CONTA DE ENERGIA ELÉTRICA Nº 123456\n"
        "Referente a Vencimento Valor a pagar (R$)\nAGO/2024 09/09/2024 167,80\n"
        "Consumo kWh 100\nTOTAL 167,80\n"
    )
    with pytest.raises(BillUnparseable, match="CEMIG") as raised:
        parse_cemig(text)
    assert raised.value.user_message.startswith("A fatura não pôde ser interpretada")


def test_a_document_that_is_no_bill():
    with pytest.raises(BillUnparseable):
        parse_cemig("Relatório anual\nCEMIG DISTRIBUIÇÃO S.A. publica seus resultados.\n")


@pytest.mark.parametrize("fraction", [0.25, 0.5, 0.75])
def test_truncated_text(fraction):
    lines = NF3E_2024.split("\n")
    with pytest.raises(BillUnparseable):
        parse_cemig("\n".join(lines[: int(len(lines) * fraction)]))


def test_text_missing_its_items_table_parses_but_needs_review():
    start, end = NF3E_2024.index("Itens da Fatura"), NF3E_2024.index("Bandeira Amarela")
    bill = parse_cemig(NF3E_2024[:start] + NF3E_2024[end:])
    assert bill.items == []
    assert bill.checks["items_sum_matches_total"] is False
    assert not checks_passed(bill)


REDESIGN_2026 = f"""{ISSUER}
3.004.567.890-12
SET/2026                     17/10/2026                        266,06
NOTA FISCAL Nº 429049775 - SÉRIE 000
Data de emissão:14/09/2026
Residencial                    Residencial                    Convencional B1
Bifásico                                      13/08     14/09     32     12/10
Energia kWh          PPB212308067          9.494          9.695          1          201
Energia Elétrica            kWh     201     1,17263918     235,69     7,92     235,69
Contrib Ilum Publica Municipal                                          30,37
TOTAL                                                                  266,06
008152383678          3.004.567.890-12          17/10/2026     R$266,06
"""


def test_the_unlabelled_2026_text_of_a_third_party_test_parses_by_the_shape_of_its_values():
    bill = parse_cemig(REDESIGN_2026)
    assert bill.layout == "cemig-2026"
    assert (bill.installation, bill.uc_code) == (None, "000300456789012")  # from the stub: not a CEMIG `.018-`
    assert (bill.reference_month, bill.due_date, bill.amount_due) == ("2026-09", "2026-10-17", "266.06")
    assert (bill.tariff_class, bill.tariff_modality, bill.supply_type) == ("Residencial", "Convencional B1",
                                                                           "bifasico")
    assert bill.reading.model_dump() == {"previous": "2026-08-13", "current": "2026-09-14", "days": 32,
                                         "next": "2026-10-12"}
    assert (bill.meter.id, bill.consumption_kwh) == ("PPB212308067", "201")
    assert [item.amount for item in bill.items] == ["235.69", "30.37"] and bill.items_total == "266.06"
    assert bill.checks["footer_matches_header"] and bill.checks["items_sum_matches_total"]
    assert bill.checks["access_key_check_digit"] is False  # a DANF3E prints its key: this excerpt lacks it


def test_the_uc_label_in_a_2024_table_layout_is_the_2026_danf3e():
    bill = parse_cemig(NF3E_2024.replace("Nº DA INSTALAÇÃO", "N.º DA UNIDADE CONSUMIDORA"))
    assert bill.layout == "cemig-nf3e-2026"
    assert bill.installation == "3000000001"  # the stub still says "Instalação" in this text
    assert bill.uc_code is None  # "7000000001 3000000001" under the label is no UC code


def test_a_2026_bill_in_the_2024_layout_still_parses():
    text = NF3E_2024.replace("AGO/2024 09/09/2024", "AGO/2026 09/09/2026")
    assert parse_cemig(text).reference_month == "2026-08"


@pytest.mark.parametrize(("sentence", "basis"), [
    ("Consumo faturado pela média dos últimos 12 meses", "average"),
    ("CONSUMO FATURADO PELA MÉDIA", "average"),
    ("Valor calculado por media", "average"),
    ("LEITURA NÃO REALIZADA - IMPEDIMENTO DE ACESSO", "average"),
    ("Leitura estimada", "estimated"),
    ("CONSUMO ESTIMADO", "estimated"),
    ("Auto-leitura", "informed"),
    ("LEITURA INFORMADA PELO CLIENTE", "informed"),
    ("Leitura realizada conforme calendário", None),
])
def test_the_reading_basis_is_read_in_any_casing(sentence: str, basis: str | None) -> None:
    from processor.parse.cemig.fields import reading_basis

    assert reading_basis(f"Histórico de Consumo\n{sentence}\nTOTAL 1,00") == basis


def test_the_2024_total_row_counts_only_when_it_leads_its_line() -> None:
    # `(?m)^\s*TOTAL …`, searched from its literal: blanks before TOTAL are fine, anything else is not.
    from processor.parse.cemig.layouts import _TOTAL_WITH_TAXES, _leads_its_line

    row = "TOTAL 167,80 25,71 102,19 18,39"
    assert _leads_its_line(_TOTAL_WITH_TAXES, f"Itens\n{row}\nBandeira")
    assert _leads_its_line(_TOTAL_WITH_TAXES, f"Itens\n  \t{row}")
    assert _leads_its_line(_TOTAL_WITH_TAXES, row)
    assert not _leads_its_line(_TOTAL_WITH_TAXES, f"Itens\nSUB{row}\nBandeira")
    assert not _leads_its_line(_TOTAL_WITH_TAXES, f"Itens\nValor {row}")
    assert _leads_its_line(_TOTAL_WITH_TAXES, f"Valor {row}\n{row}")


@pytest.mark.parametrize(("text", "names"), [
    ("Reservado ao Fisco\nICMS 628,19 18,00 113,07\nPASEP 628,19 0,75 4,71\n", ["icms", "pis"]),
    ("Reservado ao Fisco\n   COFINS 628,19 3,46 21,73\n", ["cofins"]),
    # pdftocairo moves the first row up onto the header's line, after its last label, with or without blanks
    ("Base de cálculo (R$) Alíquota (%) Valor (R$) ICMS 628,19 18,00 113,07\n", ["icms"]),
    ("Base de cálculo (R$) Alíquota (%) Valor (R$)ICMS 628,19 18,00 113,07\n", ["icms"]),
    ("Base de cálculo (R$) Alíquota (%) Valor (R$)\n\nICMS 628,19 18,00 113,07\n", ["icms"]),
    # elsewhere in a line a tax name followed by three numbers is no tax row
    ("Tributos ICMS 628,19 18,00 113,07\n", []),
    ("XICMS 628,19 18,00 113,07\n", []),
    ("ICMS 628,19 18,00 113,07 9,99\n", []),
])
def test_a_tax_row_leads_its_line_or_follows_the_box_header(text: str, names: list[str]) -> None:
    assert sorted(taxes(text)) == sorted(names)


def test_a_flag_counts_only_with_its_month_just_before_it() -> None:
    found = flags("JUN/23 Band. Amarela - Band. Verde - JUL/2023 Band. Verde - AGO/23\n\nBand. Escassez Hídrica")
    assert [(f.month, f.flag) for f in found] == [("2023-06", "amarela"), ("2023-08", "escassez_hidrica")]
