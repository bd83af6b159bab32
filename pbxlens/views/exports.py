"""Background exports: a report over a large range rendered to XLSX or CSV away from the request
(a reader: exports only read DuckDB, so they never queue behind an ingest in the writer), then
offered as a download link, and mailed when asked.

The link is `/exports/<id>/<token>`: it works only for the user who asked (their session) and
with the token (an HMAC of the export and that user under the app's secret key, compared in
constant time: nothing to store, and the page and the mail compute the same link), until it
expires (setting `export_link_hours`). Exports are rows of `report_exports`: a server that stops with an
export queued runs it when it starts again.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import threading
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from pbxlens import PbxlensError
from pbxlens.background import start_loop
from pbxlens.config import get_settings
from pbxlens.dashboards.i18n import t
from pbxlens.delivery import Attachment, Message, add_file, enqueue, file_of, prune_files, wake
from pbxlens.reports import Guard, Params, get
from pbxlens.reports import format as fmt
from pbxlens.store import Stores, users
from pbxlens.store import schema as T
from pbxlens.store.roles import can_see_report
from pbxlens.store.users import User, get_user
from pbxlens.views import render as V

log = logging.getLogger("pbxlens.exports")
FORMATS = ("xlsx", "csv")
INTERVAL_S = 2.0
_WAKE = threading.Event()


class ExportError(PbxlensError):
    """An export that cannot be made or downloaded."""

    status = 400
    error_id = "export-refused"


class ExportGone(ExportError):
    status = 404
    error_id = "export-not-found"


def _now() -> datetime:
    return datetime.now(UTC)


def link_token(stores: Stores, export_id: int, user_id: int) -> str:
    key = users.secret_key(stores, get_settings().secret_key).encode()
    return hmac.new(key, f"export:{export_id}:{user_id}".encode(), hashlib.sha256).hexdigest()[:40]


def link(stores: Stores, export_id: int, user_id: int) -> str:
    """The download path of an export for its user."""
    return f"/exports/{export_id}/{link_token(stores, export_id, user_id)}"


def params_json(p: Params) -> dict:
    return {"from": p.date_from.isoformat() if p.date_from else None,
            "to": p.date_to.isoformat() if p.date_to else None,
            "filters": {k: list(v) for k, v in p.filters.items() if v}}


def _params(d: dict, lang: str) -> Params:
    return Params(date_from=date.fromisoformat(d["from"]) if d.get("from") else None,
                  date_to=date.fromisoformat(d["to"]) if d.get("to") else None,
                  filters={k: list(v) for k, v in (d.get("filters") or {}).items()}, lang=lang)


def request(stores: Stores, user: User, report_id: str, params: Params, file_format: str = "xlsx",
            *, notify: bool = False) -> int:
    """Queue an export of `report_id` for `user`; returns its id."""
    if file_format not in FORMATS:
        raise ExportError(f"format must be one of {', '.join(FORMATS)}, got {file_format!r}")
    try:
        get(report_id)
    except KeyError:
        raise ExportError(f"unknown report {report_id!r}") from None
    if not can_see_report(user, report_id):
        raise ExportError(f"you may not see {report_id}")
    params.resolved()  # an empty range is refused here, not in the worker
    e = T.report_exports
    with stores.ops_write() as c:
        eid = c.execute(e.insert().values(
            user_id=user.id, tenant=user.tenant, report_id=report_id,
            params=params_json(params), format=file_format, lang=params.lang, notify=notify,
            state="queued", created_at=_now()).returning(e.c.id)).scalar_one()
    _WAKE.set()
    return eid


def status(stores: Stores, user: User, export_id: int) -> dict:
    """The export's row if `user` asked for it."""
    e = T.report_exports
    with stores.ops_read() as c:
        r = c.execute(sa.select(e, T.delivery_files.c.filename, T.delivery_files.c.size_bytes)
                      .select_from(e.outerjoin(T.delivery_files,
                                               T.delivery_files.c.id == e.c.file_id))
                      .where(e.c.id == export_id)).mappings().first()
    if r is None or r["user_id"] != user.id:
        raise ExportGone(f"no export {export_id}")
    return dict(r)


def listing(stores: Stores, user: User, limit: int = 20) -> list[dict]:
    e = T.report_exports
    with stores.ops_read() as c:
        rows = c.execute(sa.select(e.c.id, e.c.report_id, e.c.format, e.c.state, e.c.created_at,
                                   e.c.ready_at, e.c.expires_at, e.c.rows, e.c.error)
                         .where(e.c.user_id == user.id).order_by(e.c.id.desc()).limit(limit)
                         ).mappings().all()
    return [dict(r) for r in rows]


