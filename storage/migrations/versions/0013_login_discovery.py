"""login discovery: the installations the portal listed for a login, as the last discovery read them

`portal_login.discovery_json` holds the list (number, UC code, address, status, customer) read by
`faturas logins discover` or the dashboard's "Buscar instalações deste login"; `discovered_at` when.
Existing logins keep NULL (never discovered).

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-02 05:25:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0013'
down_revision: str | Sequence[str] | None = '0012'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('portal_login', schema=None) as batch_op:
        batch_op.add_column(sa.Column('discovery_json', sa.String(), nullable=True))
        batch_op.add_column(sa.Column('discovered_at', sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('portal_login', schema=None) as batch_op:
        batch_op.drop_column('discovered_at')
        batch_op.drop_column('discovery_json')
