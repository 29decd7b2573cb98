"""uc codes: an invoice keeps the 15-digit UC code its bill prints (2026 bills)

The unit's own `uc_code` (unique per utility) exists since 0001; 2026 bills print the UC code in place of
the installation number, so the invoice records it beside `installation`.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 00:45:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '0006'
down_revision: str | Sequence[str] | None = '0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('invoice', schema=None) as batch_op:
        batch_op.add_column(sa.Column('uc_code', sqlmodel.sql.sqltypes.AutoString(length=15), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('invoice', schema=None) as batch_op:
        batch_op.drop_column('uc_code')
