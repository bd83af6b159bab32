"""Definitions: per-queue service levels and business-hours calendars.

Revision ID: 0005_definitions
Revises: 0004_missed_operators
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import pbxlens.store.schema

revision = '0005_definitions'
down_revision = '0004_missed_operators'
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
_INSTANT = pbxlens.store.schema.Instant(timezone=True)


def upgrade() -> None:
    op.create_table(
        'queue_definitions',
        sa.Column('tenant', sa.Text(), nullable=False),
        sa.Column('qkey', sa.Text(), nullable=False),
        sa.Column('sl_threshold_s', sa.Integer(), nullable=False),
        sa.Column('sl_target_pct', sa.Integer(), nullable=False),
        sa.Column('sl_variant', sa.Text(), nullable=False),
        sa.Column('short_abandon_s', sa.Integer(), nullable=False),
        sa.Column('updated_at', _INSTANT, nullable=False),
        sa.Column('updated_by', sa.Text(), nullable=True),
        sa.CheckConstraint("sl_variant IN ('abandon_aware', 'offered', 'answered', "
                           "'offered_no_short')", name=op.f('ck_queue_definitions_sl_variant')),
        sa.CheckConstraint('sl_threshold_s >= 0 AND short_abandon_s >= 0',
                           name=op.f('ck_queue_definitions_seconds')),
        sa.CheckConstraint('sl_target_pct BETWEEN 1 AND 100',
                           name=op.f('ck_queue_definitions_target')),
        sa.PrimaryKeyConstraint('tenant', 'qkey', name=op.f('pk_queue_definitions')),
    )
    op.create_table(
        'calendars',
        sa.Column('id', _ID, autoincrement=True, nullable=False),
        sa.Column('tenant', sa.Text(), nullable=False),
        sa.Column('name', sa.Text(), nullable=False),
        sa.Column('country', sa.Text(), nullable=False),
        sa.Column('subdiv', sa.Text(), nullable=True),
        sa.Column('updated_at', _INSTANT, nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_calendars')),
        sa.UniqueConstraint('tenant', 'name', name=op.f('uq_calendars_tenant')),
    )
    op.create_table(
        'calendar_hours',
        sa.Column('id', _ID, autoincrement=True, nullable=False),
        sa.Column('calendar_id', _ID, nullable=False),
        sa.Column('isodow', sa.Integer(), nullable=False),
        sa.Column('open_min', sa.Integer(), nullable=False),
        sa.Column('close_min', sa.Integer(), nullable=False),
        sa.CheckConstraint('isodow BETWEEN 1 AND 7', name=op.f('ck_calendar_hours_isodow')),
        sa.CheckConstraint('open_min >= 0 AND open_min < close_min AND close_min <= 1440',
                           name=op.f('ck_calendar_hours_span')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_calendar_hours')),
    )
    with op.batch_alter_table('calendar_hours', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_calendar_hours_calendar_id'), ['calendar_id'],
                              unique=False)
    op.create_table(
        'calendar_days',
        sa.Column('id', _ID, autoincrement=True, nullable=False),
        sa.Column('calendar_id', _ID, nullable=False),
        sa.Column('kind', sa.Text(), nullable=False),
        sa.Column('name', sa.Text(), nullable=False),
        sa.Column('month', sa.Integer(), nullable=True),
        sa.Column('day', sa.Integer(), nullable=True),
        sa.Column('day_from', sa.Date(), nullable=True),
        sa.Column('day_to', sa.Date(), nullable=True),
        sa.CheckConstraint("kind IN ('holiday', 'closure')", name=op.f('ck_calendar_days_kind')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_calendar_days')),
    )
    with op.batch_alter_table('calendar_days', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_calendar_days_calendar_id'), ['calendar_id'],
                              unique=False)
    op.create_table(
        'calendar_assignments',
        sa.Column('tenant', sa.Text(), nullable=False),
        sa.Column('qkey', sa.Text(), nullable=False),
        sa.Column('calendar_id', _ID, nullable=False),
        sa.PrimaryKeyConstraint('tenant', 'qkey', name=op.f('pk_calendar_assignments')),
    )


def downgrade() -> None:
    op.drop_table('calendar_assignments')
    with op.batch_alter_table('calendar_days', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_calendar_days_calendar_id'))
    op.drop_table('calendar_days')
    with op.batch_alter_table('calendar_hours', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_calendar_hours_calendar_id'))
    op.drop_table('calendar_hours')
    op.drop_table('calendars')
    op.drop_table('queue_definitions')
