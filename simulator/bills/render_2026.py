"""Draw a :class:`BillDocument` in CEMIG's green 2026 design: QR code on top, a consolidated block, the UC code.

No PDF of the green design is public (reference cemig-bill-layout.md §8), so this follows every public fact
(§5.1, §5.3) and nothing else: the PIX QR code at the top, the values emphasised in a consolidated block,
the national UC code dotted with leading zeros dropped in place of the installation number, a 12-month
history, the 2026 item names, an ``Energia Injetada`` meter row for GD units. Two codebases say its section
labels are images; here every label is drawn as a picture, so text extractors see only the values, the item
and meter rows, the DANF3E's legal text and the free-text sentences. Portuguese strings live here: this is a
simulator template.
"""

from __future__ import annotations

import io
from datetime import date
from decimal import Decimal
from functools import lru_cache

from PIL import Image, ImageDraw, ImageFont
from reportlab import rl_config
from reportlab.graphics import renderPDF
from reportlab.graphics.barcode.qr import QrCodeWidget
from reportlab.graphics.shapes import Drawing
from reportlab.lib.utils import ImageReader, simpleSplit
from reportlab.pdfgen.canvas import Canvas

from simulator.bills.billing import SUPPLY_PRINTED, BillDocument
from simulator.bills.cemig2026 import format_uc
from simulator.bills.formats import READING_SENTENCES, br_date, br_day_month, br_number, month_label, month_name
from simulator.bills.pix import br_code
from simulator.bills.render import _barcode, _text

BOLD = "Helvetica-Bold"
REGULAR = "Helvetica"
GREEN = (0.0, 0.55, 0.35)
LIGHT_GREEN = (0.86, 0.95, 0.89)
ROW = 9.6
_SCALE = 4
"""Label pictures are rendered at this many pixels per point."""


def render_2026(doc: BillDocument, *, conta_digital: bool, pix: str | None = None) -> bytes:
    """The PDF bytes of one 2026-design bill; ``conta_digital`` drops the "adhere to e-mail bills" sentence.

    ``pix`` replaces the BR Code of the QR on top (tests forge bills paying someone else with it).
    """
    # Label pictures are stored binary: reportlab's pure-Python ASCII85 step cost most of a bill's time.
    # Only drawImage reads the switch, and the 2024 renderer draws no images, so flipping it here is safe.
    previous, rl_config.useA85 = rl_config.useA85, 0
    try:
        return _draw(doc, conta_digital=conta_digital, pix=pix)
    finally:
        rl_config.useA85 = previous


def _draw(doc: BillDocument, *, conta_digital: bool, pix: str | None = None) -> bytes:
    buffer = io.BytesIO()
    c = Canvas(buffer, pagesize=(595.0, 842.0), invariant=True, pageCompression=0)
    c.setCreator("Form ZFAT_ISUBILL_BT PT")
    c.setAuthor("U_PO_SOA_AGV")
    c.setTitle("")
    c.setLineWidth(0.75)
    _letterhead(c, doc, pix)
    _consolidated(c, doc)
    _customer(c, doc)
    _fiscal_note(c, doc)
    _classification(c, doc)
    _items(c, doc)
    _technical(c, doc)
    _history(c, doc)
    _general(c, doc, conta_digital=conta_digital)
    _fisco(c, doc)
    _footer(c, doc)
    c.showPage()
    c.save()
    return buffer.getvalue()


@lru_cache(maxsize=256)
def _label_picture(text: str, size: float, bold: bool, white: bool) -> tuple[ImageReader, float, float]:
    font = ImageFont.load_default(size=size * _SCALE)
    left, top, right, bottom = font.getbbox(text)
    width, height = right - left + 2, bottom - top + 2
    picture = Image.new("RGBA", (width, height), (0, 0, 0, 0))
    draw = ImageDraw.Draw(picture)
    colour = (255, 255, 255, 255) if white else (0, 0, 0, 255)
    draw.text((1 - left, 1 - top), text, font=font, fill=colour, stroke_width=1 if bold else 0, stroke_fill=colour)
    out = io.BytesIO()
    picture.save(out, format="PNG", optimize=False)
    return ImageReader(io.BytesIO(out.getvalue())), width / _SCALE, height / _SCALE


def _label(c: Canvas, x: float, y: float, text: str, size: float = 7, *, bold: bool = True,
           white: bool = False, align: str = "left") -> None:
    """A section or column label, drawn as a picture (no text for extractors), baseline at ``y``."""
    picture, width, height = _label_picture(text, size, bold, white)
    if align == "center":
        x -= width / 2
    elif align == "right":
        x -= width
    c.drawImage(picture, x, y - 0.2 * size, width=width, height=height, mask="auto")


