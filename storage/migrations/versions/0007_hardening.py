"""hardening: saved browser sessions scoped to an integrator and a credential fingerprint

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 00:45:00

The old table was keyed by (utility, portal login) only, so a unit with another integrator's login and
a wrong password rode on a session it never opened (issue 14, items 1 and 3). Those rows cannot be
re-keyed (the fingerprint needs the credentials that opened them, which a migration cannot know) and
are exactly the unsafe ones: the table is recreated empty. The cost is one fresh login per portal login.
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '0007'
down_revision: str | Sequence[str] | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_table('browser_session')
    op.create_table('browser_session',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('utility', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('portal_login', sqlmodel.sql.sqltypes.AutoString(length=254), nullable=False),
    sa.Column('integrator_id', sa.Integer(), nullable=True),
    sa.Column('fingerprint', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('state_enc', sa.String(), nullable=False),
    sa.Column('saved_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_used_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['integrator_id'], ['integrator.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('fingerprint', name='uq_browser_session_fingerprint')
    )
    with op.batch_alter_table('browser_session', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_browser_session_integrator_id'), ['integrator_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('browser_session', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_browser_session_integrator_id'))
    op.drop_table('browser_session')
    op.create_table('browser_session',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('utility', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('portal_login', sqlmodel.sql.sqltypes.AutoString(length=254), nullable=False),
    sa.Column('state_enc', sa.String(), nullable=False),
    sa.Column('saved_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_used_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('utility', 'portal_login', name='uq_browser_session_login')
    )
