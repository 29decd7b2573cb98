"""Bills put up for review, stored as the pipeline stores them: a made-up layout (a review item) and a failed check."""

from __future__ import annotations

from processor.bill import read_bill
from processor.store import store_bill
from processor.types import UnlockedPdf
from storage.engine import session_scope
from storage.models import Unit
from tests.processor.mime import bill
from tests.processor.test_unparsed import _made_up_layout


def store_for_review(app, unit_id: int, *, cycle: str = "2026-11", other_installation: str | None = None):  # noqa: ANN001
    """Store a bill of the unit that needs review; returns (invoice id, the generated bill's truth).

    Without `other_installation`: the unit's bill in a layout no parser knows, read generically (an
    authentic e-mail with `mail.forward_unparsed`). With it: a regular bill printing another installation.
    """
    from config.wiring import blob_store

    with session_scope(app.engine) as session:
        unit = session.get(Unit, unit_id)
        if other_installation is None:
            generated = _made_up_layout(unit.installation, cycle)
        else:
            generated = bill(other_installation, cycle)
        pdf = UnlockedPdf(filename=f"fatura-{cycle}.pdf", original=generated.pdf, readable=generated.plain_pdf)
        read = read_bill(pdf, utility="cemig", installations=[unit.installation], unparsed_fallback=True)
        outcome = store_bill(session=session, blobs=blob_store(app), unit=unit, read=read, source="email",
                             mail_message_id=None)
        assert outcome.status == "needs_review", outcome
        return outcome.invoice_id, generated.bill