def _fill(c: Canvas, rgb: tuple[float, float, float], x: float, y: float, w: float, h: float) -> None:
    c.setFillColorRGB(*rgb)
    c.roundRect(x, y, w, h, 5, stroke=0, fill=1)
    c.setFillGray(0)


def _letterhead(c: Canvas, doc: BillDocument, pix: str | None = None) -> None:
    _fill(c, GREEN, 14.0, 796.0, 110.0, 36.0)
    c.setFillColorRGB(1, 1, 1)
    for i in range(4):
        c.rect(24.0 + i * 11, 803.0, 5, 22.0, stroke=0, fill=1)
    c.setFillGray(0)
    lines = [
        "DOCUMENTO AUXILIAR DA NOTA FISCAL DE ENERGIA ELÉTRICA ELETRÔNICA",
        "CEMIG DISTRIBUIÇÃO S.A. CNPJ 06.981.180/0001-16 / INSC. ESTADUAL 062.322136.0087.",
        "AV. BARBACENA, 1200 - 17° ANDAR - ALA 1 - BAIRRO SANTO AGOSTINHO",
        "CEP: 30190-131 - BELO HORIZONTE - MG.",
    ]
    for i, line in enumerate(lines):
        _text(c, BOLD, 5, 132.0, 824.0 - i * 7, line)
    # The PIX QR code sits on top in the new design (its copy-and-paste text is not in the text layer).
    _label(c, 536.0, 832.0, "Pague com Pix", 6, align="center")
    _pix_qr(c, 506.0, 760.0, 60.0, pix or _pix(doc))


def _pix(doc: BillDocument) -> str:
    bill = doc.bill
    return br_code(amount=f"{doc.total:.2f}", reference_month=bill.reference_month or "2026-01",
                   due_date=bill.due_date or "2026-01-01", barcode=doc.barcode)


def _pix_qr(c: Canvas, x: float, y: float, size: float, text: str) -> None:
    """A real QR code of the BR Code `text` (reportlab's encoder), `size` points square at (x, y)."""
    widget = QrCodeWidget(text, barLevel="L", barBorder=0)
    left, bottom, right, top = widget.getBounds()
    drawing = Drawing(size, size, transform=[size / (right - left), 0, 0, size / (top - bottom), 0, 0])
    drawing.add(widget)
    renderPDF.draw(drawing, c, x, y)


def _consolidated(c: Canvas, doc: BillDocument) -> None:
    bill = doc.bill
    _fill(c, LIGHT_GREEN, 14.0, 722.0, 484.0, 66.0)
    _fill(c, GREEN, 14.0, 768.0, 484.0, 20.0)
    _label(c, 22.0, 774.0, "Sua conta de energia", 9, white=True)
    _label(c, 80.0, 754.0, "Mês de referência", 7, align="center")
    _label(c, 240.0, 754.0, "Vencimento", 7, align="center")
    _label(c, 410.0, 754.0, "Total a pagar (R$)", 7, align="center")
    year, month = (int(part) for part in (bill.reference_month or "0-0").split("-"))
    _text(c, BOLD, 15, 80.0, 733.0, month_label(year, month), "center")
    _text(c, BOLD, 15, 240.0, 733.0, br_date(date.fromisoformat(bill.due_date or "")), "center")
    _text(c, BOLD, 18, 410.0, 733.0, br_number(doc.total), "center")


def _customer(c: Canvas, doc: BillDocument) -> None:
    bill = doc.bill
    _text(c, BOLD, 8, 17.0, 708.0, bill.holder_name or "")
    y = 699.0
    lines = [*doc.address_lines[:3], doc.masked_document]
    if doc.state_registration:
        lines.append(f"INSCRIÇÃO ESTADUAL {doc.state_registration}")
    for line in lines:
        _text(c, REGULAR, 7.5, 17.0, y, line)
        y -= 9.1
    _label(c, 17.0, y - 4, "Unidade consumidora", 7)
    _text(c, BOLD, 13, 17.0, y - 18, format_uc(bill.uc_code or ""))


def _fiscal_note(c: Canvas, doc: BillDocument) -> None:
    bill = doc.bill
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
    y = 708.0
    for line in lines:
        _text(c, REGULAR, 7, 330.0, y, line)
        y -= 8.4


