"""Schedules: a saved view delivered by email on a recurrence, as XLSX, CSV or PDF, to users of
the tenant (their address) and to addresses without an account.

A run is identified by (schedule, due instant) and recorded before the report runs, so that it
happens once: `run_due` collapses the runs missed while nothing was running into one run for the
latest due instant, a second scheduler (another web node, the CLI from cron) finds the run taken,
and a run interrupted after its claim is rendered again at the next start, its messages queued
once (the outbox's dedupe key: schedule, due instant, recipient).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

import sqlalchemy as sa

from pbxlens import PbxlensError
from pbxlens.background import spawn
from pbxlens.config import get_settings
from pbxlens.dashboards.i18n import t
from pbxlens.delivery import Message, add_file, enqueue, outbox, wake
from pbxlens.reports import format as fmt
from pbxlens.reports import periods
from pbxlens.store import Stores, ops
from pbxlens.store import schema as T
from pbxlens.store.roles import is_admin
from pbxlens.store.users import User, get_user
from pbxlens.views import recurrence as R
from pbxlens.views import render as V
from pbxlens.views import saved

log = logging.getLogger("pbxlens.schedules")
FILE_DAYS = 7  # a sent attachment is kept this long (its log stays)


class ScheduleError(PbxlensError):
    """A schedule that cannot be made, found or run."""


@dataclass(frozen=True)
class Schedule:
    id: int
    view_id: int
    owner: int
    tenant: str
    frequency: str
    weekday: int | None
    month_day: int | None
    at_time: str
    format: str
    lang: str
    recipients: dict
    enabled: bool
    next_due_at: datetime
    last_due_at: datetime | None

    @property
    def rule(self) -> R.Recurrence:
        return R.Recurrence(self.frequency, R.parse_time(self.at_time), weekday=self.weekday,
                            month_day=self.month_day)


@dataclass
class RunSummary:
    runs: int = 0  # runs claimed by this call
    queued: int = 0  # messages queued
    failed: list[str] = field(default_factory=list)


def _from_row(r) -> Schedule:
    return Schedule(id=r["id"], view_id=r["view_id"], owner=r["owner"], tenant=r["tenant"],
                    frequency=r["frequency"], weekday=r["weekday"], month_day=r["month_day"],
                    at_time=r["at_time"], format=r["format"], lang=r["lang"],
                    recipients=dict(r["recipients"] or {}), enabled=bool(r["enabled"]),
                    next_due_at=r["next_due_at"], last_due_at=r["last_due_at"])


def _now() -> datetime:
    return datetime.now(UTC)


def _zone() -> str:
    return get_settings().timezone


# ----------------------------------------------------------------------------- recipients


def user_email(conn: sa.Connection, user_id: int) -> str | None:
    return conn.execute(sa.select(T.users.c.email).where(T.users.c.id == user_id)).scalar()


def set_user_email(stores: Stores, user_id: int, email: str | None) -> None:
    """A user's address for scheduled reports and export links (None clears it)."""
    value = outbox.clean_address(email) if email and email.strip() else None
    with stores.ops_write() as c:
        c.execute(T.users.update().where(T.users.c.id == user_id).values(email=value))


def _clean_recipients(conn: sa.Connection, tenant: str, users: list[int], emails: list[str]
                      ) -> dict:
    ids = sorted({int(u) for u in users})
    if ids:
        found = dict(conn.execute(sa.select(T.users.c.id, T.users.c.email).where(
            T.users.c.id.in_(ids), T.users.c.tenant == tenant)).all())
        for uid in ids:
            if uid not in found:
                raise ScheduleError(f"no user {uid} in tenant {tenant}")
            if not found[uid]:
                raise ScheduleError(f"user {uid} has no email address")
    addrs = list(dict.fromkeys(outbox.clean_address(e) for e in emails if e and e.strip()))
    if not ids and not addrs:
        raise ScheduleError("a schedule needs at least one recipient")
    return {"users": ids, "emails": addrs}


def addresses(conn: sa.Connection, sched: Schedule) -> list[str]:
    """Where a run goes: the users' current addresses (same tenant, enabled) and the others."""
    ids = sched.recipients.get("users") or []
    found = []
    if ids:
        u = T.users.c
        found = [e for e in conn.execute(sa.select(u.email).where(
            u.id.in_(ids), u.tenant == sched.tenant, u.disabled.is_(False),
            u.email.is_not(None))).scalars()]
    return list(dict.fromkeys(found + list(sched.recipients.get("emails") or [])))


# ----------------------------------------------------------------------------- CRUD


