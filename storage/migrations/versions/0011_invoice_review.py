"""invoice review: who confirmed or corrected a bill's fields on the review screen, and when

A bill left in `needs_review` (a failed check, or a layout no parser knows) becomes `parsed` once an
integrator confirms or corrects its fields; `reviewed_by` keeps that user's e-mail, `reviewed_at` the time.
Existing bills keep NULL in both (nobody reviewed them).

Revision ID: 0011
Revises: 0008
Create Date: 2026-12-02 04:25:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '0011'
down_revision: str | Sequence[str] | None = '0008'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('invoice', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reviewed_by', sqlmodel.sql.sqltypes.AutoString(length=254), nullable=True))
        batch_op.add_column(sa.Column('reviewed_at', sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('invoice', schema=None) as batch_op:
        batch_op.drop_column('reviewed_at')
        batch_op.drop_column('reviewed_by')