def _classification(c: Canvas, doc: BillDocument) -> None:
    bill = doc.bill
    _fill(c, LIGHT_GREEN, 14.0, 600.0, 567.0, 34.0)
    for x, label in [(80.0, "Classe"), (200.0, "Subclasse"), (320.0, "Modalidade tarifária"),
                     (415.0, "Leitura anterior"), (467.0, "Leitura atual"), (515.0, "Dias"), (553.0, "Próxima")]:
        _label(c, x, 625.0, label, 6.5, align="center")
    subclass = simpleSplit(bill.tariff_subclass or "", REGULAR, 8.5, 110) or [""]
    _text(c, REGULAR, 8.5, 80.0, 614.0, bill.tariff_class or "", "center")
    _text(c, REGULAR, 8.5, 200.0, 614.0, subclass[0], "center")
    _text(c, REGULAR, 8.5, 320.0, 614.0, bill.tariff_modality or "", "center")
    _text(c, REGULAR, 8.5, 80.0, 604.0, SUPPLY_PRINTED.get(bill.supply_type or "", ""), "center")
    if len(subclass) > 1:
        _text(c, REGULAR, 8.5, 200.0, 604.0, " ".join(subclass[1:]), "center")
    _text(c, REGULAR, 8.5, 415.0, 604.0, br_day_month(doc.reading_previous), "center")
    _text(c, REGULAR, 8.5, 467.0, 604.0, br_day_month(doc.reading_current), "center")
    _text(c, REGULAR, 8.5, 515.0, 604.0, str(bill.reading.days), "center")
    _text(c, REGULAR, 8.5, 553.0, 604.0, br_day_month(doc.reading_next), "center")


def _items(c: Canvas, doc: BillDocument) -> None:
    _label(c, 17.0, 585.0, "O que você está pagando", 9)
    for x, label in [(23.0, "Item"), (172.0, "Unid."), (212.0, "Quant."), (256.0, "Preço unit. (R$)"),
                     (312.0, "Valor (R$)"), (350.0, "PIS/COFINS"), (398.0, "Base ICMS"), (446.0, "Alíq. ICMS"),
                     (490.0, "ICMS"), (522.0, "Tarifa unit. (R$)")]:
        _label(c, x, 574.0, label, 6)
    y = 563.0
    for row in doc.rows:
        _text(c, REGULAR, 7, 26.9, y, row.description)
        if row.unit:
            _text(c, REGULAR, 7, 178.75, y, row.unit)
        if row.quantity is not None:
            _text(c, REGULAR, 7, 229.0, y, br_number(Decimal(row.quantity), 0), "right")
        if row.unit_price is not None:
            _text(c, REGULAR, 7, 255.8, y, br_number(row.unit_price, 8))
        _text(c, REGULAR, 7, 338.7, y, br_number(row.amount), "right")
        if row.pis_cofins is not None:
            for x, value in [(386.5, row.pis_cofins), (431.5, row.icms_base), (464.5, row.icms_rate),
                             (504.8, row.icms)]:
                _text(c, REGULAR, 7, x, y, br_number(value or Decimal(0)), "right")
        if row.tariff is not None:
            _text(c, REGULAR, 7, 522.2, y, br_number(row.tariff, 8))
        y -= ROW
    _text(c, BOLD, 7.5, 26.9, y, "TOTAL")
    for x, value in [(338.7, doc.total), (386.5, doc.pis_cofins_total), (431.5, doc.icms_base_total),
                     (504.8, doc.icms_total)]:
        _text(c, BOLD, 7.5, x, y, br_number(value), "right")
    for label, value in doc.flag_lines:
        y -= ROW
        _text(c, REGULAR, 7, 26.9, y, f"Bandeira {label} - Já Incluído no valor a pagar")
        _text(c, REGULAR, 7, 338.7, y, br_number(value), "right")


def _technical(c: Canvas, doc: BillDocument) -> None:
    bill = doc.bill
    _label(c, 17.0, 455.0, "Medição", 9)
    for x, label in [(20.0, "Tipo"), (110.0, "Medidor"), (190.0, "Leitura anterior"), (260.0, "Leitura atual"),
                     (330.0, "Constante"), (390.0, "kWh")]:
        _label(c, x, 445.0, label, 6)
    rows = [("Energia kWh", bill.meter.previous, bill.meter.current, doc.meter_consumption)]
    if bill.injection is not None:
        rows.append(("Energia Injetada", bill.injection.previous, bill.injection.current, bill.injection.kwh))
    y = 435.0
    for kind, previous, current, kwh in rows:
        _text(c, REGULAR, 7, 20.0, y, kind)
        _text(c, REGULAR, 7, 110.0, y, bill.meter.id or "")
        _text(c, REGULAR, 7, 230.0, y, br_number(Decimal(previous or "0"), 0), "right")
        _text(c, REGULAR, 7, 295.0, y, br_number(Decimal(current or "0"), 0), "right")
        _text(c, REGULAR, 7, 345.0, y, bill.meter.multiplier or "1", "center")
        _text(c, REGULAR, 7, 410.0, y, br_number(Decimal(kwh or 0), 0), "right")
        y -= ROW


