"""The tables of a CEMIG bill: billed items, taxes, consumption history, tariff flags and SCEE figures."""

from __future__ import annotations

import re
from decimal import Decimal

from processor.parse.br import MONEY, MONTH, NUMBER, date_iso, decimals, is_number, leads_its_line, month_iso, plain
from processor.parse.schema import Debt, Flag, HistoryEntry, Item, Scee, Tax

_ITEMS_HEADER = re.compile(r"(?m)^\s*Itens\s+da\s+Fatura\b.*$(?:\n\s*ICMS\s+ICMS\s*$)?")
_TOTAL = re.compile(rf"^\s*TOTAL\s+({NUMBER})(?:\s+{NUMBER})*\s*$")
_UNITS = ("kWh", "kW", "kVArh", "kvarh", "kVAr", "kvar", "UFER", "UFDR")
_TAX_LINE = re.compile(rf"(?m)(ICMS|PASEP|PIS|COFINS)\s+({NUMBER})\s+({NUMBER})\s+({NUMBER})\s*$")
"""A tax row of the *Reservado ao Fisco* box: the name leads its line, or follows the box header's last label
(`_TAX_HEADER_END`), where some PDF producers (pdftocairo) move the first row up
(``Base de cálculo (R$) Alíquota (%) Valor (R$) ICMS 628,19 18,00 113,07``). The pattern starts on the
name and the place is checked after (`_tax_row_starts`): a `(?m)^.*?Valor` prefix would be tried at every line."""
_TAX_HEADER_END = re.compile(r"Valor\s*\(R\$\)$")
_TAX_HEADER_REACH = 40
"""Characters before the blanks before a tax name that may hold the header's ``Valor (R$)``."""
_TAX_NAMES = {"ICMS": "icms", "PASEP": "pis", "PIS": "pis", "COFINS": "cofins"}
_HISTORY_ROW = re.compile(rf"/(?<=({MONTH})/)(\d{{2}})\s+({NUMBER})\s+({NUMBER})\s+(\d{{1,3}})\b")
r"""A history row (``JUN/23 1.057 34,09 31``) whose month leads its line (`history` checks it). The search starts on
the slash, with the month read behind it: a `(?m)^\s*` prefix was tried at every position of the bill."""
_FLAG = re.compile(r"Band\.\s+(Verde|Amarela|Verm(?:elha|\.)?(?:\s+P(?:atamar)?\s*[12])?|Escassez\s+H[íi]drica)")
"""A flag's name after ``Band.``; its month (``MAI/23 Band. Verde``) is read just before it (`_FLAG_MONTH`). The
pattern starts on the literal, which the regex engine finds by a fast scan; starting on the month it was
tried at every capital letter of the bill."""
_FLAG_MONTH = re.compile(rf"({MONTH})/(\d{{2}})")
"""The flag's month, right before the blanks before ``Band.``."""
_BALANCE = re.compile(r"SALDO\s+ATUAL\s+DE\s+GERA[ÇC][ÃA]O:\s*(" + NUMBER + r")\s*kWh(?!\s*(?:FP|PONTA|ponta))")
_GD_NOTICE = re.compile(r"sistema\s+de\s+compensa[çc][ãa]o\s+de\s+energia")
r"""In this, `_BALANCE` and `_FLAG` every blank is `\s+` or `\s*`, so a sentence broken across lines is found in the
text as it is: no need to join its lines first."""
_SCEE_ENERGY = re.compile(r"^(?:Energia\s+SCEE\b|En\s+comp\.\s+s/\s*ICMS|Energia\s+compensada\s+ISENTA)", re.I)
_SCEE_COMPENSATED = re.compile(
    r"^(?:Energia\s+compensada\s+GD|Compensa[çc][ãa]o\s+GD|Energia\s+injetada|Energia\s+comp\.\s+adicional)", re.I
)
_PUBLIC_LIGHTING = re.compile(r"^Contrib\.?\s+Ilum", re.I)
_TOTAL_LINE = re.compile(rf"(?m)^\s*TOTAL\s+{NUMBER}(?:\s+{NUMBER})*\s*$")
_NOT_AN_ITEM = re.compile(rf"^\s*(?:{MONTH}/\d{{4}}|\d{{2}}/\d{{2}}/\d{{4}})\b|\d{{11}}-\d")
"""Header triples (``SET/2026 17/10/2026 266,06``) and linha digitável blocks end an unlabelled items table."""
_DEBTS_LABEL = re.compile(r"NOTIFICA[ÇC][ÃA]O\s+DE\s+D[ÉE]BITO\(?S?\)?", re.I)
_DEBT_ROW = re.compile(rf"(?<![\d/])(\d{{2}})/(\d{{4}})\s+({MONEY})(?:[ \t]+(\d{{2}}/\d{{2}}/\d{{4}}))?(?![\d,])")
_DEBTS_SCOPE = 900
"""Characters after the notice's label where its rows are looked for."""
_UNIT_PRICE_SLACK = Decimal("0.01")


