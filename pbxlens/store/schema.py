"""The operations store's tables (SQLAlchemy Core, one MetaData): what people and the PBX change
one row at a time. The same definitions run on SQLite and PostgreSQL; Alembic revisions under
`pbxlens/store/migrations/versions/` create them (the first revision is a frozen copy of this
file as it was then; later changes get their own revision).

Portable types: `Instant` keeps instants timezone-aware on both back-ends (SQLite has no
TIMESTAMPTZ: it stores UTC text), `Id` is an auto-increment key on both (SQLite only makes an
INTEGER PRIMARY KEY an alias of its rowid).
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa


class Instant(sa.types.TypeDecorator):
    """An aware datetime, stored as UTC; naive values are refused (they are ambiguous)."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: pass an aware instant")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if isinstance(value, str):  # raw SQL on SQLite
            value = datetime.fromisoformat(value)
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
meta = sa.MetaData(naming_convention={
    "ix": "ix_%(column_0_label)s", "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s", "pk": "pk_%(table_name)s"})


def _now() -> datetime:
    return datetime.now(UTC)


def _id() -> sa.Column:
    return sa.Column("id", Id, primary_key=True, autoincrement=True)


# ------------------------------------------------------------------------ users and the app

users = sa.Table(
    "web_users", meta,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("username", sa.Text, nullable=False, unique=True),
    sa.Column("password_hash", sa.Text, nullable=False),   # scrypt$n$r$p$salt_hex$hash_hex
    sa.Column("role", sa.Text, nullable=False),            # admin | supervisor | finance | operator
    sa.Column("privacy", sa.Boolean, nullable=False, default=False),  # sees full numbers
    sa.Column("tenant", sa.Text, nullable=False, default="default"),
    sa.Column("extension", sa.Text),
    sa.Column("lang", sa.Text, nullable=False, default="it"),
    sa.Column("disabled", sa.Boolean, nullable=False, default=False),
    sa.Column("api_token_hash", sa.Text),                  # sha256 hex of the bearer token
    sa.Column("email", sa.Text),                           # where scheduled reports reach them
    sa.Column("created_at", Instant, nullable=False, default=_now),
)

sessions = sa.Table(
    "web_sessions", meta,
    sa.Column("sid_hash", sa.Text, primary_key=True),      # sha256 hex of the cookie's id
    sa.Column("user_id", sa.Integer, nullable=False, index=True),
    sa.Column("created_at", Instant, nullable=False, default=_now),
    sa.Column("expires_at", Instant, nullable=False),
)

login_failures = sa.Table(
    "web_login_failures", meta,
    sa.Column("username", sa.Text, nullable=False),
    sa.Column("ip", sa.Text, nullable=False),
    sa.Column("failed_at", Instant, nullable=False),
    sa.Index("ix_login_failures_ip_at", "ip", "failed_at"),
    sa.Index("ix_login_failures_user_at", "username", "failed_at"),
)

widgets = sa.Table(
    "web_widgets", meta,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("owner", sa.Integer, nullable=False, index=True),
    sa.Column("page", sa.Text, nullable=False, default="home"),
    sa.Column("title", sa.Text, nullable=False),
    sa.Column("report_id", sa.Text),
    sa.Column("params", sa.JSON),                          # saved filters: {"from", "to", "filters"}
    sa.Column("url", sa.Text),
    sa.Column("icon", sa.Text),
    sa.Column("size", sa.Text, nullable=False, default="m"),
    sa.Column("color", sa.Text),
    sa.Column("background", sa.Text),
    sa.Column("widget_color", sa.Text),
    sa.Column("auto_refresh", sa.Boolean, nullable=False, default=False),
    sa.Column("position", sa.Integer, nullable=False, default=0),
    sa.Column("created_at", Instant, nullable=False, default=_now),
)

