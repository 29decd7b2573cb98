"""Route by the bill: at a portal login's inbox, the unit is the one whose installation the bill prints.

Only the login's own units are candidates, and only a printed number decides (10-digit installation or
15-digit UC code, never derived from each other). A bill of an installation of no unit of the login is
UnregisteredInstallation (the message waits for the unit); a bill printing no number at all is
Unroutable. One exception, the rule from before logins existed: a login with a single unit known only by
its installation takes a 2026 bill that prints only a UC code as that unit's (the address was the unit's
alone), and the unit learns the code.
"""

from __future__ import annotations

from collections.abc import Sequence

from processor.errors import UnregisteredInstallation, Unroutable
from processor.parse.checks import installation_matches
from processor.parse.schema import Bill
from storage.models import Unit


def unit_for_bill(bill: Bill, *, units: Sequence[Unit], login_id: int) -> tuple[Unit, str | None]:
    """The login's unit this bill is of, and the UC code it should learn (or None); raises as above."""
    if not bill.installation and not bill.uc_code:
        raise Unroutable(f"the bill at portal login {login_id}'s inbox prints no installation number",
                         user_message="A fatura chegou ao e-mail de um login com várias instalações e não mostra "
                                      "o número da instalação; confira-a manualmente.")
    matches = [u for u in units if any(installation_matches(bill, c) for c in (u.installation, u.uc_code) if c)]
    if len(matches) == 1:
        return matches[0], None
    if len(matches) > 1:  # unique numbers per utility make this impossible; refuse rather than pick
        raise Unroutable(f"the bill matches {len(matches)} units of portal login {login_id}")
    if (len(units) == 1 and units[0].uc_code is None and bill.uc_code is not None
            and bill.installation is None):
        return units[0], bill.uc_code
    raise UnregisteredInstallation(
        f"portal login {login_id} has no unit with installation {bill.installation or bill.uc_code}",
        portal_login_id=login_id, installation=bill.installation, uc_code=bill.uc_code,
        holder_name=bill.holder_name)
