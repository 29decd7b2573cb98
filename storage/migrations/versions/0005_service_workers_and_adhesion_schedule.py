"""service: workers, job runs and the adhesion retry schedule

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-28 03:56:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '0005'
down_revision: str | Sequence[str] | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('worker',
    sa.Column('owner', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('host', sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
    sa.Column('pid', sa.Integer(), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('heartbeat_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('stopping', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('owner')
    )
    op.create_table('job_run',
    sa.Column('job', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('owner', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('next_run_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('summary', sa.JSON(), nullable=False),
    sa.Column('error', sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=True),
    sa.PrimaryKeyConstraint('job')
    )
    with op.batch_alter_table('unit', schema=None) as batch_op:
        batch_op.add_column(sa.Column('adhesion_next_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('adhesion_failures', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('adhesion_lease_owner', sqlmodel.sql.sqltypes.AutoString(length=200),
                                      nullable=True))
        batch_op.add_column(sa.Column('adhesion_lease_until', sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table('unit', schema=None) as batch_op:
        batch_op.alter_column('adhesion_failures', server_default=None)


def downgrade() -> None:
    with op.batch_alter_table('unit', schema=None) as batch_op:
        batch_op.drop_column('adhesion_lease_until')
        batch_op.drop_column('adhesion_lease_owner')
        batch_op.drop_column('adhesion_failures')
        batch_op.drop_column('adhesion_next_at')
    op.drop_table('job_run')
    op.drop_table('worker')