def create(stores: Stores, user: User, view_id: int, frequency: str, at_time: str, *,
           weekday: int | None = None, month_day: int | None = None, fmt: str = "xlsx",
           users: list[int] = (), emails: list[str] = (), lang: str | None = None,
           at: datetime | None = None) -> Schedule:
    """Schedule one of the views `user` may open; it will run as `user`."""
    view = saved.get_visible(stores, user, view_id)
    rule = R.Recurrence(frequency, R.parse_time(at_time),
                        weekday=weekday if frequency == "weekly" else None,
                        month_day=month_day if frequency == "monthly" else None)
    fmt = V.check_format(fmt)
    lang = lang if lang in ("en", "it") else user.lang
    first = R.next_due(rule, at or _now(), _zone())
    s = T.view_schedules
    with stores.ops_write() as c:
        recipients = _clean_recipients(c, user.tenant, list(users), list(emails))
        sid = c.execute(s.insert().values(
            view_id=view.id, owner=user.id, tenant=user.tenant, frequency=rule.frequency,
            weekday=rule.weekday, month_day=rule.month_day, at_time=rule.at.strftime("%H:%M"),
            format=fmt, lang=lang, recipients=recipients, enabled=True, next_due_at=first,
            created_at=_now()).returning(s.c.id)).scalar_one()
        r = c.execute(sa.select(s).where(s.c.id == sid)).mappings().one()
    return _from_row(r)


def by_id(stores: Stores, schedule_id: int) -> Schedule | None:
    s = T.view_schedules
    with stores.ops_read() as c:
        r = c.execute(sa.select(s).where(s.c.id == schedule_id)).mappings().first()
    return _from_row(r) if r else None


def listing(stores: Stores, user: User | None = None) -> list[Schedule]:
    """Every schedule (user None: the CLI), a tenant's (admins) or one owner's."""
    s = T.view_schedules
    q = sa.select(s).order_by(s.c.next_due_at, s.c.id)
    if user is not None:
        q = q.where(s.c.tenant == user.tenant)
        if not is_admin(user):
            q = q.where(s.c.owner == user.id)
    with stores.ops_read() as c:
        return [_from_row(r) for r in c.execute(q).mappings()]


def _own(stores: Stores, user: User, schedule_id: int) -> Schedule:
    found = by_id(stores, schedule_id)
    if found is None or found.tenant != user.tenant or not (
            found.owner == user.id or is_admin(user)):
        raise ScheduleError(f"no schedule {schedule_id}")
    return found


def set_enabled(stores: Stores, user: User, schedule_id: int, enabled: bool,
                at: datetime | None = None) -> None:
    """Pause or resume; a resumed schedule is next due after now (no catch-up of the pause)."""
    sched = _own(stores, user, schedule_id)
    values: dict = {"enabled": enabled}
    if enabled and not sched.enabled:
        values["next_due_at"] = R.next_due(sched.rule, at or _now(), _zone())
    with stores.ops_write() as c:
        c.execute(T.view_schedules.update().where(T.view_schedules.c.id == schedule_id)
                  .values(**values))


def delete(stores: Stores, user: User, schedule_id: int) -> None:
    _own(stores, user, schedule_id)
    with stores.ops_write() as c:
        c.execute(T.view_schedules.delete().where(T.view_schedules.c.id == schedule_id))


def runs(stores: Stores, schedule_id: int, limit: int = 20) -> list[dict]:
    r = T.view_schedule_runs
    with stores.ops_read() as c:
        return [dict(x) for x in c.execute(sa.select(r).where(r.c.schedule_id == schedule_id)
                                           .order_by(r.c.due_at.desc()).limit(limit)).mappings()]


# ----------------------------------------------------------------------------- running


def _claim(stores: Stores, sched: Schedule, due_at: datetime, *, manual: bool,
           at: datetime) -> bool:
    """Record the run (schedule, due_at); False when it was already taken."""
    with stores.ops_write() as c:
        n = ops.insert_ignoring(c, T.view_schedule_runs, {
            "schedule_id": sched.id, "due_at": due_at, "manual": manual, "state": "rendering",
            "started_at": at}, ["schedule_id", "due_at"])
        if not manual:
            s = T.view_schedules
            c.execute(s.update().where(s.c.id == sched.id).values(
                next_due_at=R.next_due(sched.rule, at, _zone()), last_due_at=due_at))
    return n == 1


def _finish(stores: Stores, sched_id: int, due_at: datetime, **values) -> None:
    r = T.view_schedule_runs
    with stores.ops_write() as c:
        c.execute(r.update().where(r.c.schedule_id == sched_id, r.c.due_at == due_at)
                  .values(finished_at=_now(), **values))


def _messages(sched: Schedule, view, rendered: V.Rendered, targets: list[str], due_at: datetime
              ) -> list[Message]:
    lang = sched.lang
    d_from, d_to = rendered.result.filters["from"], rendered.result.filters["to"]
    span = (f"{fmt.day_label(date.fromisoformat(d_from))} – "
            f"{fmt.day_label(date.fromisoformat(d_to))}")
    subject = f"{view.name} · {span}"
    body = t("sched_mail_body", lang, report=rendered.result.title, applied=rendered.applied,
             file=rendered.attachment.filename)
    # the view's page by id: its URL holds the filters as typed, numbers unmasked
    url = get_settings().public_url.rstrip("/") + f"/views/{view.id}"
    due = due_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%MZ")
    return [Message(channel="email", target=addr, subject=subject, body=body,
                    origin=f"schedule:{sched.id}", tenant=sched.tenant, owner=sched.owner,
                    links=((t("sched_open", lang), url),),
                    dedupe_key=f"schedule:{sched.id}:{due}:{addr}") for addr in targets]


