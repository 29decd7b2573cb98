"""Draw a :class:`BillDocument` as a one-page A4 DANF3E, like CEMIG's billing form does.

Positions, fonts and sizes are those of the real 2023–2024 bills (Helvetica / Helvetica-Bold, points
from the bottom-left corner), and the drawing order follows theirs (items table, history, fiscal box,
footer, customer block, header), so text extractors that follow the content stream (pypdfium2, pypdf)
and those that follow the page geometry (``pdftotext -layout``, pdfplumber) read the same text as on
a real bill. Portuguese strings live here: this is a simulator template.
"""

from __future__ import annotations

import io
from datetime import date
from decimal import Decimal

from reportlab.lib.utils import simpleSplit
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas

from simulator.bills.billing import SUPPLY_PRINTED, BillDocument
from simulator.bills.formats import READING_SENTENCES, br_date, br_day_month, br_number, month_label, month_name

BOLD = "Helvetica-Bold"
REGULAR = "Helvetica"
GREY = 0.80
ROW = 9.6


def render(doc: BillDocument, *, conta_digital: bool) -> bytes:
    """The PDF bytes of one bill; ``conta_digital`` drops the "adhere to e-mail bills" sentence."""
    buffer = io.BytesIO()
    c = Canvas(buffer, pagesize=(595.0, 842.0), invariant=True, pageCompression=0)
    c.setCreator("Form ZFAT_ISUBILL_BT PT")
    c.setAuthor("U_PO_SOA_AGV")
    c.setTitle("")
    c.setLineWidth(0.75)
    _frames(c)
    _items(c, doc)
    _history(c, doc)
    _fiscal(c, doc)
    _footer(c, doc)
    _customer(c, doc)
    _header_boxes(c, doc)
    _classification(c, doc)
    _technical(c, doc)
    _letterhead(c)
    _general(c, doc, conta_digital=conta_digital)
    c.showPage()
    c.save()
    return buffer.getvalue()


def _text(c: Canvas, font: str, size: float, x: float, y: float, text: str, align: str = "left") -> None:
    if (c._fontname, c._fontsize) != (font, size):  # each setFont writes operators: skip the redundant ones
        c.setFont(font, size)
    if align == "right":
        c.drawRightString(x, y, text)
    elif align == "center":
        c.drawCentredString(x, y, text)
    else:
        c.drawString(x, y, text)


def _frames(c: Canvas) -> None:
    boxes = [
        (14.15, 420.95, 566.95, 209.75),
        (14.15, 122.80, 221.10, 161.55),
        (240.95, 175.75, 340.15, 22.95),
        (240.95, 122.75, 340.15, 47.60),
        (124.70, 76.55, 121.90, 25.50),
        (253.70, 76.55, 76.55, 25.50),
        (14.15, 704.40, 220.25, 85.05),
        (321.45, 678.35, 259.35, 82.75),
        (14.15, 636.10, 566.95, 35.45),
        (240.95, 328.85, 340.15, 87.85),
        (240.95, 204.10, 340.15, 121.90),
        (240.95, 678.35, 80.80, 82.20),
        (14.15, 287.15, 221.10, 129.25),
    ]
    for x, y, w, h in boxes:
        c.rect(x, y, w, h)
    for x, y, w, h in [
        (337.30, 76.55, 82.20, 25.50),
        (426.60, 76.55, 116.20, 25.50),
        (14.15, 678.35, 107.15, 25.50),
        (127.25, 678.35, 107.15, 25.50),
        (240.95, 761.10, 340.15, 28.35),
    ]:
        c.setFillGray(GREY)
        c.rect(x, y, w, h, stroke=1, fill=1)
    c.setFillGray(0)


