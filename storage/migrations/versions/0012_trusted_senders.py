"""trusted senders: DKIM domains an operator trusts per utility; a message's signing domains

`trusted_sender` holds the domains trusted from the `dkim_failed` quarantine (`faturas mail senders trust`,
the dashboard's Remetentes page); `mail_message.dkim_domains` records every signature's `d=` so that
quarantine can be grouped by signer, and `released_at` when a trust sent the message back to the inbox.
Existing rows keep NULL in both (their domains were not recorded).

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02 04:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '0012'
down_revision: str | Sequence[str] | None = '0011'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('trusted_sender',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('utility', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('domain', sqlmodel.sql.sqltypes.AutoString(length=253), nullable=False),
    sa.Column('trusted_by', sqlmodel.sql.sqltypes.AutoString(length=320), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('utility', 'domain', name='uq_trusted_sender_utility_domain')
    )
    with op.batch_alter_table('mail_message', schema=None) as batch_op:
        batch_op.add_column(sa.Column('dkim_domains', sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=True))
        batch_op.add_column(sa.Column('released_at', sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('mail_message', schema=None) as batch_op:
        batch_op.drop_column('released_at')
        batch_op.drop_column('dkim_domains')
    op.drop_table('trusted_sender')