def download(stores: Stores, user: User | None, export_id: int, token: str,
             at: datetime | None = None) -> Attachment:
    """The file, for the user who asked, with the right token, before it expires."""
    e = T.report_exports
    if user is None or not hmac.compare_digest(link_token(stores, export_id, user.id),
                                               str(token or "")):
        raise ExportGone(f"no export {export_id}")
    with stores.ops_read() as c:
        r = c.execute(sa.select(e).where(e.c.id == export_id)).mappings().first()
        if r is None or r["user_id"] != user.id:
            raise ExportGone(f"no export {export_id}")
        if r["state"] == "expired" or (r["expires_at"] is not None
                                       and r["expires_at"] <= (at or _now())):
            raise _expired(user.lang)
        if r["state"] != "ready" or r["file_id"] is None:
            raise ExportGone(f"export {export_id} is not ready")
        f = file_of(c, r["file_id"])
    if f is None:
        raise _expired(user.lang)
    return f


def _expired(lang: str) -> ExportGone:
    exc = ExportGone(t("export_expired", lang))
    exc.status, exc.error_id = 410, "export-expired"
    return exc


# ----------------------------------------------------------------------------- the worker


def _claim(stores: Stores, at: datetime) -> dict | None:
    e = T.report_exports
    stale = at - timedelta(seconds=get_settings().export_time_limit_s + 60)
    waiting = sa.or_(e.c.state == "queued", sa.and_(e.c.state == "running", e.c.started_at < stale))
    with stores.ops_read() as c:  # most passes find nothing: then no write turn
        if c.execute(sa.select(e.c.id).where(waiting).limit(1)).first() is None:
            return None
    with stores.ops_write() as c:
        for eid in c.execute(sa.select(e.c.id).where(waiting).order_by(e.c.id).limit(5)).scalars():
            if c.execute(e.update().where(e.c.id == eid, waiting)
                         .values(state="running", started_at=at)).rowcount == 1:
                return dict(c.execute(sa.select(e).where(e.c.id == eid)).mappings().one())
    return None


def run_one(stores: Stores, row: dict) -> None:
    """Render one claimed export and mark it ready (or failed, with the error)."""
    s = get_settings()
    e = T.report_exports
    try:
        user = get_user(stores, row["user_id"])
        if user is None or user.disabled:
            raise ExportError("the user who asked for this export is disabled")
        guard = Guard(time_limit_s=s.export_time_limit_s, max_months=s.report_max_months)
        out = V.render(stores, user, row["report_id"], _params(row["params"], row["lang"]),
                       row["format"], guard=guard)
        ready = _now()
        expires = ready + timedelta(hours=s.export_link_hours)
        with stores.ops_write() as c:
            fid = add_file(c, out.attachment, max_bytes=s.delivery_max_bytes, expires_at=expires)
            c.execute(e.update().where(e.c.id == row["id"]).values(
                state="ready", file_id=fid, ready_at=ready, expires_at=expires, error=None,
                rows=sum(len(tb.rows) for tb in out.result.tables)))
            if row["notify"]:
                _notify(c, stores, user, row, out, expires)
    except PbxlensError as exc:
        log.warning("export %s failed: %s", row["id"], exc)
        with stores.ops_write() as c:
            c.execute(e.update().where(e.c.id == row["id"])
                      .values(state="failed", error=str(exc)[:2000]))
        return
    if row["notify"]:
        wake()


def _notify(conn: sa.Connection, stores: Stores, user: User, row: dict, out: V.Rendered,
            until: datetime) -> None:
    """Mail the link (it works for this user only, logged in)."""
    email = conn.execute(sa.select(T.users.c.email).where(T.users.c.id == user.id)).scalar()
    if not email:
        return
    lang = row["lang"]
    local = until.astimezone(ZoneInfo(get_settings().timezone))
    when = f"{fmt.day_label(local.date())} {local:%H:%M}"
    url = get_settings().public_url.rstrip("/") + link(stores, row["id"], user.id)
    enqueue(conn, [Message(
        channel="email", target=email, origin=f"export:{row['id']}", tenant=user.tenant,
        owner=user.id, subject=t("export_mail_subject", lang, title=out.result.title),
        body=t("export_mail_body", lang, title=out.result.title, applied=out.applied, until=when),
        links=((t("export_download", lang), url),), dedupe_key=f"export:{row['id']}")])


def run_queued(stores: Stores, at: datetime | None = None) -> int:
    """Run every queued export, one after the other; returns how many ran."""
    n = 0
    while (row := _claim(stores, at or _now())) is not None:
        run_one(stores, row)
        n += 1
    return n


def prune(stores: Stores, at: datetime | None = None) -> int:
    """Forget expired exports' files (the rows stay, `expired`)."""
    e = T.report_exports
    at = at or _now()
    with stores.ops_write() as c:
        n = c.execute(e.update().where(e.c.state == "ready", e.c.expires_at < at)
                      .values(state="expired", file_id=None)).rowcount
        prune_files(c, at)
    return n


def start_worker(stores: Stores, stop: threading.Event, interval_s: float = INTERVAL_S
                 ) -> threading.Thread:
    """The server's export thread: runs queued exports as they arrive."""

    return start_loop("pbxlens-exports", lambda: run_queued(stores), stop, _WAKE,
                      interval_s, log)
