"""blobs and reports: the blob table (blobs.backend = "database"), expected generation, alert digests

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02 01:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '0008'
down_revision: str | Sequence[str] | None = '0007'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('blob',
    sa.Column('sha256', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('encrypted', sa.Boolean(), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('data', sa.LargeBinary(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('sha256', 'encrypted')
    )
    op.create_table('expected_generation',
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('monthly_kwh', sa.JSON(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['unit_id'], ['unit.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('unit_id')
    )
    op.create_table('alert_digest',
    sa.Column('integrator_id', sa.Integer(), nullable=False),
    sa.Column('day', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
    sa.Column('alerts', sa.Integer(), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['integrator_id'], ['integrator.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('integrator_id', 'day')
    )


def downgrade() -> None:
    op.drop_table('alert_digest')
    op.drop_table('expected_generation')
    op.drop_table('blob')
