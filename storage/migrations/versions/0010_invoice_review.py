"""invoice review and report forwarding: who reviewed a bill, and whether its forward carries the report


A bill left in `needs_review` (a failed check, or a layout no parser knows) becomes `parsed` once an
integrator confirms or corrects its fields; `reviewed_by` keeps that user's e-mail, `reviewed_at` the time.
Existing bills keep NULL in both (nobody reviewed them). `unit.forward_report` (default false, so existing
units forward as before) attaches the unit's monthly report to each forwarded bill.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02 04:25:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '0010'
down_revision: str | Sequence[str] | None = '0009'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Plain ADD COLUMN, not a batch: on SQLite a batch recreates the table, and dropping the old one with
    # foreign keys on would cascade to the rows that reference it (a unit's invoices, an invoice's forwards).
    op.add_column('invoice', sa.Column('reviewed_by', sqlmodel.sql.sqltypes.AutoString(length=254), nullable=True))
    op.add_column('invoice', sa.Column('reviewed_at', sa.DateTime(timezone=True), nullable=True))
    op.add_column('unit', sa.Column('forward_report', sa.Boolean(), server_default=sa.false(), nullable=False))


def downgrade() -> None:
    op.drop_column('unit', 'forward_report')
    op.drop_column('invoice', 'reviewed_at')
    op.drop_column('invoice', 'reviewed_by')