settings = sa.Table(
    "web_settings", meta,
    sa.Column("key", sa.Text, primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
)

# Facts about the store itself: the legacy upgrade's mark, the writer's watermarks.
ops_meta = sa.Table(
    "ops_meta", meta,
    sa.Column("key", sa.Text, primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
)

# The analytics writer's queue as people see it (admin page, CLI): one row per job.
writer_jobs = sa.Table(
    "writer_jobs", meta,
    _id(),
    sa.Column("kind", sa.Text, nullable=False),            # ingest | upload | rerate | ...
    sa.Column("label", sa.Text, nullable=False),           # what a person reads (a file name)
    sa.Column("state", sa.Text, nullable=False, default="queued"),  # queued running done failed
    sa.Column("progress", sa.Float, nullable=False, default=0.0),   # 0..1
    sa.Column("stage", sa.Text),
    sa.Column("created_by", sa.Text),
    sa.Column("created_at", Instant, nullable=False, default=_now),
    sa.Column("started_at", Instant),
    sa.Column("finished_at", Instant),
    sa.Column("result", sa.JSON),
    sa.Column("error", sa.Text),
    sa.Index("ix_writer_jobs_state", "state", "id"),
)

# ------------------------------------------------------------------ the PBX's live feeds

# Every webhook body, committed before the 2xx answer; the writer moves it into DuckDB
# (idempotently by the row's natural key), then records the highest id moved in `ops_meta`
# (`inbox_moved_upto`, one row: no stamp per row); moved rows are pruned later.
event_inbox = sa.Table(
    "event_inbox", meta,
    _id(),
    sa.Column("source", sa.Text, nullable=False),          # events | dynamic_routing | feedback
    sa.Column("received_at", Instant, nullable=False),
    sa.Column("remote_addr", sa.Text),
    sa.Column("payload", sa.Text, nullable=False),         # JSON: the parsed rows
    sa.Column("rows", sa.Integer, nullable=False),
    # A rejected body (rows = 0, payload = the body as text): the move files it in DuckDB's
    # quarantine with this reason.
    sa.Column("reason", sa.Text),
)

# Calls in progress as the event intake sees them (pbx.call.* events): a callback to a
# number is "in progress" while a row of that number is here.
live_calls = sa.Table(
    "live_calls", meta,
    sa.Column("tenant", sa.Text, primary_key=True),
    sa.Column("unique_id", sa.Text, primary_key=True),
    sa.Column("direction", sa.Text),                       # in | out | local
    sa.Column("caller", sa.Text),
    sa.Column("called", sa.Text),
    sa.Column("called_num", sa.Text),                      # national form of the called number
    sa.Column("queue", sa.Text),
    sa.Column("agent", sa.Text),
    sa.Column("state", sa.Text, nullable=False, default="ringing"),  # ringing waiting talking
    sa.Column("started_at", Instant, nullable=False),
    sa.Column("answered_at", Instant),
    sa.Column("updated_at", Instant, nullable=False),
    sa.Index("ix_live_calls_num", "tenant", "called_num"),
)

# Calls whose pbx.call.end was seen recently: a start or answer arriving after its end (events
# out of order, a resend) must not bring the call back as a ghost. Pruned with live_calls.
live_call_ends = sa.Table(
    "live_call_ends", meta,
    sa.Column("tenant", sa.Text, primary_key=True),
    sa.Column("unique_id", sa.Text, primary_key=True),
    sa.Column("ended_at", Instant, nullable=False),
)

# -------------------------------------------------------------------------- missed calls

# The callback requests the writer's reconciliation derives in DuckDB (missed_requests),
# pushed here so that operators read and book them without touching DuckDB. `token` is the
# random id pages and the API use (the request key holds the number).
callback_requests = sa.Table(
    "callback_requests", meta,
    sa.Column("tenant", sa.Text, primary_key=True),
    sa.Column("request_key", sa.Text, primary_key=True),   # call_num|unique_id of its first call
    sa.Column("token", sa.Text, nullable=False, unique=True),
    sa.Column("call_num", sa.Text, nullable=False),
    sa.Column("first_call", Instant, nullable=False),
    sa.Column("last_call", Instant, nullable=False),
    sa.Column("num_calls", sa.Integer, nullable=False),
    sa.Column("num_recalled", sa.Integer, nullable=False, default=0),
    sa.Column("last_recalled", Instant),
    sa.Column("queue", sa.Text),
    sa.Column("type", sa.Text),
    sa.Column("source", sa.Text),
    sa.Column("account_code", sa.Text),
    sa.Column("state", sa.Text, nullable=False),           # open | closed
    sa.Column("closure", sa.Text),
    sa.Column("closed_at", Instant),
    sa.Column("closed_by", sa.Text),
    sa.Column("recall_s", sa.Integer),
    sa.Column("updated_at", Instant, nullable=False, default=_now),
    # Who holds the request's valid booking (missed_bookings stays the truth): written by the
    # actions in their transaction, so that an operator's list is a range of the index below
    # instead of a probe of missed_bookings for every open request.
    sa.Column("held_by", sa.Text),
    sa.Index("ix_callback_requests_open", "tenant", "state", "first_call"),
    sa.Index("ix_callback_requests_held", "tenant", "state", "held_by", "first_call"),
    sa.Index("ix_callback_requests_num", "tenant", "call_num"),
)

missed_bookings = sa.Table(
    "missed_bookings", meta,
    sa.Column("tenant", sa.Text, primary_key=True),
    sa.Column("call_num", sa.Text, primary_key=True),
    sa.Column("booked_by", sa.Text, nullable=False),
    sa.Column("extension", sa.Text),
    sa.Column("booked_at", Instant, nullable=False),
    sa.Column("assigned_by", sa.Text),
    sa.Index("ix_missed_bookings_by", "tenant", "booked_by"),
)

missed_flushes = sa.Table(
    "missed_flushes", meta,
    _id(),
    sa.Column("tenant", sa.Text, nullable=False),
    sa.Column("call_num", sa.Text, nullable=False),
    sa.Column("request_key", sa.Text, nullable=False),
    sa.Column("flushed_at", Instant, nullable=False),
    sa.Column("flushed_by", sa.Text, nullable=False),
)

missed_dials = sa.Table(
    "missed_dials", meta,
    _id(),
    sa.Column("tenant", sa.Text, nullable=False),
    sa.Column("call_num", sa.Text, nullable=False),
    sa.Column("started_at", Instant, nullable=False),
    sa.Column("started_by", sa.Text, nullable=False),
    sa.Column("extension", sa.Text),
    sa.Column("call_uuid", sa.Text),
    sa.Index("ix_missed_dials_num", "tenant", "call_num", "started_at"),
)

missed_history = sa.Table(
    "missed_history", meta,
    _id(),
    sa.Column("tenant", sa.Text, nullable=False),
    sa.Column("call_num", sa.Text, nullable=False),
    sa.Column("request_key", sa.Text),
    sa.Column("at_ts", Instant, nullable=False),
    sa.Column("actor", sa.Text, nullable=False),
    sa.Column("action", sa.Text, nullable=False),
    sa.Column("detail", sa.Text),
    sa.Index("ix_missed_history_num", "tenant", "call_num"),
)

missed_settings = sa.Table(
    "missed_settings", meta,
    sa.Column("key", sa.Text, primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
)

# The extensions that exist on the PBX (the directory's operators), copied by the analytics
# writer: assigning a callback checks them (A.5 "eligible operators") without reading DuckDB.
missed_operators = sa.Table(
    "missed_operators", meta,
    sa.Column("tenant", sa.Text, primary_key=True),
    sa.Column("extension", sa.Text, primary_key=True),
    sa.Column("name", sa.Text),
)

# ------------------------------------------------------------------------- tickets, trace

ticket_companies = sa.Table(
    "ticket_companies", meta,
    _id(),
    sa.Column("tenant", sa.Text, nullable=False, default="default"),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("code", sa.Text),
    sa.Column("vat", sa.Text),
    sa.Column("email", sa.Text),
    sa.Column("score", sa.Text),
    sa.Column("outlook", sa.Text),
    sa.Column("bad_debts", sa.Numeric(14, 2)),
    sa.Column("exposure", sa.Numeric(14, 2)),
    sa.Column("credit_line", sa.Numeric(14, 2)),
    sa.Column("updated_at", Instant, nullable=False, default=_now),
    sa.UniqueConstraint("tenant", "name"),
)

ticket_contacts = sa.Table(
    "ticket_contacts", meta,
    _id(),
    sa.Column("company_id", Id, nullable=False),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("email", sa.Text),
    sa.Column("updated_at", Instant, nullable=False, default=_now),
    sa.UniqueConstraint("company_id", "name"),
)

ticket_phones = sa.Table(
    "ticket_phones", meta,
    _id(),
    sa.Column("tenant", sa.Text, nullable=False, default="default"),
    sa.Column("company_id", Id, nullable=False),
    sa.Column("contact_id", Id),
    sa.Column("raw", sa.Text, nullable=False),
    sa.Column("national", sa.Text, nullable=False),
    sa.Column("e164", sa.Text),
    sa.Column("added_at", Instant, nullable=False, default=_now),
    sa.Index("ix_ticket_phones_national", "tenant", "national"),
)

ticket_areas = sa.Table("ticket_areas", meta, sa.Column("name", sa.Text, primary_key=True))

ticket_types = sa.Table(
    "ticket_types", meta,
    sa.Column("code", sa.Text, primary_key=True),
    sa.Column("is_default", sa.Boolean, nullable=False, default=True),
    sa.Column("area", sa.Text),
    sa.Column("project_required", sa.Boolean, nullable=False, default=False),
    sa.Column("position", sa.Integer, nullable=False, default=0),
)

ticket_types_by_company = sa.Table(
    "ticket_types_by_company", meta,
    sa.Column("company_id", Id, primary_key=True),
    sa.Column("type", sa.Text, primary_key=True),
)

ticket_priorities = sa.Table(
    "ticket_priorities", meta,
    sa.Column("code", sa.Text, primary_key=True),
    sa.Column("description", sa.Text, nullable=False),
    sa.Column("color", sa.Text, nullable=False),
    sa.Column("rank", sa.Integer, nullable=False),
)

ticket_counters = sa.Table(
    "ticket_counters", meta,
    sa.Column("name", sa.Text, primary_key=True),
    sa.Column("value", sa.BigInteger, nullable=False, default=0),
)

ticket_users = sa.Table(
    "ticket_users", meta,
    sa.Column("user_id", Id, primary_key=True),
    sa.Column("email", sa.Text),
)

ticket_user_areas = sa.Table(
    "ticket_user_areas", meta,
    sa.Column("user_id", Id, primary_key=True),
    sa.Column("area", sa.Text, primary_key=True),
)

TICKET_STATUSES = ("nuovo", "in_lavorazione", "sospeso", "chiuso", "annullato")
CREATION_MODES = ("manual", "email", "web-form", "call", "monitoring", "import")

tickets = sa.Table(
    "tickets", meta,
    _id(),
    sa.Column("tenant", sa.Text, nullable=False, default="default"),
    sa.Column("number", sa.Text, nullable=False, unique=True),
    sa.Column("title", sa.Text, nullable=False),
    sa.Column("description", sa.Text),
    sa.Column("account_id", Id, nullable=False),
    sa.Column("final_customer_id", Id, nullable=False),
    sa.Column("account_contact_id", Id),
    sa.Column("final_customer_contact_id", Id),
    sa.Column("status", sa.Text, nullable=False, default="nuovo"),
    sa.Column("priority", sa.Text, nullable=False),
    sa.Column("type", sa.Text, nullable=False),
    sa.Column("area", sa.Text),
    sa.Column("external", sa.Boolean, nullable=False, default=False),
    sa.Column("notify", sa.Boolean, nullable=False, default=True),
    sa.Column("creation_mode", sa.Text, nullable=False, default="manual"),
    sa.Column("created_at", Instant, nullable=False),
    sa.Column("updated_at", Instant, nullable=False),
    sa.Column("estimated_start", Instant),
    sa.Column("due_date", Instant),
    sa.Column("sla_start", Instant),
    sa.Column("estimate_hours", sa.Numeric(10, 2)),
    sa.Column("owner_user_id", Id),
    sa.Column("owner_email", sa.Text),
    sa.Column("in_charge_user_id", Id),
    sa.Column("assigned_user_id", Id),
    sa.Column("extra_notify_emails", sa.Text),
    sa.Column("last_reply_at", Instant),
    sa.CheckConstraint(f"status IN {TICKET_STATUSES!r}", name="status"),
    sa.CheckConstraint(f"creation_mode IN {CREATION_MODES!r}", name="creation_mode"),
    sa.Index("ix_tickets_tenant_status", "tenant", "status"),
)

ticket_tags = sa.Table(
    "ticket_tags", meta,
    sa.Column("ticket_id", Id, primary_key=True),
    sa.Column("tag", sa.Text, primary_key=True),
)

ticket_links = sa.Table(
    "ticket_links", meta,
    sa.Column("ticket_id", Id, primary_key=True),
    sa.Column("related_id", Id, primary_key=True),
)

ticket_calls = sa.Table(
    "ticket_calls", meta,
    sa.Column("ticket_id", Id, primary_key=True),
    sa.Column("unique_id", sa.Text, primary_key=True),
    sa.Index("ix_ticket_calls_uid", "unique_id"),
)

ticket_shares = sa.Table(
    "ticket_shares", meta,
    sa.Column("ticket_id", Id, nullable=False, index=True),
    sa.Column("user_id", Id),
    sa.Column("area", sa.Text),
)

ticket_unread = sa.Table(
    "ticket_unread", meta,
    sa.Column("ticket_id", Id, primary_key=True),
    sa.Column("user_id", Id, primary_key=True),
)

ticket_attachments = sa.Table(
    "ticket_attachments", meta,
    _id(),
    sa.Column("ticket_id", Id, nullable=False, index=True),
    sa.Column("filename", sa.Text, nullable=False),
    sa.Column("content_type", sa.Text, nullable=False),
    sa.Column("size_bytes", sa.BigInteger, nullable=False),
    sa.Column("sha256", sa.Text, nullable=False),
    sa.Column("stored_name", sa.Text, nullable=False),
    sa.Column("uploaded_by", Id),
    sa.Column("uploaded_at", Instant, nullable=False, default=_now),
)

ticket_tracking = sa.Table(
    "ticket_tracking", meta,
    _id(),
    sa.Column("ticket_id", Id, nullable=False, index=True),
    sa.Column("tracked_at", Instant, nullable=False),
    sa.Column("duration_s", sa.Integer, nullable=False),
    sa.Column("type", sa.Text, nullable=False),
    sa.Column("billable", sa.Boolean, nullable=False, default=True),
    sa.Column("description", sa.Text),
    sa.Column("user_id", Id),
    sa.Column("created_at", Instant, nullable=False, default=_now),
    sa.CheckConstraint("duration_s > 0", name="duration"),
)

ticket_messages = sa.Table(
    "ticket_messages", meta,
    _id(),
    sa.Column("ticket_id", Id, nullable=False, index=True),
    sa.Column("written_at", Instant, nullable=False),
    sa.Column("author_user_id", Id),
    sa.Column("author_email", sa.Text),
    sa.Column("kind", sa.Text, nullable=False),
    sa.Column("body", sa.Text, nullable=False),
    sa.Column("status_at", sa.Text, nullable=False),
    sa.CheckConstraint("kind IN ('internal', 'public')", name="kind"),
)

ticket_subscriptions = sa.Table(
    "ticket_subscriptions", meta,
    sa.Column("channel", sa.Text, primary_key=True),
    sa.Column("event", sa.Text, primary_key=True),
    sa.Column("recipient", sa.Text, primary_key=True),
)

ticket_notify_options = sa.Table(
    "ticket_notify_options", meta,
    sa.Column("channel", sa.Text, primary_key=True),
    sa.Column("event", sa.Text, primary_key=True),
    sa.Column("only_absent", sa.Boolean, nullable=False, default=False),
    sa.Column("bcc_users", sa.Boolean, nullable=False, default=False),
    sa.Column("skip_sender", sa.Boolean, nullable=False, default=False),
    sa.Column("notify_sender_on_open", sa.Boolean, nullable=False, default=False),
)

ticket_notify_blacklist = sa.Table(
    "ticket_notify_blacklist", meta,
    sa.Column("kind", sa.Text, primary_key=True),
    sa.Column("entry", sa.Text, primary_key=True),
    sa.CheckConstraint("kind IN ('opening_sender', 'out', 'in')", name="kind"),
)

ticket_outbox = sa.Table(
    "ticket_outbox", meta,
    _id(),
    sa.Column("ticket_id", Id, nullable=False),
    sa.Column("message_id", Id),
    sa.Column("channel", sa.Text, nullable=False),
    sa.Column("event", sa.Text, nullable=False),
    sa.Column("recipient", sa.Text, nullable=False),
    sa.Column("header", sa.Text, nullable=False),
    sa.Column("subject", sa.Text, nullable=False),
    sa.Column("body", sa.Text, nullable=False),
    sa.Column("created_at", Instant, nullable=False, default=_now),
    sa.Column("sent_at", Instant),
    sa.Column("attempts", sa.Integer, nullable=False, default=0),
    sa.Column("last_error", sa.Text),
    # a sender's claim while it talks SMTP; others skip the notice until it is marked or the
    # claim is older than the lease (the sender died): revision 0002
    sa.Column("claimed_at", Instant),
    sa.CheckConstraint("header IN ('to', 'bcc')", name="header"),
    sa.Index("ix_ticket_outbox_pending", "sent_at", "id"),
)

trace_records = sa.Table(
    "trace_records", meta,
    _id(),
    sa.Column("tenant", sa.Text, nullable=False, default="default"),
    sa.Column("number", sa.Text, nullable=False, unique=True),
    sa.Column("direction", sa.Text, nullable=False),
    sa.Column("unique_id", sa.Text),
    sa.Column("caller", sa.Text),
    sa.Column("called", sa.Text),
    sa.Column("caller_national", sa.Text),
    sa.Column("called_national", sa.Text),
    sa.Column("caller_company_id", Id),
    sa.Column("caller_contact_id", Id),
    sa.Column("called_company_id", Id),
    sa.Column("called_contact_id", Id),
    sa.Column("note", sa.Text),
    sa.Column("description", sa.Text),
    sa.Column("type", sa.Text, nullable=False),
    sa.Column("priority", sa.Text, nullable=False),
    sa.Column("start_at", Instant, nullable=False),
    sa.Column("end_at", Instant),
    sa.Column("ticket_id", Id),
    sa.Column("owner_user_id", Id),
    sa.Column("created_at", Instant, nullable=False, default=_now),
    sa.CheckConstraint("direction IN ('in', 'out')", name="direction"),
)

trace_blacklist = sa.Table(
    "trace_blacklist", meta,
    sa.Column("tenant", sa.Text, primary_key=True),
    sa.Column("national", sa.Text, primary_key=True),
    sa.Column("raw", sa.Text, nullable=False),
    sa.Column("added_by", Id),
    sa.Column("added_at", Instant, nullable=False, default=_now),
)

# ------------------------------------------------------- definitions: service levels, calendars

SL_VARIANTS = ("abandon_aware", "offered", "answered", "offered_no_short")

# A queue's own service-level definition (reports/definitions.py); a queue without a row uses
# the settings (service_level_s, short_abandon_s, service_level_target_pct,
# service_level_variant). The analytics writer keeps a DuckDB copy that report SQL joins.
queue_definitions = sa.Table(
    "queue_definitions", meta,
    sa.Column("tenant", sa.Text, primary_key=True),
    sa.Column("qkey", sa.Text, primary_key=True),          # queue id, else name (as reports)
    sa.Column("sl_threshold_s", sa.Integer, nullable=False),
    sa.Column("sl_target_pct", sa.Integer, nullable=False),
    sa.Column("sl_variant", sa.Text, nullable=False),
    sa.Column("short_abandon_s", sa.Integer, nullable=False),
    sa.Column("updated_at", Instant, nullable=False, default=_now),
    sa.Column("updated_by", sa.Text),
    sa.CheckConstraint(f"sl_variant IN {SL_VARIANTS!r}", name="sl_variant"),
    sa.CheckConstraint("sl_threshold_s >= 0 AND short_abandon_s >= 0", name="seconds"),
    sa.CheckConstraint("sl_target_pct BETWEEN 1 AND 100", name="target"),
)

# Business-hours calendars (reports/calendars.py): weekly opening hours, the holidays of
# `country`/`subdiv` from the holidays package, local holidays and one-off closures.
calendars = sa.Table(
    "calendars", meta,
    _id(),
    sa.Column("tenant", sa.Text, nullable=False, default="default"),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("country", sa.Text, nullable=False, default="IT"),
    sa.Column("subdiv", sa.Text),                          # province: its patron saint's day
    sa.Column("updated_at", Instant, nullable=False, default=_now),
    sa.UniqueConstraint("tenant", "name"),
)

calendar_hours = sa.Table(
    "calendar_hours", meta,
    _id(),
    sa.Column("calendar_id", Id, nullable=False, index=True),
    sa.Column("isodow", sa.Integer, nullable=False),       # 1 = Monday ... 7 = Sunday
    sa.Column("open_min", sa.Integer, nullable=False),     # minutes from local midnight
    sa.Column("close_min", sa.Integer, nullable=False),    # exclusive; 1440 = midnight
    sa.CheckConstraint("isodow BETWEEN 1 AND 7", name="isodow"),
    sa.CheckConstraint("open_min >= 0 AND open_min < close_min AND close_min <= 1440",
                       name="span"),
)

# kind 'holiday': every year on (month, day); kind 'closure': the days day_from..day_to.
calendar_days = sa.Table(
    "calendar_days", meta,
    _id(),
    sa.Column("calendar_id", Id, nullable=False, index=True),
    sa.Column("kind", sa.Text, nullable=False),
    sa.Column("name", sa.Text, nullable=False, default=""),
    sa.Column("month", sa.Integer),
    sa.Column("day", sa.Integer),
    sa.Column("day_from", sa.Date),
    sa.Column("day_to", sa.Date),
    sa.CheckConstraint("kind IN ('holiday', 'closure')", name="kind"),
)

# Which calendar a queue follows; qkey '' = the tenant's calendar (queues without their own,
# and every call-grain report).
calendar_assignments = sa.Table(
    "calendar_assignments", meta,
    sa.Column("tenant", sa.Text, primary_key=True),
    sa.Column("qkey", sa.Text, primary_key=True),
    sa.Column("calendar_id", Id, nullable=False),
)

# ------------------------------------------------- saved views, schedules, delivery, exports

# A report with its filters and period, by name: private to its owner or shared with the
# tenant (pbxlens.views.saved).
saved_views = sa.Table(
    "saved_views", meta,
    _id(),
    sa.Column("owner", sa.Integer, nullable=False, index=True),   # web_users.id
    sa.Column("tenant", sa.Text, nullable=False),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("report_id", sa.Text, nullable=False),
    sa.Column("period", sa.Text, nullable=False),                 # a relative period, or fixed
    sa.Column("date_from", sa.Date),                              # fixed ranges only
    sa.Column("date_to", sa.Date),
    sa.Column("filters", sa.JSON, nullable=False),                # {key: [values]}
    sa.Column("shared", sa.Boolean, nullable=False, default=False),
    sa.Column("created_at", Instant, nullable=False, default=_now),
    sa.Column("updated_at", Instant, nullable=False, default=_now),
    sa.UniqueConstraint("owner", "name", name="uq_saved_views_owner_name"),
)

# A saved view delivered on a recurrence (pbxlens.views.schedules); it runs with its owner's
# rights (role, tenant, privacy), whoever receives it.
view_schedules = sa.Table(
    "view_schedules", meta,
    _id(),
    sa.Column("view_id", Id, nullable=False, index=True),
    sa.Column("owner", sa.Integer, nullable=False, index=True),
    sa.Column("tenant", sa.Text, nullable=False),
    sa.Column("frequency", sa.Text, nullable=False),              # daily | weekly | monthly
    sa.Column("weekday", sa.Integer),                             # weekly: 1 = Monday .. 7
    sa.Column("month_day", sa.Integer),                           # monthly: 1..31, -1 = last
    sa.Column("at_time", sa.Text, nullable=False),                # HH:MM, PBX time zone
    sa.Column("format", sa.Text, nullable=False),                 # xlsx | csv | pdf
    sa.Column("lang", sa.Text, nullable=False, default="it"),
    sa.Column("recipients", sa.JSON, nullable=False),             # {"users": [id], "emails": []}
    sa.Column("enabled", sa.Boolean, nullable=False, default=True),
    sa.Column("next_due_at", Instant, nullable=False),
    sa.Column("last_due_at", Instant),
    sa.Column("created_at", Instant, nullable=False, default=_now),
    sa.Index("ix_view_schedules_due", "enabled", "next_due_at"),
)

# One row per (schedule, due instant): the run happens once, whatever restarts in between.
view_schedule_runs = sa.Table(
    "view_schedule_runs", meta,
    sa.Column("schedule_id", Id, primary_key=True),
    sa.Column("due_at", Instant, primary_key=True),
    sa.Column("manual", sa.Boolean, nullable=False, default=False),  # "send now"
    sa.Column("state", sa.Text, nullable=False),                  # rendering | queued | failed
    sa.Column("started_at", Instant, nullable=False, default=_now),
    sa.Column("finished_at", Instant),
    sa.Column("size_bytes", sa.Integer),
    sa.Column("error", sa.Text),
)

# Files that deliveries attach and exports offer for download (pbxlens.delivery.outbox).
delivery_files = sa.Table(
    "delivery_files", meta,
    _id(),
    sa.Column("filename", sa.Text, nullable=False),
    sa.Column("content_type", sa.Text, nullable=False),
    sa.Column("size_bytes", sa.Integer, nullable=False),
    sa.Column("data", sa.LargeBinary, nullable=False),
    sa.Column("created_at", Instant, nullable=False, default=_now),
    sa.Column("expires_at", Instant),
)

# Messages to send: email or webhook, one recipient each, retried with backoff
# (pbxlens.delivery.sender); `dedupe_key` queues the same message once.
delivery_outbox = sa.Table(
    "delivery_outbox", meta,
    _id(),
    sa.Column("origin", sa.Text, nullable=False),                 # schedule:12 | alert:3 | ...
    sa.Column("dedupe_key", sa.Text, unique=True),
    sa.Column("owner", sa.Integer),                               # whose log it is (None: admins)
    sa.Column("tenant", sa.Text, nullable=False),
    sa.Column("channel", sa.Text, nullable=False),                # email | webhook
    sa.Column("target", sa.Text, nullable=False),                 # address or URL
    sa.Column("style", sa.Text),                                  # webhook: json | slack | teams
    sa.Column("subject", sa.Text, nullable=False),
    sa.Column("body", sa.Text, nullable=False),
    sa.Column("data", sa.JSON),                                   # fields and links of the message
    sa.Column("file_id", Id),
    sa.Column("state", sa.Text, nullable=False, default="pending"),  # pending sending sent failed
    sa.Column("attempts", sa.Integer, nullable=False, default=0),
    sa.Column("next_attempt_at", Instant, nullable=False),
    sa.Column("claimed_at", Instant),
    sa.Column("created_at", Instant, nullable=False, default=_now),
    sa.Column("sent_at", Instant),
    sa.Column("last_error", sa.Text),
    sa.Index("ix_delivery_outbox_due", "state", "next_attempt_at"),
)

# Every delivery attempt: when, to whom, size, outcome and error (admins and owners read it).
delivery_log = sa.Table(
    "delivery_log", meta,
    _id(),
    sa.Column("outbox_id", Id, nullable=False, index=True),
    sa.Column("origin", sa.Text, nullable=False),
    sa.Column("owner", sa.Integer),
    sa.Column("tenant", sa.Text, nullable=False),
    sa.Column("channel", sa.Text, nullable=False),
    sa.Column("target", sa.Text, nullable=False),
    sa.Column("subject", sa.Text, nullable=False),
    sa.Column("attempt", sa.Integer, nullable=False),
    sa.Column("at", Instant, nullable=False, default=_now),
    sa.Column("size_bytes", sa.Integer, nullable=False, default=0),
    sa.Column("outcome", sa.Text, nullable=False),                # sent | retry | failed
    sa.Column("error", sa.Text),
    sa.Index("ix_delivery_log_at", "tenant", "at"),
)

# Background exports of a report (pbxlens.views.exports): the file is downloaded by the user
# who asked, with the link's token (an HMAC of the export and the user), until it expires.
report_exports = sa.Table(
    "report_exports", meta,
    _id(),
    sa.Column("user_id", sa.Integer, nullable=False, index=True),
    sa.Column("tenant", sa.Text, nullable=False),
    sa.Column("report_id", sa.Text, nullable=False),
    sa.Column("params", sa.JSON, nullable=False),
    sa.Column("format", sa.Text, nullable=False),                 # xlsx | csv
    sa.Column("lang", sa.Text, nullable=False, default="it"),
    sa.Column("notify", sa.Boolean, nullable=False, default=False),  # mail the link when ready
    sa.Column("state", sa.Text, nullable=False, default="queued"),   # queued running ready failed
    sa.Column("file_id", Id),
    sa.Column("rows", sa.Integer),
    sa.Column("error", sa.Text),
    sa.Column("created_at", Instant, nullable=False, default=_now),
    sa.Column("started_at", Instant),
    sa.Column("ready_at", Instant),
    sa.Column("expires_at", Instant),
    sa.Index("ix_report_exports_state", "state", "id"),
)

# ----------------------------------------------------------------- live state and alerts
# Kept by the event intake in the same transaction as the inbox (pbxlens.live.state); the
# wallboard's snapshot reads them once per tick (pbxlens.live.snapshot).

# One queue visit of a call (a `pbx.queue.enter` ... served / unserved): waiting while
# `outcome` is NULL, talking while answered and not ended. Kept two days (today's counters
# are rebuilt from them).
live_visits = sa.Table(
    "live_visits", meta,
    sa.Column("tenant", sa.Text, primary_key=True),
    sa.Column("unique_id", sa.Text, primary_key=True),
    sa.Column("queue", sa.Text, primary_key=True),
    # the visit's slot among the call's visits to this queue (0, 1, ... in order of creation):
    # a call that leaves a queue and enters it again is a second visit, as in the CDR
    sa.Column("n", sa.Integer, primary_key=True, default=0),
    sa.Column("queue_name", sa.Text),
    sa.Column("day", sa.Date, nullable=False),             # PBX-local day of the call's start
    sa.Column("caller", sa.Text),
    sa.Column("entered_at", Instant, nullable=False),
    sa.Column("entered_seen", sa.Boolean, nullable=False, default=False),
    # no enter heard, but a served/unserved `wait` placed the entry (to the second)
    sa.Column("entry_pinned", sa.Boolean, nullable=False, default=False),
    sa.Column("answered_at", Instant),
    sa.Column("agent", sa.Text),
    sa.Column("exited_at", Instant),
    # NULL (in queue) | answered | abandoned | timeout | joinempty | full | closed | other
    sa.Column("outcome", sa.Text),
    # the visit's class in today's counters: sl | late | abandoned | short | never | other
    sa.Column("kpi", sa.Text),
    sa.Column("wait_s", sa.Integer),                       # whole seconds enter -> answer/exit
    sa.Column("ended_at", Instant),                        # over (exit, or the talk's end)
    sa.Column("assumed", sa.Text),                         # what a missing event made us assume
    sa.Column("updated_at", Instant, nullable=False),
    sa.Index("ix_live_visits_active", "ended_at"),
    sa.Index("ix_live_visits_day", "tenant", "day"),
)

# Today's counters per queue, moved by each visit's change (old contribution out, new in).
live_counters = sa.Table(
    "live_counters", meta,
    sa.Column("tenant", sa.Text, primary_key=True),
    sa.Column("queue", sa.Text, primary_key=True),
    sa.Column("day", sa.Date, primary_key=True),
    sa.Column("queue_name", sa.Text),
    sa.Column("offered", sa.Integer, nullable=False, default=0),
    sa.Column("answered", sa.Integer, nullable=False, default=0),
    sa.Column("sl_hit", sa.Integer, nullable=False, default=0),
    sa.Column("abandoned", sa.Integer, nullable=False, default=0),
    sa.Column("short_abandoned", sa.Integer, nullable=False, default=0),
    sa.Column("never_queued", sa.Integer, nullable=False, default=0),
    sa.Column("unanswered", sa.Integer, nullable=False, default=0),
    sa.Column("asa_sum_s", sa.BigInteger, nullable=False, default=0),
    sa.Column("longest_wait_s", sa.Integer, nullable=False, default=0),
    sa.Column("updated_at", Instant, nullable=False),
)

# Each agent (operator extension, else account): the call register (ringing / talking on
# one call) and today's answered calls; logins and pauses are per queue (live_members).
live_agents = sa.Table(
    "live_agents", meta,
    sa.Column("tenant", sa.Text, primary_key=True),
    sa.Column("agent", sa.Text, primary_key=True),
    sa.Column("account", sa.Text),
    sa.Column("call_uid", sa.Text),
    sa.Column("call_state", sa.Text),                      # NULL | ringing | talking
    sa.Column("call_queue", sa.Text),
    sa.Column("call_since", Instant),
    sa.Column("call_ts", Instant),                         # the register's last event instant
    sa.Column("last_call_end", Instant),
    sa.Column("calls_day", sa.Date),
    sa.Column("calls_today", sa.Integer, nullable=False, default=0),
    sa.Column("assumed", sa.Text),
    sa.Column("assumed_at", Instant),
    sa.Column("updated_at", Instant, nullable=False),
    sa.Index("ix_live_agents_call", "tenant", "call_uid"),
)

# Queue membership of an agent: logged in (added/removed) and paused (pause/unpause), each a
# last-writer-wins register by event instant. queue '' = a pause heard before any login.
live_members = sa.Table(
    "live_members", meta,
    sa.Column("tenant", sa.Text, primary_key=True),
    sa.Column("agent", sa.Text, primary_key=True),
    sa.Column("queue", sa.Text, primary_key=True),
    sa.Column("queue_name", sa.Text),
    sa.Column("logged_in", sa.Boolean, nullable=False, default=False),
    sa.Column("login_ts", Instant, nullable=False),
    sa.Column("paused", sa.Boolean, nullable=False, default=False),
    sa.Column("reason", sa.Text),
    sa.Column("pause_ts", Instant),
    sa.Column("assumed", sa.Text),
    sa.Column("updated_at", Instant, nullable=False),
)

# Read-only wallboard links for a TV: bound to a tenant and queues; only the token's sha256
# is kept.
live_kiosks = sa.Table(
    "live_kiosks", meta,
    _id(),
    sa.Column("token_hash", sa.Text, nullable=False, unique=True),
    sa.Column("tenant", sa.Text, nullable=False),
    sa.Column("queues", sa.Text, nullable=False),          # JSON list; [] = every queue
    sa.Column("label", sa.Text, nullable=False),
    sa.Column("lang", sa.Text, nullable=False, default="it"),
    sa.Column("created_by", sa.Text),
    sa.Column("created_at", Instant, nullable=False, default=_now),
    sa.Column("revoked_at", Instant),
    sa.Column("last_seen_at", Instant),
)

# The consistency check of a day's live counters against the CDR (a writer job).
live_checks = sa.Table(
    "live_checks", meta,
    _id(),
    sa.Column("day", sa.Date, nullable=False),
    sa.Column("checked_at", Instant, nullable=False),
    sa.Column("ok", sa.Boolean, nullable=False),
    sa.Column("queues", sa.Integer, nullable=False),
    sa.Column("differences", sa.Text, nullable=False),     # JSON list
)

alert_rules = sa.Table(
    "alert_rules", meta,
    _id(),
    sa.Column("tenant", sa.Text, nullable=False),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("kind", sa.Text, nullable=False),
    sa.Column("queues", sa.Text, nullable=False, default="[]"),  # JSON list; [] = every queue
    sa.Column("threshold", sa.Float),
    sa.Column("window_min", sa.Integer, nullable=False, default=60),
    sa.Column("cooldown_min", sa.Integer, nullable=False, default=15),
    sa.Column("quiet_start", sa.Text),                     # HH:MM, PBX local time
    sa.Column("quiet_end", sa.Text),
    sa.Column("channels", sa.Text, nullable=False, default="[]"),  # JSON [{kind,target,style}]
    sa.Column("lang", sa.Text, nullable=False, default="it"),
    sa.Column("enabled", sa.Boolean, nullable=False, default=True),
    sa.Column("created_by", sa.Text),
    sa.Column("created_at", Instant, nullable=False, default=_now),
)

# Where each rule stands per scope (a queue, an agent, or '*').
alert_states = sa.Table(
    "alert_states", meta,
    sa.Column("rule_id", Id, primary_key=True),
    sa.Column("scope", sa.Text, primary_key=True),
    sa.Column("firing", sa.Boolean, nullable=False, default=False),
    sa.Column("since", Instant),
    sa.Column("value", sa.Float),
    sa.Column("notified", sa.Boolean, nullable=False, default=False),  # this firing was sent
    sa.Column("last_notified_at", Instant),
    sa.Column("acked_at", Instant),
    sa.Column("acked_by", sa.Text),
    sa.Column("updated_at", Instant, nullable=False),
)

# The history page: every firing, reminder, recovery and acknowledgement.
alert_events = sa.Table(
    "alert_events", meta,
    _id(),
    sa.Column("rule_id", Id, nullable=False),
    sa.Column("tenant", sa.Text, nullable=False),
    sa.Column("scope", sa.Text, nullable=False),
    sa.Column("kind", sa.Text, nullable=False),            # fired reminder recovered acknowledged
    sa.Column("at", Instant, nullable=False),
    sa.Column("value", sa.Float),
    sa.Column("threshold", sa.Float),
    sa.Column("message", sa.Text, nullable=False),
    sa.Column("delivery", sa.Text, nullable=False),        # sent | quiet | cooldown | none
    sa.Column("by", sa.Text),
    sa.Index("ix_alert_events_tenant", "tenant", "at"),
)
