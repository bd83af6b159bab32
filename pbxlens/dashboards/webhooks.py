"""HTTP ingest endpoints of the server process (issue 7):

- `POST /api/events`: PBX web-service notifications, one JSON event or an array (formats.md §2);
- `POST /voipToCall/kalliopeToCall/insert/`: dynamic-routing XML for missed calls
  (nexus_modules.md A.3.1, the seed's body L6241-6252);
- `POST /voip/apiInstradamento/instradamento`: feedback / routing log (nexus_modules.md D.1).

Each source has its own token (settings `webhook_token_events`, `webhook_token_dynamic_routing`,
`webhook_token_feedback`, else the PBXLENS_WEBHOOK_TOKEN_* environment), given as the header
`X-Pbxlens-Token`, the query parameter `token`, or the password of HTTP Basic auth (the only
auth the PBX's web-service and dynamic-routing actions offer, L13367-13398, L11330). A source
with no token configured is refused (403). Tokens are compared in constant time.

A body is parsed, then handed to the group committer: one writer thread that commits everything
waiting in one DuckDB transaction under the store's write lock, and only then releases the
requests; so every 2xx answer means "committed". A repeat (same event id, same unique_id) is
acknowledged and stored once. A malformed body is answered 400 with the reason and lands in
`quarantine` (with an `ingest_batches` row of format `webhook_<source>`).

The endpoints are mounted in front of the Dash/Flask app (a WSGI dispatcher on their exact
paths), so they bypass the session guard and its per-request user lookups.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import json
import os
import queue
import re
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import flask
import pyarrow as pa

from pbxlens import pipeline
from pbxlens.config import Settings
from pbxlens.dashboards.store import Store
from pbxlens.ingest import events

EVENTS_PATH = "/api/events"
DR_PATH = "/voipToCall/kalliopeToCall/insert/"
FEEDBACK_PATH = "/voip/apiInstradamento/instradamento"
SOURCES = {EVENTS_PATH: "events", DR_PATH: "dynamic_routing", FEEDBACK_PATH: "feedback"}
DEFAULT_MAX_BYTES = 1024 * 1024
MAX_EVENTS_PER_BODY = 10_000
XML_OK = '<?xml version="1.0"?><response><value>OK</value></response>'
_PLACEHOLDER = re.compile(r"^%[A-Za-z0-9_\[\]]+%$")


class BadBody(Exception):
    """A request body that cannot be stored: answered 400 and quarantined."""


# ---------------------------------------------------------------------------- settings
_settings_cache: tuple[tuple, Settings] | None = None
_ENV_NAMES = ("PBXLENS_WEBHOOK_TOKEN_EVENTS", "PBXLENS_WEBHOOK_TOKEN_DYNAMIC_ROUTING",
              "PBXLENS_WEBHOOK_TOKEN_FEEDBACK", "PBXLENS_WEBHOOK_MAX_BYTES")


def _fresh_settings() -> Settings:
    # Not the process-wide cached settings: a token rotated in the environment or the settings
    # file takes effect without a restart. But re-parse only when the PBXLENS_* environment or
    # the file's mtime changed: parsing once per request cost ~1 ms of a ~2 ms request.
    global _settings_cache
    path = Path(os.environ.get("PBXLENS_CONFIG", "pbxlens.toml"))
    try:
        mtime = path.stat().st_mtime_ns
    except OSError:
        mtime = None
    key = (tuple(os.environ.get(n) for n in _ENV_NAMES), str(path), mtime)
    if _settings_cache is None or _settings_cache[0] != key:
        _settings_cache = (key, Settings())
    return _settings_cache[1]


def _setting(name: str, default: str | None = None) -> str | None:
    v = getattr(_fresh_settings(), name, None)
    return default if v in (None, "") else str(v)


def token_for(source: str) -> str | None:
    return _setting(f"webhook_token_{source}")


def max_bytes() -> int:
    return int(_setting("webhook_max_bytes", str(DEFAULT_MAX_BYTES)))


def presented_token(req: flask.Request) -> str | None:
    tok = req.headers.get("X-Pbxlens-Token") or req.args.get("token")
    if tok:
        return tok
    auth = req.headers.get("Authorization", "")
    if auth.lower().startswith("basic "):
        try:
            return base64.b64decode(auth[6:].strip()).decode("utf-8").split(":", 1)[1]
        except (ValueError, IndexError, UnicodeDecodeError):
            return None
    if auth.lower().startswith("bearer "):
        return auth[7:].strip()
    return None


def token_ok(source: str, given: str | None) -> bool | None:
    """None: no token configured for the source; else whether `given` matches."""
    want = token_for(source)
    if want is None:
        return None
    return given is not None and hmac.compare_digest(want.encode(), given.encode())


# ------------------------------------------------------------------------------ parsing
def _clean(v: object) -> str | None:
    if v is None:
        return None
    s = str(v).strip()
    return None if s == "" or _PLACEHOLDER.match(s) else s


EVENT_FIELDS = ("pbx_serial", "event_key", "event_id", "event_name", "severity", "event_ts",
                "tenant", "unique_id", "params")


def parse_events(body: bytes) -> list[dict]:
    try:
        doc = json.loads(body.decode("utf-8-sig"))
    except UnicodeDecodeError:
        raise BadBody("body is not UTF-8") from None
    except json.JSONDecodeError as exc:
        raise BadBody(f"invalid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from None
    items = doc if isinstance(doc, list) else [doc]
    if not items:
        raise BadBody("empty event batch")
    if len(items) > MAX_EVENTS_PER_BODY:
        raise BadBody(f"more than {MAX_EVENTS_PER_BODY} events in one body")
    out = []
    for i, ev in enumerate(items, start=1):
        where = f"event {i}: " if isinstance(doc, list) else ""
        try:
            out.append(events.parse_event(ev))  # the same parser as event-log files
        except events.BadEvent as exc:
            raise BadBody(f"{where}{exc}") from None
    return out


def _xml_root(body: bytes, *, tolerate_seed_form: bool):
    from xml.etree.ElementTree import ParseError

    from defusedxml import DefusedXmlException
    from defusedxml import ElementTree as DET

    def parse(data: bytes):
        return DET.fromstring(data, forbid_dtd=True, forbid_entities=True, forbid_external=True)

    try:
        return parse(body)
    except DefusedXmlException as exc:
        raise BadBody(f"refused unsafe XML ({type(exc).__name__}: DTDs and entities are not "
                      "accepted)") from None
    except ParseError as exc:
        if not tolerate_seed_form:
            raise BadBody(f"not well-formed XML: {exc}") from None
        # The seed's feedback body (L7662-7672): `xml version="1.0"?` and an empty
        # `<parameters></parameters>` followed by the fields. Re-wrap the fields.
        text = body.decode("utf-8", errors="replace")
        text = re.sub(r"^\s*(<\?)?xml[^>\n]*\?>?", "", text, count=1)
        text = re.sub(r"<parameters\s*>\s*</parameters\s*>|<parameters\s*/>", "", text, count=1)
        try:
            return parse(f"<parameters>{text}</parameters>".encode())
        except (ParseError, DefusedXmlException):
            raise BadBody(f"not well-formed XML: {exc}") from None


def parse_parameters(body: bytes, *, feedback: bool) -> dict:
    if not body.strip():
        raise BadBody("empty body")
    root = _xml_root(body, tolerate_seed_form=feedback)
    if root.tag != "parameters":
        raise BadBody(f"root element is <{root.tag}>, expected <parameters>")
    vals: dict[str, str | None] = {}
    present = set()
    for child in root:
        present.add(child.tag)
        vals[child.tag] = _clean(child.text)
    if not vals.get("unique_id"):
        raise BadBody("<unique_id> is missing or empty")
    if "caller" not in present:
        raise BadBody("<caller> is missing")
    row = {k: vals.get(k) for k in ("unique_id", "caller", "called", "param1", "param2", "param3",
                                    "param4", "param5")}
    row["tenant"] = vals.get("tenant") or "default"
    if feedback:
        row["grp"] = vals.get("group") or ""
        row["body_sha256"] = hashlib.sha256(body).hexdigest()
        try:
            r = int(row["param1"] or "")
            row["rating"] = r if 1 <= r <= 6 else None
        except ValueError:
            row["rating"] = None
    else:
        row["servicecode"] = vals.get("servicecode")
    return row


# ------------------------------------------------------------------------ group commit
TABLES = {
    "events": ("pbx_events", ("pbx_serial", "event_key"),
               (*EVENT_FIELDS, "received_at", "batch_id")),
    "dynamic_routing": ("dynamic_routing_requests", ("tenant", "unique_id"),
                        ("tenant", "unique_id", "caller", "called", "servicecode", "param1",
                         "param2", "param3", "param4", "param5", "received_at", "remote_addr",
                         "raw", "batch_id")),
    "feedback": ("feedback_requests", ("tenant", "unique_id", "grp", "body_sha256"),
                 ("tenant", "unique_id", "grp", "body_sha256", "caller", "called", "param1",
                  "param2", "param3", "param4", "param5", "rating", "received_at", "remote_addr",
                  "raw", "batch_id")),
}


@dataclass
class _Job:
    source: str
    rows: list[dict]
    reject: tuple[str, str] | None = None    # (raw, reason) -> quarantine
    done: threading.Event = field(default_factory=threading.Event)
    new: list[bool] = field(default_factory=list)
    batch_id: int | None = None
    error: BaseException | None = None


class Committer:
    """One writer thread: drains the queue, commits all waiting jobs in one transaction."""

    def __init__(self, store: Store, max_batch: int = 2000) -> None:
        self.store = store
        self.max_batch = max_batch
        self.q: queue.Queue[_Job] = queue.Queue()
        self.commits = 0
        self._cur = None
        threading.Thread(target=self._run, name="pbxlens-webhook-commit", daemon=True).start()

    def submit(self, job: _Job, timeout: float = 30.0) -> _Job:
        self.q.put(job)
        if not job.done.wait(timeout):
            raise TimeoutError("the store did not commit in time")
        if job.error is not None:
            raise job.error
        return job

    def _run(self) -> None:
        while True:
            jobs = [self.q.get()]
            n = len(jobs[0].rows)
            while n < self.max_batch:
                try:
                    j = self.q.get_nowait()
                except queue.Empty:
                    break
                jobs.append(j)
                n += len(j.rows)
            try:
                self._commit(jobs)
            except BaseException as exc:  # every waiting request gets the failure (-> 503)
                for j in jobs:
                    j.error = exc
            for j in jobs:
                j.done.set()

    def _commit(self, jobs: list[_Job]) -> None:
        now = datetime.now(UTC)
        with self.store.write_lock:
            if self._cur is None:
                self._cur = self.store.con.cursor()
            cur = self._cur
            cur.execute("BEGIN TRANSACTION")
            try:
                batch_id = cur.execute("SELECT nextval('ingest_batch_seq')").fetchone()[0]
                read = loaded = dup = quarantined = 0
                sources = set()
                for source in TABLES:
                    mine = [j for j in jobs if j.source == source and j.reject is None]
                    if mine:
                        r, lo = self._insert(cur, source, mine, batch_id, now)
                        read += r
                        loaded += lo
                        dup += r - lo
                        sources.add(source)
                for j in jobs:
                    if j.reject is not None:
                        cur.execute("INSERT INTO quarantine (batch_id, source, line, record, raw, reason)"
                                    " VALUES (?, ?, NULL, NULL, ?, ?)",
                                    [batch_id, f"webhook:{j.source}", j.reject[0], j.reject[1]])
                        read += 1
                        quarantined += 1
                        sources.add(j.source)
                    j.batch_id = batch_id
                fmt = "webhook_" + "+".join(sorted(sources))
                cur.execute(
                    "INSERT INTO ingest_batches (batch_id, source, sha256, format, rows_read, rows_loaded,"
                    " rows_duplicate, rows_quarantined, calls_loaded, started_at, finished_at)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0, ?, ?)",
                    [batch_id, "webhooks", f"webhook-batch-{batch_id}", fmt, read, loaded, dup,
                     quarantined, now, datetime.now(UTC)])
                cur.execute("COMMIT")
            except BaseException:
                cur.execute("ROLLBACK")
                raise
            pipeline.run_pending(pipeline.StepContext(cur))  # same facts as from a file
        self.commits += 1

    def _insert(self, cur, source: str, jobs: list[_Job], batch_id: int, now: datetime) -> tuple[int, int]:
        """One INSERT ... SELECT over an Arrow table, ON CONFLICT DO NOTHING RETURNING the keys
        that were new. (A multi-row VALUES list with a parameter per cell cost ~2 ms a row to
        bind; the Arrow scan is flat.)"""
        table, key, cols = TABLES[source]
        rows = [r for j in jobs for r in j.rows]
        first: dict[tuple, dict] = {}
        for r in rows:
            first.setdefault(tuple(r[c] for c in key), r)
        data = {c: [r.get(c) for r in first.values()] for c in cols
                if c not in ("received_at", "batch_id")}
        arrow = pa.table({c: pa.array(v, type=pa.string()) if c == "params" else pa.array(v)
                          for c, v in data.items()})
        select = ", ".join("?" if c in ("received_at", "batch_id")
                           else (f"{c}::JSON" if c == "params" else c) for c in cols)
        cur.register("_webhook_rows", arrow)
        try:
            inserted = cur.execute(
                f"INSERT INTO {table} ({', '.join(cols)}) SELECT {select} FROM _webhook_rows"
                f" ON CONFLICT DO NOTHING RETURNING {', '.join(key)}",
                [now if c == "received_at" else batch_id for c in cols
                 if c in ("received_at", "batch_id")]).fetchall()
        finally:
            cur.unregister("_webhook_rows")
        fresh = {tuple(str(v) if v is not None else None for v in k) for k in inserted}
        for j in jobs:
            j.new = []
            for r in j.rows:
                k = tuple(r[c] for c in key)
                is_new = k in fresh and first.get(k) is r
                j.new.append(is_new)
        return len(rows), len(fresh)


# ------------------------------------------------------------------------------- app
def _xml(body: str, status: int = 200) -> flask.Response:
    return flask.Response(body, status=status, mimetype="application/xml")


def _error(source: str, status: int, error: str, reason: str) -> flask.Response:
    if source == "events":
        return flask.jsonify({"error": error, "reason": reason, "status": status}), status
    esc = reason.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _xml(f'<?xml version="1.0"?><response><value>ERROR</value><message>{esc}</message>'
                "</response>", status)


def make_app(store: Store) -> flask.Flask:
    app = flask.Flask("pbxlens.webhooks")
    committer = app.extensions["committer"] = Committer(store)

    def handle(source: str):
        req = flask.request
        ok = token_ok(source, presented_token(req))
        if ok is None:
            return _error(source, 403, "disabled", f"no token is configured for {source}")
        if not ok:
            return _error(source, 401, "unauthorized", "missing or wrong token")
        limit = max_bytes()
        if req.content_length is not None and req.content_length > limit:
            return _error(source, 413, "too-large", f"bodies are limited to {limit} bytes")
        body = req.stream.read(limit + 1)
        if len(body) > limit:
            return _error(source, 413, "too-large", f"bodies are limited to {limit} bytes")
        remote = req.remote_addr
        try:
            if source == "events":
                rows = parse_events(body)
            else:
                row = parse_parameters(body, feedback=source == "feedback")
                row["remote_addr"] = remote
                row["raw"] = body.decode("utf-8", errors="replace")
                rows = [row]
        except BadBody as exc:
            reason = str(exc)
            with contextlib.suppress(Exception):  # the 400 matters more than its quarantine row
                committer.submit(_Job(source, [], reject=(
                    body[:100_000].decode("utf-8", errors="backslashreplace"), reason)))
            return _error(source, 400, "bad-request", reason)
        try:
            job = committer.submit(_Job(source, rows))
        except Exception as exc:
            return _error(source, 503, "unavailable", f"not stored: {type(exc).__name__}")
        if source != "events":
            return _xml(XML_OK)
        stored = sum(job.new)
        return flask.jsonify({"stored": stored, "duplicates": len(rows) - stored,
                              "batch_id": job.batch_id})

    for path, source in SOURCES.items():
        app.add_url_rule(path, f"webhook_{source}", (lambda s=source: handle(s)), methods=["POST"])
    return app


class _Dispatcher:
    """WSGI: the webhook paths go to the webhook app, everything else to the main app."""

    def __init__(self, main, hooks) -> None:
        self.main, self.hooks = main, hooks

    def __call__(self, environ, start_response):
        if environ.get("PATH_INFO") in SOURCES:
            return self.hooks(environ, start_response)
        return self.main(environ, start_response)


def install(server: flask.Flask, store: Store) -> flask.Flask:
    """Mount the webhook endpoints in front of `server` and add `GET /api/events/stats`
    (behind the app's usual session/API-token guard)."""
    hooks = make_app(store)
    server.wsgi_app = _Dispatcher(server.wsgi_app, hooks.wsgi_app)

    @server.route("/api/events/stats")
    def events_stats():
        """Stored events by name, and how many of them reconcile with `calls`."""
        with store.cursor() as cur:
            rows = cur.execute(
                "SELECT event_name, count(*), count(*) FILTER (WHERE in_calls)"
                " FROM pbx_events_reconciled GROUP BY ALL ORDER BY 1").fetchall()
            dr, fb = cur.execute("SELECT (SELECT count(*) FROM dynamic_routing_requests),"
                                 " (SELECT count(*) FROM feedback_requests)").fetchone()
        return {"events": {n: {"count": c, "in_calls": r} for n, c, r in rows},
                "total": sum(c for _n, c, _r in rows), "dynamic_routing": dr, "feedback": fb}

    return hooks
