"""What the report pages show: a unit's months, charts and alerts, and its client's group of units."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from sqlmodel import Session, select

from config.settings import Settings
from reports.alerts import Alert, unit_alerts
from reports.economics import FORMULA_PT
from reports.monthly import GENERATION_BASIS_PT, ClientReport, MonthRow, client_report, monthly_rows
from service.digest import thresholds
from storage.generation import expected_generation
from storage.invoices import payee_mismatches
from storage.models import Unit
from storage.web_models import Integrator
from web.services.invoices import invoices_of
from web.services.reports import charts
from web.services.units import own_unit


@dataclass(frozen=True)
class UnitReportView:
    """The unit's report page."""

    unit: Unit
    rows: list[MonthRow]
    charts: list[tuple[str, str]]
    alerts: list[Alert]
    siblings: int
    """How many other units share the holder's document (the client view has them all)."""
    expected: list[Decimal] | None = None
    """The expected generation registered for the unit (12 values from January), if any."""
    formula: str = FORMULA_PT
    generation_basis: str = GENERATION_BASIS_PT

    @property
    def show_generation(self) -> bool:
        """The generation columns appear for a generating unit or one with an expected generation."""
        return bool(self.expected) or any(r.injected_kwh is not None for r in self.rows)


@dataclass(frozen=True)
class ClientReportView:
    """A client's report page: the holder's units together."""

    unit: Unit
    report: ClientReport
    charts: list[tuple[str, str]]
    alerts: list[Alert]
    formula: str = FORMULA_PT
    generation_basis: str = GENERATION_BASIS_PT
    unit_labels: dict[int, str] = field(default_factory=dict)
    """Each unit's label by id: an alert of the group names its unit."""


def client_units(*, session: Session, integrator: Integrator, unit: Unit) -> list[Unit]:
    """The integrator's units of the same holder document as `unit` (itself included), by id."""
    query = select(Unit).where(Unit.holder_document == unit.holder_document, Unit.integrator_id == integrator.id)
    return list(session.exec(query.order_by(Unit.id)).all())  # type: ignore[arg-type]


def unit_report_view(*, session: Session, settings: Settings, integrator: Integrator, unit_id: int) -> UnitReportView:
    """The report of one of the integrator's units (UnitNotFound for anybody else's)."""
    unit = own_unit(session=session, integrator=integrator, unit_id=unit_id)
    expected = expected_generation(session=session, unit_id=unit.id or 0)
    rows = monthly_rows(invoices_of(session=session, unit=unit), expected=expected)
    alerts = unit_alerts(unit.id or 0, rows, adhesion_status=unit.adhesion_status, limits=thresholds(settings),
                         payee_mismatches=payee_mismatches(session=session, unit_id=unit.id or 0))
    siblings = len(client_units(session=session, integrator=integrator, unit=unit)) - 1
    return UnitReportView(unit=unit, rows=rows, charts=charts(rows), alerts=alerts, siblings=siblings,
                          expected=expected)


def unit_label(unit: Unit) -> str:
    """How a unit is named in a client's report."""
    return f"Instalação {unit.installation or unit.uc_code}"


def client_report_view(*, session: Session, settings: Settings, integrator: Integrator,
                       unit_id: int) -> ClientReportView:
    """The report of the client (holder document) of one of the integrator's units."""
    unit = own_unit(session=session, integrator=integrator, unit_id=unit_id)
    units = client_units(session=session, integrator=integrator, unit=unit)
    plans = {u.id or 0: plan for u in units if (plan := expected_generation(session=session, unit_id=u.id or 0))}
    report = client_report([(u.id or 0, unit_label(u), invoices_of(session=session, unit=u)) for u in units],
                           expected=plans)
    by_id = {u.id: u for u in units}
    alerts = [a for part in report.units for a in unit_alerts(
        part.unit_id, part.rows, adhesion_status=by_id[part.unit_id].adhesion_status, limits=thresholds(settings))]
    return ClientReportView(unit=unit, report=report, charts=charts(report.totals), alerts=alerts,
                            unit_labels={part.unit_id: part.label for part in report.units})
