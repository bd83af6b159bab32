"""Callback requests carry the holder of their valid booking (`held_by`), indexed with the
state: an operator's list reads a range of that index instead of probing every open request's
booking.

Revision ID: 0009_request_holder
Revises: 0008_live_visit_reentry
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0009_request_holder'
down_revision = '0008_live_visit_reentry'
branch_labels = None
depends_on = None

# The holders of today's bookings (a booking holds the number's requests that began before it).
_BACKFILL = """
UPDATE callback_requests SET held_by = (
  SELECT b.booked_by FROM missed_bookings b
  WHERE b.tenant = callback_requests.tenant AND b.call_num = callback_requests.call_num
    AND b.booked_at >= callback_requests.first_call)
"""


def upgrade() -> None:
    with op.batch_alter_table('callback_requests', schema=None) as batch_op:
        batch_op.add_column(sa.Column('held_by', sa.Text(), nullable=True))
        batch_op.create_index('ix_callback_requests_held',
                              ['tenant', 'state', 'held_by', 'first_call'], unique=False)
    op.execute(sa.text(_BACKFILL))


def downgrade() -> None:
    with op.batch_alter_table('callback_requests', schema=None) as batch_op:
        batch_op.drop_index('ix_callback_requests_held')
        batch_op.drop_column('held_by')
