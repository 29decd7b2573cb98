"""units and inbox addresses

Revision ID: 0001
Revises: (none)
Create Date: 2026-11-28 03:03:08.076060
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '0001'
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('inbox_address',
    sa.Column('address', sqlmodel.sql.sqltypes.AutoString(length=254), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('released_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('address')
    )
    with op.batch_alter_table('inbox_address', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_inbox_address_unit_id'), ['unit_id'], unique=False)

    op.create_table('unit',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('utility', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('installation', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=True),
    sa.Column('uc_code', sqlmodel.sql.sqltypes.AutoString(length=15), nullable=True),
    sa.Column('client_name', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('holder_document', sqlmodel.sql.sqltypes.AutoString(length=14), nullable=False),
    sa.Column('portal_login', sqlmodel.sql.sqltypes.AutoString(length=254), nullable=True),
    sa.Column('portal_password_enc', sa.String(), nullable=True),
    sa.Column('inbox_address', sqlmodel.sql.sqltypes.AutoString(length=254), nullable=False),
    sa.Column('forward_to', sa.JSON(), nullable=False),
    sa.Column('email_bills_enabled', sa.Boolean(), nullable=False),
    sa.Column('pdf_password_enc', sa.String(), nullable=True),
    sa.Column('adhesion_status', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('adhesion_message', sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('inbox_address'),
    sa.UniqueConstraint('utility', 'installation', name='uq_unit_utility_installation'),
    sa.UniqueConstraint('utility', 'uc_code', name='uq_unit_utility_uc_code')
    )
    with op.batch_alter_table('unit', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_unit_adhesion_status'), ['adhesion_status'], unique=False)
        batch_op.create_index(batch_op.f('ix_unit_utility'), ['utility'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('unit', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_unit_utility'))
        batch_op.drop_index(batch_op.f('ix_unit_adhesion_status'))

    op.drop_table('unit')
    with op.batch_alter_table('inbox_address', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_inbox_address_unit_id'))

    op.drop_table('inbox_address')
