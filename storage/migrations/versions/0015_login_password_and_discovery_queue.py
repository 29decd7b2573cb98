"""login password and discovery queue: the login holds its units' only password; discoveries are queued

The login's password (set by 0011 from its units) is the one the bot uses; copies on units are moved to a
login that has none, then cleared, so erasing a login's credentials (storage.credentials) leaves no other
copy. Units without a login keep theirs. No address, bill or state changes.

The dashboard's "Buscar instalações deste login" queues a discovery on the login (`discovery_requested_at`)
for the service's `discovery_queue` job, which records how it ended (`discovery_status`, `discovery_message`).

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-03 06:45:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '0015'
down_revision: str | Sequence[str] | None = '0014'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('portal_login', schema=None) as batch_op:
        batch_op.add_column(sa.Column('discovery_requested_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('discovery_status', sqlmodel.sql.sqltypes.AutoString(length=32),
                                      nullable=True))
        batch_op.add_column(sa.Column('discovery_message', sqlmodel.sql.sqltypes.AutoString(length=500),
                                      nullable=True))
    connection = op.get_bind()
    rows = connection.execute(sa.text(
        "SELECT u.id, u.portal_login_id, u.portal_password_enc, l.password_enc FROM unit u"
        " JOIN portal_login l ON l.id = u.portal_login_id WHERE u.portal_password_enc IS NOT NULL"
        " ORDER BY u.updated_at DESC, u.id DESC")).all()
    filled: set[int] = set()
    for _unit_id, login_id, unit_password, login_password in rows:
        if login_password is None and login_id not in filled:  # the most recently updated unit's copy
            connection.execute(sa.text("UPDATE portal_login SET password_enc = :p WHERE id = :id"),
                               {"p": unit_password, "id": login_id})
            filled.add(login_id)
    connection.execute(sa.text(
        "UPDATE unit SET portal_password_enc = NULL WHERE portal_login_id IS NOT NULL"))


def downgrade() -> None:
    with op.batch_alter_table('portal_login', schema=None) as batch_op:
        batch_op.drop_column('discovery_message')
        batch_op.drop_column('discovery_status')
        batch_op.drop_column('discovery_requested_at')
    connection = op.get_bind()
    connection.execute(sa.text(
        "UPDATE unit SET portal_password_enc = (SELECT password_enc FROM portal_login"
        " WHERE portal_login.id = unit.portal_login_id) WHERE portal_login_id IS NOT NULL"))
