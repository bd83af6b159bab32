"""The durable webhook inbox: rejected bodies keep their reason; recent call ends (live calls
without ghosts).

Revision ID: 0003_inbox_live_calls
Revises: 0002_ticket_outbox_claim
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import pbxlens.store.schema

revision = '0003_inbox_live_calls'
down_revision = '0002_ticket_outbox_claim'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('event_inbox', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reason', sa.Text(), nullable=True))
    op.create_table('live_call_ends',
    sa.Column('tenant', sa.Text(), nullable=False),
    sa.Column('unique_id', sa.Text(), nullable=False),
    sa.Column('ended_at', pbxlens.store.schema.Instant(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('tenant', 'unique_id', name=op.f('pk_live_call_ends'))
    )


def downgrade() -> None:
    op.drop_table('live_call_ends')
    with op.batch_alter_table('event_inbox', schema=None) as batch_op:
        batch_op.drop_column('reason')
