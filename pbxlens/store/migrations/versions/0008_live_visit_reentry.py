"""Live queue visits keyed by call, queue and visit slot: a call that leaves a queue and
enters it again is a second visit (the CDR's queue lines count it twice).

Revision ID: 0008_live_visit_reentry
Revises: 0007_live_state_alerts
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0008_live_visit_reentry'
down_revision = '0007_live_state_alerts'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('live_visits', schema=None, recreate='auto') as batch_op:
        batch_op.add_column(sa.Column('n', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('entry_pinned', sa.Boolean(), nullable=False,
                                      server_default=sa.false()))
        batch_op.drop_constraint('pk_live_visits', type_='primary')
        batch_op.create_primary_key('pk_live_visits', ['tenant', 'unique_id', 'queue', 'n'])


def downgrade() -> None:
    # visits beyond the first of a call and queue cannot keep the old key
    op.execute(sa.text("DELETE FROM live_visits WHERE n > 0"))
    with op.batch_alter_table('live_visits', schema=None, recreate='auto') as batch_op:
        batch_op.drop_constraint('pk_live_visits', type_='primary')
        batch_op.create_primary_key('pk_live_visits', ['tenant', 'unique_id', 'queue'])
        batch_op.drop_column('entry_pinned')
        batch_op.drop_column('n')
