"""Generated bills and the real CEMIG samples share every label the bill schema relies on.

Both are read with the extractor the parser uses (pypdfium2 ``get_text_range``). Each label regex
must match every real sample of its scope and every generated bill it applies to.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pypdfium2 as pdfium
import pytest

from simulator.bills.codes import access_key_is_valid
from simulator.bills.generator import generate_bill
from tests.samples import SAMPLES
from tests.simulator.bills.bill_profiles import PROFILES

MES = r"(?:JAN|FEV|MAR|ABR|MAI|JUN|JUL|AGO|SET|OUT|NOV|DEZ)"
NUM = r"-?\d{1,3}(?:\.\d{3})*(?:,\d+)?"
MONEY = r"\d{1,3}(?:\.\d{3})*,\d{2}"

# Scopes among the real samples: ALL = every NF3e (DANF3E) bill; ISSUED = those produced by CEMIG's
# billing system (the two publisher-edited files excluded); GD = issued bills of a unit in the
# compensation system; SOME = at least one real bill (labels that only some months print).
ALL, ISSUED, GD, SOME = "all", "issued", "gd", "some"


@dataclass(frozen=True)
class Label:
    name: str
    pattern: str
    scope: str
    generated_gd_only: bool = False


LABELS = [
    Label("document_title", r"DOCUMENTO AUXILIAR DA NOTA FISCAL DE ENERGIA ELÉTRICA ELETRÔNICA", ALL),
    Label("issuer", r"CEMIG DISTRIBUIÇÃO S\.A\. CNPJ 06\.981\.180/0001-16 / INSC\. ESTADUAL 062\.322136\.0087\.", ALL),
    Label("client_installation", r"Nº DO CLIENTE Nº DA INSTALAÇÃO\s*\n\s*(\d{10}) (\d{10})\s*\n", ISSUED),
    Label(
        "reference_due_amount",
        rf"Referente a Vencimento Valor a pagar \(R\$\)\s*\n"
        rf"\s*({MES}/\d{{4}}) (\d{{2}}/\d{{2}}/\d{{4}}) ({MONEY})\s*\n",
        ALL,
    ),
    Label("invoice_series", r"NOTA FISCAL Nº (\d{9}) - SÉRIE (\d{3})", ISSUED),
    Label("issue_date", r"Data de emissão: \d{2}/\d{2}/\d{4}", ALL),
    Label(
        "access_key",
        r"Consulte pela chave de acesso em:\s*\nhttp://www\.sped\.fazenda\.mg\.gov\.br/spedmg/nf3e"
        r"\s*\nchave de acesso:\s*\n(\d{44})\s*\n",
        ISSUED,
    ),
    Label("authorisation", r"Protocolo de autorização: \d{16}\s*\n\d{2}\.\d{2}\.\d{4} às \d{2}:\d{2}:\d{2}", ISSUED),
    Label("classification_header", r"Classe Subclasse Modalidade Tarifária Datas de Leitura", ALL),
    Label(
        "class_modality",
        r"(?:Residencial|Comercial|Industrial|Rural)\b[^\n]*Convencional B[123] "
        r"Anterior Atual Nº de dias Próxima",
        ALL,
    ),
    Label(
        "supply_reading_dates",
        r"(?:Monofásico|Bifásico|Trifásico)\b[^\n]*?(\d{2}/\d{2}) (\d{2}/\d{2}) "
        r"(\d{1,2}) (\d{2}/\d{2})\s*\n",
        ALL,
    ),
    Label(
        "items_header",
        r"Valores Faturados\s*\nItens da Fatura Unid\. Quant\. Preço Unit Valor \(R\$\) "
        r"PIS/COFINS Base Calc\. Aliq\. ICMS Tarifa Unit\.\s*\nICMS ICMS",
        ALL,
    ),
    Label("item_energy", rf"(?m)^Energia Elétrica kWh {NUM} \d,\d{{8}} {MONEY}(?: {NUM})* \d,\d{{8}}\s*$", ALL),
    Label(
        "item_scee",
        rf"(?m)^(?:Energia SCEE s/ ICMS|Energia SCEE ISENTA|En comp\. s/ ICMS) kWh {NUM} "
        rf"\d,\d{{8}} {MONEY}(?: {NUM})* \d,\d{{8}}\s*$",
        GD,
        generated_gd_only=True,
    ),
    Label(
        "item_compensated",
        rf"(?m)^(?:Energia compensada GD I{{1,2}}|Energia injetada HFP) kWh {NUM} "
        rf"\d,\d{{8}} -{MONEY}(?: {NUM})* \d,\d{{8}}\s*$",
        GD,
        generated_gd_only=True,
    ),
    Label("public_lighting", rf"(?m)^Contrib Ilum Publica Municipal {MONEY}\s*$", ALL),
    Label("total", rf"(?m)^TOTAL {MONEY}(?: {MONEY}){{0,3}}\s*$", ALL),
    Label(
        "meter_header",
        r"Informações Técnicas\s*\nTipo de Medição Medição Leitura Leitura Constante Consumo kWh"
        r"\s*\nAnterior Atual de Multiplicação",
        ALL,
    ),
    Label("meter_row", rf"(?m)^Energia kWh [A-Z]{{3}}\d{{9}} {NUM} {NUM} \d+ {NUM}\s*$", ISSUED),
    Label("credit_balance", rf"SALDO\s+ATUAL\s+DE\s+GERAÇÃO:\s+{MONEY} kWh\.", GD, generated_gd_only=True),
    Label(
        "compensation_notice",
        r"Unidade\s+faz\s+parte\s+de\s+sistema\s+de\s+compensação\s+de\s+energia\.",
        GD,
        generated_gd_only=True,
    ),
    Label("tariff_resolution", r"Tarifa vigente conforme Res Aneel nº \d\.\d{3}, de \d{2}/\d{2}/\d{4}\.", ALL),
    Label("flags", rf"{MES}/\d{{2}} Band\. [\w.]+(?: P[12]\.)? - {MES}/\d{{2}} Band\. [\w.]+(?: P[12])?\.", ALL),
    Label("history_header", r"Histórico de Consumo\s*\nMÊS/ANO Cons\. kWh Média kWh/Dia Dias", ALL),
    Label("history_rows", rf"(?m)(?:^{MES}/\d{{2}} {NUM} {MONEY} \d{{1,2}}\s*\n){{13}}", ALL),
    Label("fiscal_box", r"Reservado ao Fisco[\s\S]*Base de cálculo \(R\$\) Alíquota \(%\) Valor \(R\$\)", ALL),
    Label("fale_com_cemig", r"Fale com CEMIG: 116 - CEMIG Torpedo 29810", ALL),
    Label(
        "footer",
        rf"Código de Débito Automático Instalação Vencimento Total a pagar\s*\n(\d{{12}}) (\d{{10}}) "
        rf"(\d{{2}}/\d{{2}}/\d{{4}}) R\$({MONEY})\s*\n",
        ISSUED,
    ),
    Label(
        "linha_digitavel",
        r"(?m)^(?:Janeiro|Fevereiro|Março|Abril|Maio|Junho|Julho|Agosto|Setembro|Outubro|"
        r"Novembro|Dezembro)/\d{4} (\d{11}-\d) (\d{11}-\d) (\d{11}-\d) (\d{11}-\d)\s*$",
        SOME,
    ),
    Label("barcode_glyphs", r"(?m)^(?:ATENÇÃO: )?[NnWw]{100,}(?: DÉBITO AUTOMÁTICO)?\s*$", SOME),
    Label(
        "holder_document",
        r"(?m)^(?:CPF \d{3}\.\d\*\*\.\*\*\*-\*\*|CNPJ \d{2}\.\d{3}\.\d\*\*/\*\*\*\*-\*\*)\s*$",
        ISSUED,
    ),
]


def _text(pdf: bytes | Path) -> str:
    document = pdfium.PdfDocument(pdf)
    try:
        return document[0].get_textpage().get_text_range().replace("\r\n", "\n")
    finally:
        document.close()


@cache
def real_samples() -> dict[str, tuple[str, str]]:
    """name → (scope set marker, text) for every NF3e real sample."""
    samples = {}
    for path in sorted(SAMPLES.glob("*.pdf")):
        document = pdfium.PdfDocument(path)
        producer = document.get_metadata_dict().get("Producer", "")
        document.close()
        text = _text(path)
        if "DOCUMENTO AUXILIAR DA NOTA FISCAL DE ENERGIA ELÉTRICA ELETRÔNICA" not in text:
            continue  # the pre-NF3e JAN/2023 bills: another layout
        issued = producer.startswith("SAP NetWeaver")
        gd = issued and re.search(r"sistema\s+de\s+compensação", text) is not None
        samples[path.name] = ("gd" if gd else "issued" if issued else "edited", text)
    return samples


@cache
def generated() -> dict[str, tuple[bool, str]]:
    """name → (has SCEE rows, text) for generated bills of every test profile over a few cycles.

    Only cycles before 2026: these are the 2024 DANF3E's labels; the 2026 design prints its labels as pictures
    (tests/simulator/bills/test_bill_generator_2026.py).
    """
    bills = {}
    for profile in PROFILES:
        for cycle in ("2024-07", "2025-06", "2025-12"):
            bill = generate_bill(profile, cycle)
            bills[f"{profile.installation}-{cycle}"] = (bill.bill.scee is not None, _text(bill.plain_pdf))
    return bills


def _in_scope(kind: str, scope: str) -> bool:
    return {ALL: True, SOME: True, ISSUED: kind in ("issued", "gd"), GD: kind == "gd"}[scope]


@pytest.fixture(scope="module")
def samples() -> dict[str, tuple[str, str]]:
    if not SAMPLES.is_dir():
        pytest.skip(f"real CEMIG samples not found at {SAMPLES} (they live next to the checkout, in shared/)")
    found = real_samples()
    if not found:
        pytest.skip(f"no NF3e sample PDF in {SAMPLES}")
    return found


@pytest.mark.parametrize("label", LABELS, ids=lambda label: label.name)
def test_label_is_on_real_bills(label: Label, samples: dict[str, tuple[str, str]]) -> None:
    pattern = re.compile(label.pattern)
    in_scope = {name: text for name, (kind, text) in samples.items() if _in_scope(kind, label.scope)}
    matched = [name for name, text in in_scope.items() if pattern.search(text)]
    if label.scope == SOME:
        assert matched, f"{label.name} is on no real sample"
    else:
        assert sorted(matched) == sorted(in_scope), f"{label.name} missing from {sorted(set(in_scope) - set(matched))}"


@pytest.mark.parametrize("label", LABELS, ids=lambda label: label.name)
def test_label_is_on_generated_bills(label: Label) -> None:
    pattern = re.compile(label.pattern)
    for name, (has_generation, text) in generated().items():
        found = pattern.search(text) is not None
        if label.generated_gd_only and not has_generation:
            assert not found, f"{label.name} printed on {name}, a unit without generation"
        else:
            assert found, f"{label.name} missing from generated bill {name}"


def test_generated_item_descriptions_are_real_ones(samples: dict[str, tuple[str, str]]) -> None:
    row = re.compile(rf"(?m)^(.+?) (?:kWh {NUM} \d,\d{{8}} |(?={MONEY}\s*$))")
    real = {m[1] for _, text in samples.values() for m in row.finditer(text[: text.find("TOTAL")])}
    made = {m[1] for _, text in generated().values() for m in row.finditer(text[: text.find("TOTAL")])}
    assert made <= real, f"descriptions never seen on a real bill: {sorted(made - real)}"
    assert {
        "Energia Elétrica",
        "Energia SCEE s/ ICMS",
        "Energia compensada GD I",
        "Contrib Ilum Publica Municipal",
    } <= made


def test_real_access_keys_validate_with_the_generators_check_digit(samples: dict[str, tuple[str, str]]) -> None:
    keys = [m[1] for _, text in samples.values() for m in re.finditer(r"chave de acesso:\s*\n(\d{44})", text)]
    assert keys
    assert all(access_key_is_valid(key) for key in keys)