def _history(c: Canvas, doc: BillDocument) -> None:
    _label(c, 17.0, 405.0, "Seu consumo nos últimos 12 meses", 9)
    for x, label in [(17.0, "Mês"), (73.0, "kWh"), (120.0, "Média kWh/dia"), (184.0, "Dias")]:
        _label(c, x, 395.0, label, 6)
    y = 385.0
    for year, month, kwh, days in doc.history_rows:
        average = Decimal(kwh) / days if days else Decimal(0)
        _text(c, REGULAR, 7, 17.0, y, month_label(year, month, long_year=False))
        _text(c, REGULAR, 7, 97.2, y, br_number(Decimal(kwh), 0), "right")
        _text(c, REGULAR, 7, 153.9, y, br_number(average), "right")
        _text(c, REGULAR, 7, 192.7, y, str(days), "right")
        y -= 10.0


def _general(c: Canvas, doc: BillDocument, *, conta_digital: bool) -> None:
    _label(c, 243.8, 405.0, "Informações importantes", 9)
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
        f"O pagamento desta conta não quita débitos anteriores. {READING_SENTENCES[doc.bill.reading_basis]} "
        "É dever do consumidor manter os dados cadastrais sempre atualizados."
    )
    if not conta_digital:
        sentences.append("Receba sua conta por e-mail: faça sua adesão à Conta Digital em www.cemig.com.br.")
    lines = simpleSplit(" ".join(sentences), REGULAR, 6.8, 333.0)
    lines.append(doc.flag_text)  # never split, so "MMM/AA Band. Cor" stays on one line
    y = 395.0
    for line in lines:
        _text(c, REGULAR, 6.8, 243.8, y, line)
        y -= 8.4


def _fisco(c: Canvas, doc: BillDocument) -> None:
    _label(c, 373.0, 300.0, "Reservado ao Fisco", 8, align="center")
    for x, label in [(320.0, "Base de cálculo (R$)"), (420.0, "Alíquota (%)"), (500.0, "Valor (R$)")]:
        _label(c, x, 290.0, label, 7, align="center")
    y = 280.0
    for label, key in [("ICMS", "icms"), ("PASEP", "pis"), ("COFINS", "cofins")]:
        tax = doc.bill.taxes[key]
        _text(c, REGULAR, 8, 250.0, y, label)
        for x, value in [(391.3, tax.base), (466.3, tax.rate), (530.1, tax.value)]:
            _text(c, REGULAR, 8, x, y, br_number(Decimal(value or "0")), "right")
        y -= 9.6


def _footer(c: Canvas, doc: BillDocument) -> None:
    bill = doc.bill
    _text(c, BOLD, 6, 45.35, 200.0, "Fale com CEMIG: 116 - CEMIG Torpedo 29810 - Ouvidoria CEMIG: 0800 728 3838")
    _fill(c, LIGHT_GREEN, 14.0, 110.0, 567.0, 60.0)
    for x, label in [(150.0, "Código de Débito Automático"), (290.0, "Unidade consumidora"),
                     (380.0, "Vencimento"), (485.0, "Total a pagar")]:
        _label(c, x, 158.0, label, 7, align="center")
    due_text = br_date(date.fromisoformat(bill.due_date)) if bill.due_date else ""
    for x, value in [(150.0, bill.automatic_debit_code or ""), (290.0, format_uc(bill.uc_code or "")),
                     (380.0, due_text), (485.0, f"R$ {br_number(doc.total)}")]:
        _text(c, BOLD, 10, x, 144.0, value, "center")
    year, month = (int(part) for part in (bill.reference_month or "0-0").split("-"))
    _text(c, BOLD, 10, 150.0, 122.0, month_name(year, month), "center")
    digits = doc.linha_digitavel
    _text(c, BOLD, 9.5, 240.0, 122.0, " ".join(f"{digits[i : i + 11]}-{digits[i + 11]}" for i in range(0, 48, 12)))
    if doc.automatic_debit:
        _text(c, BOLD, 11, 467.0, 70.0, "DÉBITO AUTOMÁTICO")
    _barcode(c, doc.barcode, 132.6, 40.0, width=279.2, height=33.7)
