"""portal logins: one login, many units, one shared inbox address; messages waiting for their unit

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02 04:30:00

Existing units with a portal login are grouped by (integrator, utility, login) into one `portal_login`
each, in place: no unit changes its inbox address and nothing is deleted. The login's address is that of
the unit whose adhesion last succeeded (that is the e-mail the portal holds now; lowest id when none did).
Every address of a login's units stays reserved and routed to the login (`inbox_address.portal_login_id`),
so a bill still arriving at a second unit's old address is routed by its installation, never lost.
`unit.inbox_address` stops being unique (units of one login share the login's); reservations stay unique.
"""

from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '0011'
down_revision: str | Sequence[str] | None = '0010'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_DONE = ('email_set', 'enrolled', 'verified', 'bill_overdue')
_SQLITE_NAMES = {"uq": "uq_%(table_name)s_%(column_0_name)s"}


def _drop_unique_inbox_address() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.drop_constraint('unit_inbox_address_key', 'unit', type_='unique')
        return
    # SQLite: the table is rebuilt (storage.migrate runs migrations with foreign keys off, so the rebuild
    # does not cascade into invoices); the unnamed constraint is found through a naming convention.
    with op.batch_alter_table('unit', naming_convention=_SQLITE_NAMES) as batch_op:
        batch_op.drop_constraint('uq_unit_inbox_address', type_='unique')


def upgrade() -> None:
    op.create_table('portal_login',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('utility', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('integrator_id', sa.Integer(), nullable=True),
    sa.Column('login', sqlmodel.sql.sqltypes.AutoString(length=254), nullable=False),
    sa.Column('password_enc', sa.String(), nullable=True),
    sa.Column('inbox_address', sqlmodel.sql.sqltypes.AutoString(length=254), nullable=False),
    sa.Column('email_status', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('email_set_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['integrator_id'], ['integrator.id'], ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('inbox_address'),
    sa.UniqueConstraint('utility', 'integrator_id', 'login', name='uq_portal_login_owner_login')
    )
    with op.batch_alter_table('portal_login', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_portal_login_integrator_id'), ['integrator_id'], unique=False)
    _drop_unique_inbox_address()
    with op.batch_alter_table('unit', schema=None) as batch_op:
        batch_op.add_column(sa.Column('portal_login_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_unit_inbox_address'), ['inbox_address'], unique=False)
        batch_op.create_index(batch_op.f('ix_unit_portal_login_id'), ['portal_login_id'], unique=False)
        batch_op.create_foreign_key('fk_unit_portal_login_id', 'portal_login', ['portal_login_id'], ['id'],
                                    ondelete='SET NULL')
    with op.batch_alter_table('inbox_address', schema=None) as batch_op:
        batch_op.add_column(sa.Column('portal_login_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_inbox_address_portal_login_id'), ['portal_login_id'], unique=False)
    with op.batch_alter_table('mail_message', schema=None) as batch_op:
        batch_op.add_column(sa.Column('portal_login_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('bill_installation', sqlmodel.sql.sqltypes.AutoString(length=10),
                                      nullable=True))
        batch_op.add_column(sa.Column('bill_uc_code', sqlmodel.sql.sqltypes.AutoString(length=15), nullable=True))
        batch_op.add_column(sa.Column('bill_holder_name', sqlmodel.sql.sqltypes.AutoString(length=200),
                                      nullable=True))
        batch_op.create_index(batch_op.f('ix_mail_message_portal_login_id'), ['portal_login_id'], unique=False)
        batch_op.create_foreign_key('fk_mail_message_portal_login_id', 'portal_login', ['portal_login_id'],
                                    ['id'], ondelete='SET NULL')
    _group_existing_units()


def _group_existing_units() -> None:
    """One portal_login per (integrator, utility, login) of the existing units; addresses unchanged."""
    bind = op.get_bind()
    units = bind.execute(sa.text(
        "SELECT id, utility, integrator_id, portal_login, portal_password_enc, inbox_address, adhesion_status"
        " FROM unit WHERE portal_login IS NOT NULL ORDER BY id")).all()
    last_success = dict(bind.execute(sa.text(
        "SELECT unit_id, MAX(finished_at) FROM adhesion_attempt WHERE outcome IN"
        " ('email_set', 'enrolled', 'verified') GROUP BY unit_id")).all())
    groups: dict[tuple, list] = defaultdict(list)
    for unit in units:
        groups[(unit.integrator_id, unit.utility, unit.portal_login)].append(unit)
    now = datetime.now(UTC)
    for (integrator_id, utility, login), members in groups.items():
        succeeded = [u for u in members if last_success.get(u.id) is not None]
        chosen = max(succeeded, key=lambda u: str(last_success[u.id])) if succeeded else members[0]
        email_set = any(u.adhesion_status in _DONE for u in members)
        login_id = bind.execute(sa.text(
            "INSERT INTO portal_login (utility, integrator_id, login, password_enc, inbox_address, email_status,"
            " email_set_at, created_at, updated_at) VALUES (:utility, :integrator_id, :login, :password,"
            " :address, :status, NULL, :now, :now) RETURNING id"),
            {"utility": utility, "integrator_id": integrator_id, "login": login,
             "password": chosen.portal_password_enc or next((u.portal_password_enc for u in members
                                                             if u.portal_password_enc), None),
             "address": chosen.inbox_address, "status": "email_set" if email_set else "pending",
             "now": now}).scalar_one()
        ids = [u.id for u in members]
        bind.execute(sa.text("UPDATE unit SET portal_login_id = :login_id WHERE id IN :ids")
                     .bindparams(sa.bindparam("ids", expanding=True)), {"login_id": login_id, "ids": ids})
        addresses = [u.inbox_address for u in members]
        bind.execute(sa.text("UPDATE inbox_address SET portal_login_id = :login_id WHERE address IN :addresses")
                     .bindparams(sa.bindparam("addresses", expanding=True)),
                     {"login_id": login_id, "addresses": addresses})


def downgrade() -> None:
    with op.batch_alter_table('mail_message', schema=None) as batch_op:
        batch_op.drop_constraint('fk_mail_message_portal_login_id', type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_mail_message_portal_login_id'))
        for column in ('bill_holder_name', 'bill_uc_code', 'bill_installation', 'portal_login_id'):
            batch_op.drop_column(column)
    with op.batch_alter_table('inbox_address', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_inbox_address_portal_login_id'))
        batch_op.drop_column('portal_login_id')
    with op.batch_alter_table('unit', schema=None) as batch_op:
        batch_op.drop_constraint('fk_unit_portal_login_id', type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_unit_portal_login_id'))
        batch_op.drop_index(batch_op.f('ix_unit_inbox_address'))
        batch_op.drop_column('portal_login_id')
        batch_op.create_unique_constraint('unit_inbox_address_key', ['inbox_address'])
    with op.batch_alter_table('portal_login', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_portal_login_integrator_id'))
    op.drop_table('portal_login')
