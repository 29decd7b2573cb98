"""The meter rows of *Informações Técnicas*: ``Energia kWh`` (consumption) and ``Energia Injetada`` (generation).

Rows are read whole when the extractor keeps their cells apart, and split by their arithmetic when it glues
them (``Energia kWhART2304163896.3386.6411303``). Nothing here guesses: a row that fits two readings is None.
"""

from __future__ import annotations

import re

from processor.parse.br import NUMBER, leads_its_line, plain
from processor.parse.schema import Injection, Meter

_METER_ROW = re.compile(
    rf"(?m)Energia\s+kWh\s+(?:([A-Z]{{2,4}}\d{{6,}})\s+)?({NUMBER})\s+({NUMBER})\s+({NUMBER})\s+({NUMBER})\s*$"
)
"""The consumption row, which leads its line (`meter` checks it, so that the search starts on a literal)."""
_INJECTED_ROW = re.compile(
    rf"(?m)^\s*Energia\s+Injetada(?:\s+kWh)?\s+(?:([A-Z]{{2,4}}\d{{6,}})\s+)?"
    rf"({NUMBER})\s+({NUMBER})\s+({NUMBER})\s+({NUMBER})\s*$",
    re.IGNORECASE,
)
# Some extractors glue the cells of a meter row: `Energia kWhART2304163896.3386.6411303`.
_GLUED_ROW = re.compile(r"(?m)^\s*Energia\s*(kWh|Injetada)\s*(?:kWh\s*)?([A-Z]{2,4})(\d[\d.]*\d)\s*$", re.I)
_MULTIPLIERS = (1, 10, 20, 30, 40, 50, 80, 100, 200, 400, 800, 1000)
"""Meter constants seen on CEMIG bills, tried first when a glued row has several readings."""
_INTEGER = re.compile(r"0|[1-9]\d{0,2}(?:\.\d{3})*")


def meter(text: str, *, glued: bool = False) -> tuple[Meter, str | None]:
    """The ``Energia kWh`` row of *Informações Técnicas*: the meter and its metered consumption (kWh).

    With ``glued``, a row whose cells the extractor glued together is split as well (see ``split_glued``).
    """
    match = next((row for row in _METER_ROW.finditer(text) if leads_its_line(text, row.start())), None)
    if match is not None:
        return (
            Meter(id=match[1], previous=plain(match[2]), current=plain(match[3]), multiplier=plain(match[4])),
            plain(match[5]),
        )
    row = _glued(text, "kwh") if glued else None
    if row is None:
        return Meter(), None
    return Meter(id=row.id, previous=row.previous, current=row.current, multiplier=row.multiplier), row.kwh


def injection(text: str) -> Injection | None:
    """The ``Energia Injetada <meter> <previous> <current> <constant> <kWh>`` row of a generating unit."""
    match = _INJECTED_ROW.search(text)
    if match is None:
        return _glued(text, "injetada")
    return Injection(id=match[1], previous=plain(match[2]), current=plain(match[3]),
                     multiplier=plain(match[4]), kwh=plain(match[5]))


def _glued(text: str, kind: str) -> Injection | None:
    for match in _GLUED_ROW.finditer(text):
        if match[1].lower() == kind:
            return split_glued(match[2], match[3])
    return None


def _splits(digits: str, parts: int) -> list[list[str]]:
    """Every way to cut ``digits`` into ``parts`` pt-BR integers (``6.338``, ``1``; no leading zeros)."""
    if parts == 1:
        return [[digits]] if _INTEGER.fullmatch(digits) else []
    out = []
    for cut in range(1, len(digits)):
        head = digits[:cut]
        if _INTEGER.fullmatch(head) and digits[cut] != ".":
            out.extend([head, *rest] for rest in _splits(digits[cut:], parts - 1))
    return out


def split_glued(letters: str, digits: str) -> Injection | None:
    """Split a glued meter row (``ART`` + ``2304163896.3386.6411303``) into meter, readings, constant and kWh.

    The meter id is the letters and 9 to 11 digits; the rest must cut into previous, current, constant and
    consumption with (current − previous) × constant = consumption. Only one reading may fit (constants CEMIG
    uses are preferred); otherwise None, never a guess.
    """
    solutions: list[tuple[bool, Injection]] = []
    for id_digits in (9, 10, 11):
        meter_id, rest = letters.upper() + digits[:id_digits], digits[id_digits:]
        if "." in digits[:id_digits] or not rest:
            continue
        for previous, current, constant, kwh in _splits(rest, 4):
            p, c, k, e = (int(value.replace(".", "")) for value in (previous, current, constant, kwh))
            if k > 0 and c >= p and (c - p) * k == e:
                solutions.append((k in _MULTIPLIERS, Injection(
                    id=meter_id, previous=plain(previous), current=plain(current), multiplier=plain(constant),
                    kwh=plain(kwh))))
    preferred = [row for usual, row in solutions if usual] or [row for _, row in solutions]
    return preferred[0] if len({row for row in preferred}) == 1 else None
