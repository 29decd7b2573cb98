"""Route: which unit a message is for, by the envelope headers our MTA adds, then To/Cc; never a guess.

`Delivered-To`, `X-Original-To` and `X-Envelope-To` carry the address the message was delivered to (BCC
and aliases included) and win over the visible `To`/`Cc`. Plus-addresses (`uc-…+cemig@…`) route to the
base address. No unit for any address, or several units in To/Cc with no envelope header to decide →
Unroutable (the message goes to Quarantine).
"""

from __future__ import annotations

from collections.abc import Mapping
from email.message import Message
from email.utils import getaddresses

from processor.errors import Unroutable
from processor.types import Route

ENVELOPE_HEADERS = ("Delivered-To", "X-Original-To", "X-Envelope-To")
VISIBLE_HEADERS = ("To", "Cc")


def normalise_address(address: str) -> str:
    """Lower-case, trimmed, without a +tag in the local part."""
    address = address.strip().strip("<>").lower()
    local, at, domain = address.rpartition("@")
    if not at:
        return address
    return f"{local.split('+', 1)[0]}@{domain}"


def _addresses(message: Message, header: str) -> list[str]:
    values = [str(value) for value in (message.get_all(header) or [])]
    return [normalise_address(address) for _, address in getaddresses(values) if "@" in address]


def route(message: Message, *, units_by_address: Mapping[str, int]) -> Route:
    """The unit this message is for; raises Unroutable with the addresses seen."""
    for header in ENVELOPE_HEADERS:
        for address in _addresses(message, header):
            if address in units_by_address:
                return Route(unit_id=units_by_address[address], address=address, header=header)
    matches: dict[int, tuple[str, str]] = {}
    for header in VISIBLE_HEADERS:
        for address in _addresses(message, header):
            if address in units_by_address:
                matches.setdefault(units_by_address[address], (address, header))
    if len(matches) == 1:
        unit_id, (address, header) = next(iter(matches.items()))
        return Route(unit_id=unit_id, address=address, header=header)
    seen = sorted({a for h in ENVELOPE_HEADERS + VISIBLE_HEADERS for a in _addresses(message, h)})
    if len(matches) > 1:
        raise Unroutable(f"addressed to several units ({', '.join(sorted(a for a, _ in matches.values()))}) "
                         "and no envelope header says which")
    raise Unroutable(f"no unit has any of the recipient addresses {seen or ['(none)']}")