def _items(c: Canvas, doc: BillDocument) -> None:
    _text(c, BOLD, 9, 258.35, 618.70, "Valores Faturados")
    for x, label in [
        (23.15, "Itens da Fatura"),
        (172.60, "Unid."),
        (209.95, "Quant."),
        (254.55, "Preço Unit"),
        (308.85, "Valor"),
        (346.85, "PIS/COFINS"),
        (396.10, "Base Calc."),
        (448.75, "Aliq."),
        (487.30, "ICMS"),
        (520.20, "Tarifa Unit."),
    ]:
        _text(c, BOLD, 7, x, 610.30, label)
    _text(c, BOLD, 5, 326.35, 610.30, " (R$)")
    _text(c, BOLD, 7, 405.10, 601.90, "ICMS")
    _text(c, BOLD, 7, 447.60, 601.90, "ICMS")
    y = 592.30
    for row in doc.rows:
        _text(c, REGULAR, 7, 26.90, y, row.description)
        if row.unit:
            _text(c, REGULAR, 7, 178.75, y, row.unit)
        if row.quantity is not None:
            _text(c, REGULAR, 7, 229.0, y, br_number(Decimal(row.quantity), 0), "right")
        if row.unit_price is not None:
            _text(c, REGULAR, 7, 255.80, y, br_number(row.unit_price, 8))
        _text(c, REGULAR, 7, 338.70, y, br_number(row.amount), "right")
        if row.pis_cofins is not None:
            for x, value in [
                (386.5, row.pis_cofins),
                (431.5, row.icms_base),
                (464.5, row.icms_rate),
                (504.8, row.icms),
            ]:
                _text(c, REGULAR, 7, x, y, br_number(value or Decimal(0)), "right")
        if row.tariff is not None:
            _text(c, REGULAR, 7, 522.20, y, br_number(row.tariff, 8))
        y -= ROW
    _text(c, BOLD, 7.5, 26.90, y, "TOTAL")
    for x, value in [
        (338.70, doc.total),
        (386.5, doc.pis_cofins_total),
        (431.5, doc.icms_base_total),
        (504.8, doc.icms_total),
    ]:
        _text(c, BOLD, 7.5, x, y, br_number(value), "right")
    for label, value in doc.flag_lines:
        y -= ROW
        _text(c, REGULAR, 7, 26.90, y, f"Bandeira {label} - Já Incluído no valor a pagar")
        _text(c, REGULAR, 7, 338.70, y, br_number(value), "right")


def _history(c: Canvas, doc: BillDocument) -> None:
    _text(c, BOLD, 9, 79.55, 272.35, "Histórico de Consumo")
    for x, label in [(17.0, "MÊS/ANO"), (73.55, "Cons. kWh"), (127.55, "Média kWh/Dia"), (184.25, "Dias")]:
        _text(c, REGULAR, 7, x, 262.75, label)
    y = 252.55
    for year, month, kwh, days in doc.history_rows:
        average = Decimal(kwh) / days if days else Decimal(0)
        _text(c, REGULAR, 5, 17.0, y, month_label(year, month, long_year=False))
        _text(c, REGULAR, 7, 97.2, y, br_number(Decimal(kwh), 0), "right")
        _text(c, REGULAR, 7, 153.9, y, br_number(average), "right")
        _text(c, REGULAR, 7, 192.7, y, str(days), "right")
        y -= 10.2


def _fiscal(c: Canvas, doc: BillDocument) -> None:
    _text(c, BOLD, 8, 373.25, 191.95, "Reservado ao Fisco")
    _text(c, BOLD, 9, 303.30, 161.95, "Base de cálculo (R$)")
    _text(c, BOLD, 9, 413.85, 161.95, "Alíquota (%)")
    _text(c, BOLD, 9, 487.55, 161.95, "Valor (R$)")
    taxes = doc.bill.taxes
    y = 151.0
    for label, key in [("ICMS", "icms"), ("PASEP", "pis"), ("COFINS", "cofins")]:
        tax = taxes[key]
        _text(c, REGULAR, 8, 250.0, y, label)
        for x, value in [(391.3, tax.base), (466.3, tax.rate), (530.1, tax.value)]:
            _text(c, REGULAR, 8, x, y, br_number(Decimal(value or "0")), "right")
        y -= 9.6


