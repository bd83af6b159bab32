"""SQLAlchemy Core mirrors of the tables of migration 0009_tickets.sql (tickets and trace)."""

from __future__ import annotations

import sqlalchemy as sa

meta = sa.MetaData()

companies = sa.Table(
    "ticket_companies",
    meta,
    sa.Column("id", sa.BigInteger, primary_key=True),
    sa.Column("tenant", sa.Text, nullable=False),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("code", sa.Text),
    sa.Column("vat", sa.Text),
    sa.Column("email", sa.Text),
    sa.Column("score", sa.Text),
    sa.Column("outlook", sa.Text),
    sa.Column("bad_debts", sa.Numeric(14, 2)),
    sa.Column("exposure", sa.Numeric(14, 2)),
    sa.Column("credit_line", sa.Numeric(14, 2)),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
)

contacts = sa.Table(
    "ticket_contacts",
    meta,
    sa.Column("id", sa.BigInteger, primary_key=True),
    sa.Column("company_id", sa.BigInteger, nullable=False),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("email", sa.Text),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
)

phones = sa.Table(
    "ticket_phones",
    meta,
    sa.Column("id", sa.BigInteger, primary_key=True),
    sa.Column("tenant", sa.Text, nullable=False),
    sa.Column("company_id", sa.BigInteger, nullable=False),
    sa.Column("contact_id", sa.BigInteger),
    sa.Column("raw", sa.Text, nullable=False),
    sa.Column("national", sa.Text, nullable=False),
    sa.Column("e164", sa.Text),
    sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
)

areas = sa.Table(
    "ticket_areas",
    meta,
    sa.Column("name", sa.Text, primary_key=True),
)

types = sa.Table(
    "ticket_types",
    meta,
    sa.Column("code", sa.Text, primary_key=True),
    sa.Column("is_default", sa.Boolean, nullable=False),
    sa.Column("area", sa.Text),
    sa.Column("project_required", sa.Boolean, nullable=False),
    sa.Column("position", sa.Integer, nullable=False),
)

types_by_company = sa.Table(
    "ticket_types_by_company",
    meta,
    sa.Column("company_id", sa.BigInteger, primary_key=True),
    sa.Column("type", sa.Text, primary_key=True),
)

priorities = sa.Table(
    "ticket_priorities",
    meta,
    sa.Column("code", sa.Text, primary_key=True),
    sa.Column("description", sa.Text, nullable=False),
    sa.Column("color", sa.Text, nullable=False),
    sa.Column("rank", sa.Integer, nullable=False),
)

counters = sa.Table(
    "ticket_counters",
    meta,
    sa.Column("name", sa.Text, primary_key=True),
    sa.Column("value", sa.BigInteger, nullable=False),
)

users = sa.Table(
    "ticket_users",
    meta,
    sa.Column("user_id", sa.BigInteger, primary_key=True),
    sa.Column("email", sa.Text),
)

user_areas = sa.Table(
    "ticket_user_areas",
    meta,
    sa.Column("user_id", sa.BigInteger, primary_key=True),
    sa.Column("area", sa.Text, primary_key=True),
)

