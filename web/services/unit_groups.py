"""The unit list grouped as a client sees it: by holder document (CPF/CNPJ) or by portal login.

A solar client is usually several units: the generating unit and the beneficiaries that receive its
credits, often under one login. Grouping puts them together; a generating unit (one with an expected
generation plan, or whose bill showed injected energy) is listed first in its group and marked, and a unit
whose bill showed compensated energy without injecting any is marked as a beneficiary. Nothing is guessed:
a unit with neither shows no role.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlmodel import Session, col, select

from storage.generation import ExpectedGeneration
from storage.login_models import PortalLogin
from storage.mail_models import Invoice
from storage.models import Unit
from storage.validators import format_document

GROUPINGS = {"titular": "Titular (CPF/CNPJ)", "login": "Login do portal"}


@dataclass
class UnitGroup:
    """One holder's or one login's units, generating units first."""

    title: str
    login_id: int | None = None
    units: list[Unit] = field(default_factory=list)
    generating: set[int] = field(default_factory=set)
    beneficiaries: set[int] = field(default_factory=set)

    @property
    def has_beneficiaries(self) -> bool:
        """A generating unit and at least one unit whose bills showed credits received."""
        return bool(self.generating) and bool(self.beneficiaries)


def solar_roles(*, session: Session, unit_ids: list[int]) -> tuple[set[int], set[int]]:
    """(generating, beneficiaries) among the units, from their plans and bills.

    Generating: a generation plan, or a bill with energy injected. Beneficiary: bills with compensated
    energy and none injected.
    """
    if not unit_ids:
        return set(), set()
    planned = set(session.exec(select(ExpectedGeneration.unit_id).where(
        col(ExpectedGeneration.unit_id).in_(unit_ids))).all())
    bills = session.exec(select(Invoice.unit_id, Invoice.data).where(col(Invoice.unit_id).in_(unit_ids))).all()
    injected = {unit_id for unit_id, data in bills if _kwh(data, "energy_kwh") > 0}
    compensated = {unit_id for unit_id, data in bills if _kwh(data, "compensated_kwh") > 0}
    generating = planned | injected
    return generating, compensated - generating


def _kwh(data: dict | None, name: str) -> float:
    scee = (data or {}).get("scee") or {}
    try:
        return float(scee.get(name) or 0)
    except (TypeError, ValueError):
        return 0.0


def group_units(*, session: Session, units: list[Unit], by: str) -> list[UnitGroup]:
    """Group units (already the integrator's) by `titular` (holder document) or `login` (portal login).

    Units without a portal login form one group each under `login`, named after the unit: they have their
    own inbox. Groups keep the order of their first unit.
    """
    generating, beneficiaries = solar_roles(session=session, unit_ids=[u.id for u in units if u.id is not None])
    groups: dict[object, UnitGroup] = {}
    for unit in units:
        if by == "login" and unit.portal_login_id is not None:
            key: object = ("login", unit.portal_login_id)
            if key not in groups:
                login = session.get(PortalLogin, unit.portal_login_id)
                name = login.login if login is not None else str(unit.portal_login_id)
                shown = format_document(name) if name.isdigit() else name
                groups[key] = UnitGroup(title=f"Login {shown}", login_id=unit.portal_login_id)
        elif by == "login":
            key = ("unit", unit.id)
            groups[key] = UnitGroup(title=f"{unit.client_name} (sem login do portal)")
        else:
            key = ("holder", unit.holder_document)
            groups.setdefault(key, UnitGroup(
                title=f"Titular {unit.client_name} ({format_document(unit.holder_document)})"))
        group = groups[key]
        group.units.append(unit)
        if unit.id in generating:
            group.generating.add(unit.id)
        elif unit.id in beneficiaries:
            group.beneficiaries.add(unit.id)
    for group in groups.values():
        group.units.sort(key=lambda u: u.id not in group.generating)  # stable: generating units first
    return list(groups.values())