def _footer(c: Canvas, doc: BillDocument) -> None:
    bill = doc.bill
    _text(c, BOLD, 6, 45.35, 116.15, "Fale com CEMIG: 116 - CEMIG Torpedo 29810 - Ouvidoria CEMIG: ")
    _text(c, BOLD, 6, 233.50, 116.15, "0800 728 3838 - ")
    _text(c, BOLD, 5, 278.95, 116.15, "Agência Nacional de Energia Elétrica - ANEEL - Telefone: 167 - ")
    _text(c, BOLD, 5, 429.70, 116.15, "Ligação gratuita de telefones fixos e móveis.")
    for x, label in [
        (128.55, "Código de Débito Automático"),
        (271.00, "Instalação"),
        (355.75, "Vencimento"),
        (460.65, "Total a pagar"),
    ]:
        _text(c, BOLD, 8, x, 92.75, label)
    due_text = br_date(date.fromisoformat(bill.due_date)) if bill.due_date else ""
    for x, value in [
        (184.85, bill.automatic_debit_code or ""),
        (290.60, bill.installation or ""),
        (378.45, due_text),
        (485.60, f"R${br_number(doc.total)}"),
    ]:
        _text(c, BOLD, 10, x, 80.75, value, "center")
    year, month = (int(part) for part in (bill.reference_month or "0-0").split("-"))
    _text(c, BOLD, 10, 187.45, 64.55, month_name(year, month), "center")
    digits = doc.linha_digitavel
    printed = " ".join(f"{digits[i : i + 11]}-{digits[i + 11]}" for i in range(0, 48, 12))
    _text(c, BOLD, 9.5, 263.60, 64.55, printed)
    if doc.automatic_debit:
        _text(c, BOLD, 11, 467.00, 34.55, "ATENÇÃO:")
    _barcode(c, doc.barcode, 132.6, 14.0, width=279.2, height=33.7)
    if doc.automatic_debit:
        _text(c, BOLD, 11, 436.50, 21.35, "DÉBITO AUTOMÁTICO")


_I2OF5 = ("nnwwn", "wnnnw", "nwnnw", "wwnnn", "nnwnw", "wnwnn", "nwwnn", "nnnww", "wnnwn", "nwnwn")


def i2of5_pattern(digits: str) -> str:
    """Interleaved 2 of 5 as bar/space letters: ``N``/``W`` narrow/wide bar, ``n``/``w`` narrow/wide space."""
    pattern = ["NnNn"]
    for first, second in zip(digits[::2], digits[1::2], strict=True):
        for bar, space in zip(_I2OF5[int(first)], _I2OF5[int(second)], strict=True):
            pattern.append(bar.upper() + space)
    pattern.append("WnN")
    return "".join(pattern)


def _barcode(c: Canvas, digits: str, x: float, y: float, *, width: float, height: float) -> None:
    """Draw the barcode bars, plus the pattern as invisible text.

    CEMIG prints its barcode with an Interleaved 2 of 5 font whose glyphs are the letters N/n/W/w, so
    every extractor reads a line of those letters between the linha digitável and the customer block;
    parsers use it as a delimiter. The same letters are laid over the bars here in invisible text.
    """
    pattern = i2of5_pattern(digits)
    narrow = width / sum(1 if ch in "Nn" else 3 for ch in pattern)
    cursor = x
    for ch in pattern:
        step = narrow if ch in "Nn" else 3 * narrow
        if ch.isupper():
            c.rect(cursor, y, step, height, stroke=0, fill=1)
        cursor += step
    c.saveState()  # the render mode (Tr) is graphics state: it would hide every later text otherwise
    text = c.beginText(x, y + 7.35)
    text.setTextRenderMode(3)
    text.setFont(REGULAR, 8)
    text.setHorizScale(100 * width / stringWidth(pattern, REGULAR, 8))
    text.textOut(pattern)
    c.drawText(text)
    c.restoreState()


def _customer(c: Canvas, doc: BillDocument) -> None:
    bill = doc.bill
    _text(c, BOLD, 8, 17.0, 780.35, bill.holder_name or "")
    y = 771.25
    lines = [*doc.address_lines[:3], doc.masked_document]
    if doc.state_registration:
        lines.append(f"INSCRIÇÃO ESTADUAL {doc.state_registration}")
    for line in lines:
        _text(c, REGULAR, 7.5, 17.0, y, line)
        y -= 9.1
    _text(c, BOLD, 8, 14.15, 696.05, "        Nº DO CLIENTE                      Nº DA INSTALAÇÃO")
    _text(c, BOLD, 15, 14.15, 681.65, f"  {bill.customer_number}        {bill.installation}")