tickets = sa.Table(
    "tickets",
    meta,
    sa.Column("id", sa.BigInteger, primary_key=True),
    sa.Column("tenant", sa.Text, nullable=False),
    sa.Column("number", sa.Text, nullable=False),
    sa.Column("title", sa.Text, nullable=False),
    sa.Column("description", sa.Text),
    sa.Column("account_id", sa.BigInteger, nullable=False),
    sa.Column("final_customer_id", sa.BigInteger, nullable=False),
    sa.Column("account_contact_id", sa.BigInteger),
    sa.Column("final_customer_contact_id", sa.BigInteger),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("priority", sa.Text, nullable=False),
    sa.Column("type", sa.Text, nullable=False),
    sa.Column("area", sa.Text),
    sa.Column("external", sa.Boolean, nullable=False),
    sa.Column("notify", sa.Boolean, nullable=False),
    sa.Column("creation_mode", sa.Text, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("estimated_start", sa.DateTime(timezone=True)),
    sa.Column("due_date", sa.DateTime(timezone=True)),
    sa.Column("sla_start", sa.DateTime(timezone=True)),
    sa.Column("estimate_hours", sa.Numeric(10, 2)),
    sa.Column("owner_user_id", sa.BigInteger),
    sa.Column("owner_email", sa.Text),
    sa.Column("in_charge_user_id", sa.BigInteger),
    sa.Column("assigned_user_id", sa.BigInteger),
    sa.Column("extra_notify_emails", sa.Text),
    sa.Column("last_reply_at", sa.DateTime(timezone=True)),
)

tags = sa.Table(
    "ticket_tags",
    meta,
    sa.Column("ticket_id", sa.BigInteger, primary_key=True),
    sa.Column("tag", sa.Text, primary_key=True),
)

links = sa.Table(
    "ticket_links",
    meta,
    sa.Column("ticket_id", sa.BigInteger, primary_key=True),
    sa.Column("related_id", sa.BigInteger, primary_key=True),
)

calls = sa.Table(
    "ticket_calls",
    meta,
    sa.Column("ticket_id", sa.BigInteger, primary_key=True),
    sa.Column("unique_id", sa.Text, primary_key=True),
)

shares = sa.Table(
    "ticket_shares",
    meta,
    sa.Column("ticket_id", sa.BigInteger, nullable=False),
    sa.Column("user_id", sa.BigInteger),
    sa.Column("area", sa.Text),
)

unread = sa.Table(
    "ticket_unread",
    meta,
    sa.Column("ticket_id", sa.BigInteger, primary_key=True),
    sa.Column("user_id", sa.BigInteger, primary_key=True),
)

attachments = sa.Table(
    "ticket_attachments",
    meta,
    sa.Column("id", sa.BigInteger, primary_key=True),
    sa.Column("ticket_id", sa.BigInteger, nullable=False),
    sa.Column("filename", sa.Text, nullable=False),
    sa.Column("content_type", sa.Text, nullable=False),
    sa.Column("size_bytes", sa.BigInteger, nullable=False),
    sa.Column("sha256", sa.Text, nullable=False),
    sa.Column("stored_name", sa.Text, nullable=False),
    sa.Column("uploaded_by", sa.BigInteger),
    sa.Column("uploaded_at", sa.DateTime(timezone=True), nullable=False),
)

tracking = sa.Table(
    "ticket_tracking",
    meta,
    sa.Column("id", sa.BigInteger, primary_key=True),
    sa.Column("ticket_id", sa.BigInteger, nullable=False),
    sa.Column("tracked_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("duration_s", sa.Integer, nullable=False),
    sa.Column("type", sa.Text, nullable=False),
    sa.Column("billable", sa.Boolean, nullable=False),
    sa.Column("description", sa.Text),
    sa.Column("user_id", sa.BigInteger),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
)

messages = sa.Table(
    "ticket_messages",
    meta,
    sa.Column("id", sa.BigInteger, primary_key=True),
    sa.Column("ticket_id", sa.BigInteger, nullable=False),
    sa.Column("written_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("author_user_id", sa.BigInteger),
    sa.Column("author_email", sa.Text),
    sa.Column("kind", sa.Text, nullable=False),
    sa.Column("body", sa.Text, nullable=False),
    sa.Column("status_at", sa.Text, nullable=False),
)

subscriptions = sa.Table(
    "ticket_subscriptions",
    meta,
    sa.Column("channel", sa.Text, primary_key=True),
    sa.Column("event", sa.Text, primary_key=True),
    sa.Column("recipient", sa.Text, primary_key=True),
)

notify_options = sa.Table(
    "ticket_notify_options",
    meta,
    sa.Column("channel", sa.Text, primary_key=True),
    sa.Column("event", sa.Text, primary_key=True),
    sa.Column("only_absent", sa.Boolean, nullable=False),
    sa.Column("bcc_users", sa.Boolean, nullable=False),
    sa.Column("skip_sender", sa.Boolean, nullable=False),
    sa.Column("notify_sender_on_open", sa.Boolean, nullable=False),
)

notify_blacklist = sa.Table(
    "ticket_notify_blacklist",
    meta,
    sa.Column("kind", sa.Text, primary_key=True),
    sa.Column("entry", sa.Text, primary_key=True),
)

outbox = sa.Table(
    "ticket_outbox",
    meta,
    sa.Column("id", sa.BigInteger, primary_key=True),
    sa.Column("ticket_id", sa.BigInteger, nullable=False),
    sa.Column("message_id", sa.BigInteger),
    sa.Column("channel", sa.Text, nullable=False),
    sa.Column("event", sa.Text, nullable=False),
    sa.Column("recipient", sa.Text, nullable=False),
    sa.Column("header", sa.Text, nullable=False),
    sa.Column("subject", sa.Text, nullable=False),
    sa.Column("body", sa.Text, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("sent_at", sa.DateTime(timezone=True)),
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("last_error", sa.Text),
)

trace_records = sa.Table(
    "trace_records",
    meta,
    sa.Column("id", sa.BigInteger, primary_key=True),
    sa.Column("tenant", sa.Text, nullable=False),
    sa.Column("number", sa.Text, nullable=False),
    sa.Column("direction", sa.Text, nullable=False),
    sa.Column("unique_id", sa.Text),
    sa.Column("caller", sa.Text),
    sa.Column("called", sa.Text),
    sa.Column("caller_national", sa.Text),
    sa.Column("called_national", sa.Text),
    sa.Column("caller_company_id", sa.BigInteger),
    sa.Column("caller_contact_id", sa.BigInteger),
    sa.Column("called_company_id", sa.BigInteger),
    sa.Column("called_contact_id", sa.BigInteger),
    sa.Column("note", sa.Text),
    sa.Column("description", sa.Text),
    sa.Column("type", sa.Text, nullable=False),
    sa.Column("priority", sa.Text, nullable=False),
    sa.Column("start_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("end_at", sa.DateTime(timezone=True)),
    sa.Column("ticket_id", sa.BigInteger),
    sa.Column("owner_user_id", sa.BigInteger),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
)

trace_blacklist = sa.Table(
    "trace_blacklist",
    meta,
    sa.Column("tenant", sa.Text, primary_key=True),
    sa.Column("national", sa.Text, primary_key=True),
    sa.Column("raw", sa.Text, nullable=False),
    sa.Column("added_by", sa.BigInteger),
    sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
)