def _item(line: str) -> Item | None:
    """One row of *Valores Faturados*: description, [unit, quantity, unit price,] amount, [taxes, tariff]."""
    tokens = line.split()
    trailing = 0
    while trailing < len(tokens) and is_number(tokens[-1 - trailing]):
        trailing += 1
    if trailing == 0:
        return None
    head, numbers = tokens[: len(tokens) - trailing], tokens[len(tokens) - trailing :]
    if head and head[-1] in _UNITS and len(numbers) >= 3 and decimals(numbers[2]) == 2:
        return Item(
            description=" ".join(head[:-1]),
            unit=head[-1],
            quantity=plain(numbers[0]),
            unit_price=plain(numbers[1]),
            amount=plain(numbers[2]),
        )
    # Without a unit, the amount is the first two-decimal number; integers before it belong to the
    # description ("Bônus Itaipu art 21 Lei 10438 -9,79"), a long-decimal number is the unit price.
    position = next((i for i, token in enumerate(numbers) if decimals(token) == 2), None)
    if position is None:
        return None
    before = numbers[:position]
    unit_price = None
    if before and decimals(before[-1]) > 2:
        unit_price = plain(before.pop())
    quantity = None
    if unit_price is not None and before and _is_quantity(before[-1], unit_price, numbers[position]):
        quantity = plain(before.pop())  # a row printed without its unit: `Energia Elétrica 201 1,17263918 235,69`
    description = " ".join(head + before)
    if not description or any(decimals(token) for token in before):
        return None
    return Item(description=description, quantity=quantity, unit_price=unit_price, amount=plain(numbers[position]))


def _is_quantity(token: str, unit_price: str, amount: str) -> bool:
    """Whether ``token`` is the row's quantity: quantity × unit price gives the amount (to the cent per unit)."""
    if decimals(token) != 0:
        return False
    quantity = Decimal(plain(token))
    if quantity <= 0:
        return False
    expected = quantity * Decimal(unit_price)
    return abs(expected - abs(Decimal(plain(amount)))) <= max(_UNIT_PRICE_SLACK * quantity / 100, Decimal("0.05"))


def items(text: str, *, by_shape: bool = False) -> tuple[list[Item], str | None, bool]:
    """The rows between the items table header and ``TOTAL``, the TOTAL amount, and whether every row read.

    Lines after TOTAL (``Bandeira … - Já Incluído no valor a pagar``) are informative and never items. With
    ``by_shape`` (2026 layouts, whose table header may be an image) and no header, the rows are the item-shaped
    lines right above the ``TOTAL`` row.
    """
    header = _ITEMS_HEADER.search(text)
    if header is None and by_shape:
        return _items_above_total(text)
    if header is None:
        return [], None, False
    rows: list[Item] = []
    complete = True
    for line in text[header.end() :].split("\n"):
        if not line.strip():
            continue
        total = _TOTAL.match(line)
        if total:
            return rows, plain(total[1]), complete
        item = _item(line)
        if item is None:
            complete = False
            continue
        rows.append(item)
    return rows, None, False


def _items_above_total(text: str) -> tuple[list[Item], str | None, bool]:
    total_match = _TOTAL_LINE.search(text)
    if total_match is None:
        return [], None, False
    total = _TOTAL.match(total_match[0])
    rows: list[Item] = []
    for line in reversed(text[: total_match.start()].split("\n")):
        if not line.strip():
            continue
        item = None if _NOT_AN_ITEM.search(line) else _item(line)
        if item is None:
            break
        rows.insert(0, item)
    return rows, plain(total[1]) if total else None, bool(rows)