def _header_boxes(c: Canvas, doc: BillDocument) -> None:
    bill = doc.bill
    _text(c, BOLD, 8, 240.95, 781.65, "         Referente a                                Vencimento ")
    _text(c, BOLD, 8, 422.25, 781.65, "                      Valor a pagar (R$)")
    year, month = (int(part) for part in (bill.reference_month or "0-0").split("-"))
    due = date.fromisoformat(bill.due_date or "")
    _text(c, BOLD, 13, 285.75, 767.25, month_label(year, month), "center")
    _text(c, BOLD, 13, 402.85, 767.25, br_date(due), "center")
    _text(c, BOLD, 13, 509.45, 767.25, br_number(doc.total), "center")
    issue = date.fromisoformat(bill.issue_date or "")
    lines = [
        f"NOTA FISCAL Nº {bill.invoice_number} - SÉRIE {bill.series}",
        f"Data de emissão: {br_date(issue)}",
        "Consulte pela chave de acesso em:",
        "http://www.sped.fazenda.mg.gov.br/spedmg/nf3e",
        "chave de acesso:",
        bill.access_key or "",
        f"Protocolo de autorização: {doc.authorisation}",
        doc.authorised_at.strftime("%d.%m.%Y às %H:%M:%S"),
    ]
    y = 752.70
    for line in lines:
        _text(c, REGULAR, 7, 324.30, y, line)
        y -= 8.4
    _qr_mark(c, 254.0, 690.0, 57.6, bill.access_key or "")


def _qr_mark(c: Canvas, x: float, y: float, size: float, key: str) -> None:
    """A QR-like block pattern derived from the key (the real bill prints the NF3e QR code here)."""
    cells = 21
    cell = size / cells
    bits = int(key) if key.isdigit() else 0
    for row in range(cells):
        run_start = None
        for col in range(cells + 1):
            on = col < cells and _qr_cell(bits, row, col, cells)
            if on and run_start is None:
                run_start = col
            elif not on and run_start is not None:
                top = y + (cells - 1 - row) * cell
                c.rect(x + run_start * cell, top, (col - run_start) * cell, cell, stroke=0, fill=1)
                run_start = None


def _qr_cell(bits: int, row: int, col: int, cells: int) -> bool:
    finder = (row < 7 and col < 7) or (row < 7 and col >= cells - 7) or (row >= cells - 7 and col < 7)
    if finder:
        r, c = row % (cells - 7), col % (cells - 7)
        return r in (0, 6) or c in (0, 6) or (2 <= r <= 4 and 2 <= c <= 4)
    return (bits >> ((row * cells + col) % 140)) & 1 == 1


def _classification(c: Canvas, doc: BillDocument) -> None:
    bill = doc.bill
    _text(c, BOLD, 8, 99.2, 660.80, "Classe", "center")
    _text(c, BOLD, 8, 212.6, 660.80, "Subclasse", "center")
    _text(c, BOLD, 8, 301.30, 660.80, "Modalidade Tarifária")
    _text(c, BOLD, 8, 450.75, 660.80, "Datas de Leitura")
    subclass = simpleSplit(bill.tariff_subclass or "", REGULAR, 9, 70) or [""]
    _text(c, REGULAR, 9, 99.2, 651.10, bill.tariff_class or "", "center")
    _text(c, REGULAR, 9, 213.9, 651.10, subclass[0], "center")
    _text(c, REGULAR, 9, 332.0, 651.10, bill.tariff_modality or "", "center")
    for x, label in [(409.40, "Anterior"), (457.45, "Atual"), (489.55, "Nº de dias"), (536.25, "Próxima")]:
        _text(c, REGULAR, 9, x, 651.10, label)
    _text(c, REGULAR, 9, 99.2, 641.40, SUPPLY_PRINTED.get(bill.supply_type or "", ""), "center")
    if len(subclass) > 1:
        _text(c, REGULAR, 9, 213.9, 641.40, " ".join(subclass[1:]), "center")
    _text(c, REGULAR, 9, 413.90, 641.40, br_day_month(doc.reading_previous))
    _text(c, REGULAR, 9, 456.45, 641.40, br_day_month(doc.reading_current))
    _text(c, REGULAR, 9, 511.50, 641.40, str(bill.reading.days), "center")
    _text(c, REGULAR, 9, 541.50, 641.40, br_day_month(doc.reading_next))


