"""adhesion attempts and browser sessions

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28 03:08:43.787682
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '0002'
down_revision: str | Sequence[str] | None = '0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
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
    op.create_table('adhesion_attempt',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('outcome', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
    sa.Column('step_reached', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('message', sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=True),
    sa.Column('changes', sa.JSON(), nullable=False),
    sa.Column('evidence', sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=True),
    sa.Column('submissions', sa.Integer(), nullable=False),
    sa.Column('artifacts', sa.JSON(), nullable=False),
    sa.Column('artifacts_expire_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['unit_id'], ['unit.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('adhesion_attempt', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_adhesion_attempt_unit_id'), ['unit_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('adhesion_attempt', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_adhesion_attempt_unit_id'))

    op.drop_table('adhesion_attempt')
    op.drop_table('browser_session')
