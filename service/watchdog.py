"""The missing-bill watchdog: a verified unit whose next bill is late goes to `bill_overdue`.

CEMIG prints the date of the next meter reading ("Próxima leitura") on every bill; the next bill is
e-mailed a few days after it. When that date plus `overdue_days` has passed and no newer bill arrived,
the usual cause is that the unit's Conta Digital e-mail was changed at CEMIG: the integrator should
check it (the bot can re-verify it with `faturas adhere UNIT`).
"""

from __future__ import annotations

from datetime import date, timedelta

import structlog
from sqlmodel import Session, col, select

from storage.mail_models import Invoice
from storage.models import AdhesionStatus, Unit
from storage.units import set_adhesion_status

log = structlog.get_logger(__name__)


def _next_reading(invoice: Invoice) -> date | None:
    value = (invoice.data or {}).get("reading", {}).get("next")
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


def check_overdue(*, session: Session, today: date, overdue_days: int) -> list[int]:
    """Flag verified units whose latest bill's next reading is more than `overdue_days` behind `today`."""
    flagged = []
    units = session.exec(select(Unit).where(Unit.adhesion_status == AdhesionStatus.VERIFIED.value)).all()
    for unit in units:
        latest = session.exec(select(Invoice).where(Invoice.unit_id == unit.id, Invoice.source == "email")
                              .order_by(col(Invoice.reference_month).desc(), col(Invoice.version).desc())
                              .limit(1)).first()
        expected = _next_reading(latest) if latest is not None else None
        if expected is None or today <= expected + timedelta(days=overdue_days):
            continue
        set_adhesion_status(
            session=session, unit=unit, status=AdhesionStatus.BILL_OVERDUE,
            message=(f"no bill since {latest.reference_month}; the next reading was due {expected.isoformat()}. "
                     "Check the unit's Conta Digital e-mail at CEMIG, or re-run `faturas adhere` for it"))
        log.warning("bill_overdue", unit_id=unit.id, last_month=latest.reference_month,
                    next_reading=expected.isoformat())
        flagged.append(unit.id)
    return flagged