def debts(text: str) -> list[Debt]:
    """The open bills of the ``NOTIFICAÇÃO DE DÉBITO(S)`` box: ``03/2026 445,00 14/05/2026`` (month, amount, cut-off).

    Rows are read only after the notice's label; a bill without the notice lists no debts.
    """
    if "NOTIFICA" not in text and "Notifica" not in text:  # a cheap test first: most bills have no notice
        return []
    label = _DEBTS_LABEL.search(text)
    if label is None:
        return []
    found: list[Debt] = []
    for match in _DEBT_ROW.finditer(text[label.end() : label.end() + _DEBTS_SCOPE]):
        month = int(match[1])
        if not 1 <= month <= 12:
            continue
        debt = Debt(month=f"{match[2]}-{match[1]}", amount=plain(match[3]),
                    cut_off_date=date_iso(match[4]) if match[4] else None)
        if debt not in found:
            found.append(debt)
    return found


def public_lighting(rows: list[Item]) -> str | None:
    """The municipal public-lighting contribution (``Contrib Ilum Publica Municipal``)."""
    return next((row.amount for row in rows if _PUBLIC_LIGHTING.match(row.description)), None)


def _tax_row_starts(text: str, position: int) -> bool:
    """Whether a tax name at `position` leads its line (blanks before it) or follows ``Valor (R$)``."""
    if leads_its_line(text, position):
        return True
    end = position
    while end > 0 and text[end - 1].isspace():
        end -= 1
    return _TAX_HEADER_END.search(text, max(0, end - _TAX_HEADER_REACH), end) is not None


def taxes(text: str) -> dict[str, Tax]:
    """The *Reservado ao Fisco* lines (``ICMS``, ``PASEP`` → pis, ``COFINS``): base, rate and value."""
    found: dict[str, Tax] = {}
    for match in _TAX_LINE.finditer(text):
        if not _tax_row_starts(text, match.start()):
            continue
        name = _TAX_NAMES[match[1]]
        found.setdefault(name, Tax(base=plain(match[2]), rate=plain(match[3]), value=plain(match[4])))
    return found


def history(text: str) -> list[HistoryEntry]:
    """The *Histórico de Consumo* rows (``JUN/23 1.057 34,09 31``), in the bill's order."""
    start = text.find("Histórico de Consumo")
    scope = text[start:] if start >= 0 else text
    entries = []
    for match in _HISTORY_ROW.finditer(scope):
        if not leads_its_line(scope, match.start(1)):
            continue
        month = month_iso(match[1], match[2])
        if month is not None:
            entries.append(HistoryEntry(month=month, kwh=plain(match[3]), days=int(match[5])))
    return entries


def _flag_name(raw: str) -> str:
    words = raw.lower().replace(".", " ").split()
    if words[0] == "verde":
        return "verde"
    if words[0] == "amarela":
        return "amarela"
    if words[0] == "escassez":
        return "escassez_hidrica"
    level = next((word[-1] for word in words[1:] if word[-1] in "12"), None)
    return f"vermelha_p{level}" if level else "vermelha"


def flags(text: str) -> list[Flag]:
    """Tariff flags from *Informações Gerais* (``MAI/23 Band. Verde - JUN/23 Band. Verde.``).

    A flag counts with its month just before it, blanks (a line break too) between them.
    """
    result = []
    for match in _FLAG.finditer(text):
        month_end = len(text[: match.start()].rstrip())
        if month_end == match.start():
            continue
        before = _FLAG_MONTH.fullmatch(text, max(0, month_end - 6), month_end)  # `MMM/AA`: six characters
        if before is None:
            continue
        month = month_iso(before[1], before[2])
        flag = Flag(month=month, flag=_flag_name(match[1]))
        if flag not in result:
            result.append(flag)
    return result


def _sum_quantities(rows: list[Item], pattern: re.Pattern[str]) -> str | None:
    quantities = [row.quantity for row in rows if pattern.match(row.description) and row.quantity is not None]
    if not quantities:
        return None
    return str(sum((Decimal(q) for q in quantities), Decimal(0)))


def scee(text: str, rows: list[Item]) -> Scee | None:
    """SCEE figures: SCEE energy (kWh), compensated energy (kWh) and the credit balance.

    None when the bill shows no generation at all (no SCEE rows, no balance, no SCEE notice).
    """
    balance = _BALANCE.search(text)
    energy = _sum_quantities(rows, _SCEE_ENERGY)
    compensated = _sum_quantities(rows, _SCEE_COMPENSATED)
    if energy is None and compensated is None and balance is None and not _GD_NOTICE.search(text):
        return None
    return Scee(
        energy_kwh=energy,
        compensated_kwh=compensated,
        credit_balance_kwh=plain(balance[1]) if balance else None,
    )
