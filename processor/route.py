"""Route: which unit a message is for, by the envelope headers our MTA adds, then To/Cc; never a guess.

`Delivered-To`, `X-Original-To` and `X-Envelope-To` carry the address the message was delivered to (BCC
and aliases included) and win over the visible `To`/`Cc`. Plus-addresses (`uc-…+cemig@…`) route to the
base address. No unit for any address, or several units in To/Cc with no envelope header to decide →
Unroutable (the message goes to Quarantine). An address of a portal login (`logins_by_address`) gives a
Route with `login_id` and no unit: the bill's installation chooses the unit (processor.login_route).
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


def route(message: Message, *, units_by_address: Mapping[str, int],
          logins_by_address: Mapping[str, int] | None = None) -> Route:
    """The unit (or portal login) this message is for; raises Unroutable with the addresses seen."""
    logins = logins_by_address or {}

    def target(address: str) -> tuple[str, int] | None:
        if address in units_by_address:
            return ("unit", units_by_address[address])
        if address in logins:
            return ("login", logins[address])
        return None

    def made(found: tuple[str, int], address: str, header: str) -> Route:
        kind, ident = found
        return Route(unit_id=ident if kind == "unit" else None, login_id=ident if kind == "login" else None,
                     address=address, header=header)

    for header in ENVELOPE_HEADERS:
        for address in _addresses(message, header):
            if (found := target(address)) is not None:
                return made(found, address, header)
    matches: dict[tuple[str, int], tuple[str, str]] = {}
    for header in VISIBLE_HEADERS:
        for address in _addresses(message, header):
            if (found := target(address)) is not None:
                matches.setdefault(found, (address, header))
    if len(matches) == 1:
        found, (address, header) = next(iter(matches.items()))
        return made(found, address, header)
    seen = sorted({a for h in ENVELOPE_HEADERS + VISIBLE_HEADERS for a in _addresses(message, h)})
    if len(matches) > 1:
        raise Unroutable(f"addressed to several units ({', '.join(sorted(a for a, _ in matches.values()))}) "
                         "and no envelope header says which")
    raise Unroutable(f"no unit has any of the recipient addresses {seen or ['(none)']}")
