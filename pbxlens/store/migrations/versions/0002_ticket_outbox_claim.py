"""Tickets: a claim on a notification while it is being sent (`ticket_outbox.claimed_at`), so
that two senders never send one notice twice.

Revision ID: 0002_ticket_outbox_claim
Revises: 0001_operations
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import pbxlens.store.schema

revision = '0002_ticket_outbox_claim'
down_revision = '0001_operations'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('ticket_outbox', schema=None) as batch_op:
        batch_op.add_column(sa.Column('claimed_at', pbxlens.store.schema.Instant(timezone=True),
                                      nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('ticket_outbox', schema=None) as batch_op:
        batch_op.drop_column('claimed_at')
