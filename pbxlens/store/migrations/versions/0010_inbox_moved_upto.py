"""The webhook inbox's moved rows are known by one number, the highest id moved
(`ops_meta.inbox_moved_upto`), instead of a `moved_at` stamp on every row: the mover's stamp
held SQLite's write turn up to 0.16 s at 1,000 events/s, stalling every webhook commit, and its
index cost each intake insert one more B-tree entry.

Revision ID: 0010_inbox_moved_upto
Revises: 0009_request_holder
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import pbxlens.store.schema

revision = '0010_inbox_moved_upto'
down_revision = '0009_request_holder'
branch_labels = None
depends_on = None

# The stamp always covered a prefix of ids (every row up to the watermark at once).
_UPTO = """
INSERT INTO ops_meta (key, value)
SELECT 'inbox_moved_upto', CAST(max(id) AS TEXT) FROM event_inbox WHERE moved_at IS NOT NULL
HAVING max(id) IS NOT NULL
"""


def upgrade() -> None:
    op.execute(sa.text(_UPTO))
    with op.batch_alter_table('event_inbox', schema=None) as batch_op:
        batch_op.drop_index('ix_event_inbox_pending')
        batch_op.drop_column('moved_at')


def downgrade() -> None:
    with op.batch_alter_table('event_inbox', schema=None) as batch_op:
        batch_op.add_column(sa.Column('moved_at', pbxlens.store.schema.Instant(timezone=True),
                                      nullable=True))
        batch_op.create_index('ix_event_inbox_pending', ['moved_at', 'id'], unique=False)
    # the receipt stands in for the move (same stored form; the rows were moved soon after)
    op.execute(sa.text(
        "UPDATE event_inbox SET moved_at = received_at WHERE id <= (SELECT"
        " CAST(value AS INTEGER) FROM ops_meta WHERE key = 'inbox_moved_upto')"))
    op.execute(sa.text("DELETE FROM ops_meta WHERE key = 'inbox_moved_upto'"))
