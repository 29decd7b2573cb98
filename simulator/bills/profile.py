"""What the bill generator and the mailer need to know about one simulated installation.

The portal's store builds these from its own records; the generator and the mailer take nothing else,
so the bill side of the simulator does not depend on the portal side.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from decimal import Decimal
from typing import Any


@dataclass(frozen=True)
class InstallationProfile:
    """One CEMIG installation as the billing system sees it."""

    installation: str
    """CEMIG's 10-digit "Nº da instalação"."""
    customer_number: str
    """The 10-digit "Nº do cliente"."""
    holder_name: str
    holder_document: str
    """CPF (11 digits) or CNPJ (14 digits), digits only; the bill prints it masked."""
    address_lines: tuple[str, ...]
    supply_type: str = "bifasico"
    """monofasico | bifasico | trifasico."""
    tariff_class: str = "Residencial"
    tariff_subclass: str = "Residencial"
    has_generation: bool = True
    """Whether the unit has a solar plant (SCEE items, "SALDO ATUAL DE GERAÇÃO")."""
    uc_code: str | None = None
    """The 15-digit "Unidade Consumidora" code used from 2026, when known."""
    pdf_password: str | None = None
    """When set, the e-mailed PDF is encrypted (AES-256) with this password."""
    email: str | None = None
    """Where Conta Digital sends the bill; None when the installation is not enrolled."""
    seed: int = 0
    """Makes consumption and generation deterministic per installation."""
    reading_basis: str | None = None
    """`average` / `estimated` / `informed`: the bill says its consumption was not read from the meter."""
    credit_share: Decimal | None = None
    """Percent of a plant's injected energy credited to this unit (None: the seed's own share, for a plant).

    A generating unit with beneficiaries keeps its share (e.g. 35) and each beneficiary names the plant and
    its own share (e.g. 30): the shares of the "rateio" registered with CEMIG."""
    plant: InstallationProfile | None = None
    """For a beneficiary unit (no plant of its own): the generating unit whose injected energy it shares."""
    kwp: Decimal | None = None
    """The plant's size, when set (None: sized from the seed to the unit's consumption)."""
    consumption_boost: tuple[tuple[str, int], ...] = ()
    """(cycle ``YYYY-MM``, percent): cycles whose grid consumption is that percent of the usual (a fault)."""
    uncompensated: tuple[str, ...] = ()
    """Cycles in which the utility billed the energy without applying the credits (a billing error)."""

    @property
    def receives_credits(self) -> bool:
        """Whether SCEE credits reach the unit: its own plant's, or a share of another unit's plant."""
        return self.has_generation or self.plant is not None


def profile_from_json(row: dict[str, Any]) -> InstallationProfile:
    """A profile from its JSON form (the portal admin API's `/profiles`): lists back to tuples, numbers to Decimal.

    The profile must stay hashable: the billing model caches by it.
    """
    known = {f.name for f in fields(InstallationProfile)}
    data = {k: v for k, v in row.items() if k in known}
    data["address_lines"] = tuple(data.get("address_lines") or ())
    data["consumption_boost"] = tuple((str(c), int(p)) for c, p in data.get("consumption_boost") or ())
    data["uncompensated"] = tuple(data.get("uncompensated") or ())
    for name in ("credit_share", "kwp"):
        if data.get(name) is not None:
            data[name] = Decimal(str(data[name]))
    if data.get("plant") is not None:
        data["plant"] = profile_from_json(data["plant"])
    return InstallationProfile(**data)
