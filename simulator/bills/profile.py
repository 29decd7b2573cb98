"""What the bill generator and the mailer need to know about one simulated installation.

The portal's store builds these from its own records; the generator and the mailer take nothing else,
so the bill side of the simulator does not depend on the portal side.
"""

from __future__ import annotations

from dataclasses import dataclass


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