def _technical(c: Canvas, doc: BillDocument) -> None:
    meter = doc.bill.meter
    _text(c, BOLD, 8, 369.05, 407.70, "Informações Técnicas")
    for x, label in [
        (243.80, "Tipo de Medição"),
        (335.70, "Medição"),
        (394.55, "Leitura"),
        (434.25, "Leitura"),
        (480.20, "Constante"),
        (527.20, "Consumo kWh"),
    ]:
        _text(c, BOLD, 6.5, x, 398.70, label)
    for x, label in [(392.70, "Anterior"), (436.95, "Atual"), (470.85, "de Multiplicação")]:
        _text(c, BOLD, 6.5, x, 389.70, label)
    _text(c, REGULAR, 7, 243.80, 381.30, "Energia kWh")
    _text(c, REGULAR, 7, 323.90, 381.30, meter.id or "")
    _text(c, REGULAR, 7, 416.0, 381.30, br_number(Decimal(meter.previous or "0"), 0), "right")
    _text(c, REGULAR, 7, 455.7, 381.30, br_number(Decimal(meter.current or "0"), 0), "right")
    _text(c, REGULAR, 7, 496.0, 381.30, meter.multiplier or "1", "center")
    _text(c, REGULAR, 7, 552.7, 381.30, br_number(Decimal(doc.meter_consumption), 0), "right")


def _letterhead(c: Canvas) -> None:
    # A plain green mark where the real bill has the CEMIG logo image (no text, so extraction is unchanged).
    c.setFillColorRGB(0.0, 0.55, 0.35)
    c.roundRect(14.0, 791.0, 128.5, 43.55, 6, stroke=0, fill=1)
    c.setFillColorRGB(1, 1, 1)
    for i in range(4):
        c.rect(24.0 + i * 12, 800.0, 6, 25.0, stroke=0, fill=1)
    c.setFillGray(0)
    _text(c, BOLD, 4.5, 151.65, 821.75, "DOCUMENTO AUXILIAR DA NOTA FISCAL DE ENERGIA ELÉTRICA ELETRÔNICA")
    _text(
        c,
        BOLD,
        4.5,
        151.65,
        815.75,
        "CEMIG DISTRIBUIÇÃO S.A. CNPJ 06.981.180/0001-16 / INSC. ESTADUAL 062.322136.0087.",
    )
    _text(c, BOLD, 4.5, 151.65, 809.75, "AV. BARBACENA, 1200 - 17° ANDAR - ALA 1 - BAIRRO SANTO AGOSTINHO")
    _text(c, BOLD, 4.5, 151.65, 803.75, "CEP: 30190-131 - BELO HORIZONTE - MG.")
    _text(
        c,
        BOLD,
        4.5,
        337.00,
        803.75,
        "TARIFA SOCIAL DE ENERGIA ELÉTRICA - TSEE FOI CRIADA PELA LEI Nº 10.438, DE 26 DE ABRIL DE 2002",
    )


def _general(c: Canvas, doc: BillDocument, *, conta_digital: bool) -> None:
    _text(c, BOLD, 9, 369.05, 314.00, "Informações Gerais")
    sentences = []
    if doc.bill.scee is not None:
        sentences.append(f"SALDO ATUAL DE GERAÇÃO: {br_number(Decimal(doc.bill.scee.credit_balance_kwh or '0'))} kWh.")
    sentences.append(doc.tariff_resolution)
    sentences.append("Redução aliquota ICMS conforme Lei Complementar 194/22.")
    if doc.automatic_debit:
        sentences.append("Considerar nota fiscal quitada após débito em sua c/c.")
    if doc.bill.scee is not None:
        sentences.append("Unidade faz parte de sistema de compensação de energia.")
    sentences.append(
        "O pagamento desta conta não quita débitos anteriores. Para estes, estão sujeitas penalidades legais "
        "vigentes (multas) e/ou atualização financeira (juros)baseadas no vencimento das mesmas. "
        f"{READING_SENTENCES[doc.bill.reading_basis]} É dever do consumidor manter os dados cadastrais sempre "
        "atualizados e informar alterações da atividade exercida no local."
    )
    if not conta_digital:
        sentences.append("Faça sua adesão para recebimento da conta de energia por e-mail acessando www.cemig.com.br.")
    lines = simpleSplit(" ".join(sentences), REGULAR, 6.8, 333.0)
    # The flag sentence is never split, so "MMM/AA Band. Cor" stays on one line for parsers.
    joined = f"{lines[-1]}   {doc.flag_text}"
    if stringWidth(joined, REGULAR, 6.8) <= 333.0:
        lines[-1] = joined
    else:
        lines.append(doc.flag_text)
    y = 305.60
    for line in lines:
        _text(c, REGULAR, 6.8, 243.80, y, line)
        y -= 8.4
