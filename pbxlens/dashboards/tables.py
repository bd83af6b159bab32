"""SQLAlchemy Core mirrors of the web tables created by migration 0002_web.sql."""

from __future__ import annotations

import sqlalchemy as sa

meta = sa.MetaData()

users = sa.Table(
    "web_users", meta,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("username", sa.Text, nullable=False),
    sa.Column("password_hash", sa.Text, nullable=False),
    sa.Column("role", sa.Text, nullable=False),
    sa.Column("privacy", sa.Boolean, nullable=False, default=False),
    sa.Column("tenant", sa.Text, nullable=False, default="default"),
    sa.Column("extension", sa.Text),
    sa.Column("lang", sa.Text, nullable=False, default="it"),
    sa.Column("disabled", sa.Boolean, nullable=False, default=False),
    sa.Column("api_token_hash", sa.Text),
    sa.Column("created_at", sa.DateTime(timezone=True)),
)

sessions = sa.Table(
    "web_sessions", meta,
    sa.Column("sid_hash", sa.Text, primary_key=True),
    sa.Column("user_id", sa.Integer, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True)),
    sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
)

login_failures = sa.Table(
    "web_login_failures", meta,
    sa.Column("username", sa.Text, nullable=False),
    sa.Column("ip", sa.Text, nullable=False),
    sa.Column("failed_at", sa.DateTime(timezone=True), nullable=False),
)

widgets = sa.Table(
    "web_widgets", meta,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("owner", sa.Integer, nullable=False),
    sa.Column("page", sa.Text, nullable=False, default="home"),
    sa.Column("title", sa.Text, nullable=False),
    sa.Column("report_id", sa.Text),
    sa.Column("params", sa.JSON),
    sa.Column("url", sa.Text),
    sa.Column("icon", sa.Text),
    sa.Column("size", sa.Text, nullable=False, default="m"),
    sa.Column("color", sa.Text),
    sa.Column("background", sa.Text),
    sa.Column("widget_color", sa.Text),
    sa.Column("auto_refresh", sa.Boolean, nullable=False, default=False),
    sa.Column("position", sa.Integer, nullable=False, default=0),
    sa.Column("created_at", sa.DateTime(timezone=True)),
)

settings = sa.Table(
    "web_settings", meta,
    sa.Column("key", sa.Text, primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
)
