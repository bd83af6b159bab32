"""Missed calls: the PBX's extensions for the assignment rule, and the index of the operator's
"booked calls" list.

Revision ID: 0004_missed_operators
Revises: 0003_inbox_live_calls
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_missed_operators"
down_revision = "0003_inbox_live_calls"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "missed_operators",
        sa.Column("tenant", sa.Text(), nullable=False),
        sa.Column("extension", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("tenant", "extension", name=op.f("pk_missed_operators")),
    )
    with op.batch_alter_table("missed_bookings", schema=None) as batch_op:
        batch_op.create_index("ix_missed_bookings_by", ["tenant", "booked_by"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("missed_bookings", schema=None) as batch_op:
        batch_op.drop_index("ix_missed_bookings_by")
    op.drop_table("missed_operators")