def render_and_queue(stores: Stores, sched: Schedule, due_at: datetime) -> int:
    """Run the view as the schedule's owner for the PBX-local day of `due_at`, store the file
    and queue one message per recipient; the run ends `queued` or `failed` (with the error)."""
    try:
        view = saved.by_id(stores, sched.view_id)
        owner = get_user(stores, sched.owner)
        if view is None:
            raise ScheduleError(f"the view {sched.view_id} of this schedule no longer exists")
        if owner is None or owner.disabled:
            raise ScheduleError("the schedule's owner is disabled or gone: it runs as its owner")
        today = periods.local_day(due_at, _zone())
        rendered = V.render_view(stores, view, owner, sched.format, today=today, lang=sched.lang)
        with stores.ops_write() as c:
            targets = addresses(c, sched)
            if not targets:
                raise ScheduleError("no recipient has an email address")
            fid = add_file(c, rendered.attachment, max_bytes=get_settings().delivery_max_bytes,
                           expires_at=_now() + timedelta(days=FILE_DAYS))
            n = enqueue(c, _messages(sched, view, rendered, targets, due_at), file_id=fid)
            r = T.view_schedule_runs
            c.execute(r.update().where(r.c.schedule_id == sched.id, r.c.due_at == due_at)
                      .values(state="queued", finished_at=_now(), error=None,
                              size_bytes=len(rendered.attachment.data)))
    except PbxlensError as exc:
        log.warning("schedule %s due %s failed: %s", sched.id, due_at, exc)
        _finish(stores, sched.id, due_at, state="failed", error=str(exc)[:2000])
        raise ScheduleError(str(exc)) from None
    wake()
    return n


def run_due(stores: Stores, at: datetime | None = None) -> RunSummary:
    """Run every enabled schedule that is due at `at` (default now), each once for its latest
    due instant; then the runs left half-done by a stopped process."""
    at = at or _now()
    summary = RunSummary()
    s = T.view_schedules
    with stores.ops_read() as c:
        due = [_from_row(r) for r in c.execute(
            sa.select(s).where(s.c.enabled.is_(True), s.c.next_due_at <= at)
            .order_by(s.c.next_due_at, s.c.id)).mappings()]
    for sched in due:
        when = R.last_due(sched.rule, at, _zone())
        if _claim(stores, sched, when, manual=False, at=at):
            summary.runs += 1
            _run(stores, sched, when, summary)
    for sched, when in _unfinished(stores):
        _run(stores, sched, when, summary)
    return summary


def _run(stores: Stores, sched: Schedule, due_at: datetime, summary: RunSummary) -> None:
    try:
        summary.queued += render_and_queue(stores, sched, due_at)
    except ScheduleError as exc:
        summary.failed.append(f"schedule {sched.id}: {exc}")


def _unfinished(stores: Stores) -> list[tuple[Schedule, datetime]]:
    """Runs claimed but never queued or failed (the process stopped while rendering), older
    than a minute: rendered again; their messages are queued once whoever renders them."""
    r, s = T.view_schedule_runs, T.view_schedules
    cutoff = _now() - timedelta(minutes=1)
    with stores.ops_read() as c:
        rows = c.execute(sa.select(s, r.c.due_at.label("run_due_at"))
                         .join(r, r.c.schedule_id == s.c.id)
                         .where(r.c.state == "rendering", r.c.started_at < cutoff)).mappings().all()
    return [(_from_row(x), x["run_due_at"]) for x in rows]


def send_now(stores: Stores, user: User, schedule_id: int, at: datetime | None = None) -> int:
    """Run a schedule at once (the "send now" button); its recurrence is unchanged. Returns the
    messages queued."""
    sched = _own(stores, user, schedule_id)
    at = (at or _now()).replace(microsecond=0)
    if not _claim(stores, sched, at, manual=True, at=at):
        raise ScheduleError("this schedule was just sent: try again in a second")
    return render_and_queue(stores, sched, at)


def start_scheduler(stores: Stores, stop, interval_s: float = 20.0):
    """The server's scheduler thread: a pass at once (the runs missed while the server was
    down, sent once), then every `interval_s`; expired export files are pruned on the way."""
    from pbxlens.views import exports

    def loop() -> None:
        while True:
            try:
                run_due(stores)
                exports.prune(stores)
            except Exception as exc:  # the operations store down: next interval
                log.warning("scheduler pass failed: %s", exc)
            if stop.wait(interval_s):
                return

    return spawn("pbxlens-schedules", loop, stop)
