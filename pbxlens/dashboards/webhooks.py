"""HTTP ingest endpoints of the server process:

- `POST /api/events`: PBX web-service notifications, one JSON event or an array (formats.md §2);
- `POST /voipToCall/kalliopeToCall/insert/`: dynamic-routing XML for missed calls
  (nexus_modules.md A.3.1, the seed's body L6241-6252);
- `POST /voip/apiInstradamento/instradamento`: feedback / routing log (nexus_modules.md D.1).

Each source has its own token (settings `webhook_token_events`, `webhook_token_dynamic_routing`,
`webhook_token_feedback`, else the PBXLENS_WEBHOOK_TOKEN_* environment), given as the header
`X-Pbxlens-Token`, the query parameter `token`, or the password of HTTP Basic auth (the only
auth the PBX's web-service and dynamic-routing actions offer, L13367-13398, L11330). A source
with no token configured is refused (403). Tokens are compared in constant time.

This module is the edge only: check the token and the size, parse
(`pbxlens.ingest.webhook_bodies`), commit to the durable inbox in the operations store
(`pbxlens.ingest.inbox`) and answer. A 2xx means "committed to the inbox"; nothing here waits
on DuckDB: the analytics writer moves the inbox into it within a second
(`pbxlens.ingest.inbox_move`). A body refused as malformed, too large or too deep gets a 4xx
with the reason (a malformed one is recorded for the quarantine view); the operations store
unreachable gets 503 with Retry-After (the PBX retries).

The endpoints are a bare WSGI function mounted in front of the Dash/Flask app (a dispatcher on
their exact paths): no session guard, no Flask request objects, about half the cost per request.
"""

from __future__ import annotations

import base64
import hmac
import json
import os
import time
from pathlib import Path
from urllib.parse import parse_qs

import flask

from pbxlens.config import Settings
from pbxlens.ingest import inbox as inbox_mod
from pbxlens.ingest import inbox_move
from pbxlens.ingest.webhook_bodies import BadBody, parse_events, parse_parameters
from pbxlens.store import Stores, ops, roles

EVENTS_PATH = "/api/events"
DR_PATH = "/voipToCall/kalliopeToCall/insert/"
FEEDBACK_PATH = "/voip/apiInstradamento/instradamento"
SOURCES = {EVENTS_PATH: "events", DR_PATH: "dynamic_routing", FEEDBACK_PATH: "feedback"}
XML_OK = b'<?xml version="1.0"?><response><value>OK</value></response>'
RETRY_AFTER_S = "5"
_STATUS = {200: "200 OK", 400: "400 Bad Request", 401: "401 Unauthorized",
           403: "403 Forbidden", 405: "405 Method Not Allowed", 411: "411 Length Required",
           413: "413 Payload Too Large", 503: "503 Service Unavailable"}

# ---------------------------------------------------------------------------- settings
_settings_cache: tuple[tuple, Settings] | None = None
_checked_at = -1.0
RECHECK_S = 1.0
_ENV_NAMES = ("PBXLENS_WEBHOOK_TOKEN_EVENTS", "PBXLENS_WEBHOOK_TOKEN_DYNAMIC_ROUTING",
              "PBXLENS_WEBHOOK_TOKEN_FEEDBACK", "PBXLENS_WEBHOOK_MAX_BYTES",
              "PBXLENS_WEBHOOK_MAX_DEPTH")


def settings() -> Settings:
    # Not the process-wide cached settings: a token rotated in the settings file (or the
    # environment, in tests) takes effect without a restart. Re-parsed only when the PBXLENS_*
    # variables or the file's mtime changed (parsing per request cost ~1 ms); the file is
    # looked at no more than once a second (a stat per request cost a third of the edge).
    global _settings_cache, _checked_at
    env = tuple(os.environ.get(n) for n in _ENV_NAMES)
    now = time.monotonic()
    if (_settings_cache is not None and _settings_cache[0][0] == env
            and now - _checked_at < RECHECK_S):
        return _settings_cache[1]
    _checked_at = now
    path = Path(os.environ.get("PBXLENS_CONFIG", "pbxlens.toml"))
    try:
        mtime = path.stat().st_mtime_ns
    except OSError:
        mtime = None
    key = (env, str(path), mtime)
    if _settings_cache is None or _settings_cache[0] != key:
        _settings_cache = (key, Settings())
    return _settings_cache[1]


def token_for(source: str, s: Settings | None = None) -> str | None:
    return getattr(s or settings(), f"webhook_token_{source}", None) or None


def presented_token(environ: dict) -> str | None:
    tok = environ.get("HTTP_X_PBXLENS_TOKEN")
    if tok:
        return tok
    if "token=" in environ.get("QUERY_STRING", ""):
        tok = parse_qs(environ["QUERY_STRING"]).get("token", [None])[0]
        if tok:
            return tok
    auth = environ.get("HTTP_AUTHORIZATION", "")
    if auth[:6].lower() == "basic ":
        try:
            return base64.b64decode(auth[6:].strip()).decode("utf-8").split(":", 1)[1]
        except (ValueError, IndexError, UnicodeDecodeError):
            return None
    if auth[:7].lower() == "bearer ":
        return auth[7:].strip()
    return None


def token_ok(source: str, given: str | None, s: Settings | None = None) -> bool | None:
    """None: no token configured for the source; else whether `given` matches."""
    want = token_for(source, s)
    if want is None:
        return None
    return given is not None and hmac.compare_digest(want.encode(), given.encode())


# ------------------------------------------------------------------------------- app
def _answer(start_response, source: str, status: int, error: str | None = None,
            reason: str = "", body: dict | None = None) -> list[bytes]:
    headers = []
    if source == "events":
        payload = body if error is None else {"error": error, "reason": reason, "status": status}
        data = json.dumps(payload).encode()
        headers.append(("Content-Type", "application/json"))
    elif error is None:
        data = XML_OK
        headers.append(("Content-Type", "application/xml"))
    else:
        esc = reason.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        data = (f'<?xml version="1.0"?><response><value>ERROR</value><message>{esc}</message>'
                "</response>").encode()
        headers.append(("Content-Type", "application/xml"))
    if status == 503:
        headers.append(("Retry-After", RETRY_AFTER_S))
    headers.append(("Content-Length", str(len(data))))
    start_response(_STATUS[status], headers)
    return [data]


def _parse(source: str, body: bytes, s: Settings) -> list[dict]:
    if source == "events":
        return parse_events(body, s.webhook_max_depth)
    return [parse_parameters(body, feedback=source == "feedback")]


def make_app(inbox: inbox_mod.Inbox):
    """The WSGI function of the three endpoints over one process's inbox committer."""

    def app(environ, start_response):
        source = SOURCES.get(environ.get("PATH_INFO", ""))
        if source is None:
            start_response("404 Not Found", [("Content-Type", "text/plain")])
            return [b"not found"]
        if environ["REQUEST_METHOD"] != "POST":
            return _answer(start_response, source, 405, "method", "POST only")
        s = settings()
        ok = token_ok(source, presented_token(environ), s)
        if ok is None:
            return _answer(start_response, source, 403, "disabled",
                           f"no token is configured for {source}")
        if not ok:
            return _answer(start_response, source, 401, "unauthorized", "missing or wrong token")
        limit = s.webhook_max_bytes
        try:
            declared = int(environ.get("CONTENT_LENGTH") or -1)
        except ValueError:
            return _answer(start_response, source, 400, "bad-request", "bad Content-Length")
        if declared > limit:  # refused before a byte of it is read
            return _answer(start_response, source, 413, "too-large",
                           f"bodies are limited to {limit} bytes")
        body = environ["wsgi.input"].read(limit + 1 if declared < 0 else declared)
        if len(body) > limit:
            return _answer(start_response, source, 413, "too-large",
                           f"bodies are limited to {limit} bytes")
        remote = environ.get("REMOTE_ADDR")
        try:
            try:
                rows = _parse(source, body, s)
            except BadBody as exc:
                if exc.status == 400:  # malformed: kept for the quarantine view
                    inbox.reject(source, body.decode("utf-8", errors="backslashreplace"),
                                 str(exc), remote)
                return _answer(start_response, source, exc.status,
                               "too-large" if exc.status == 413 else "bad-request", str(exc))
            inbox.accept(source, rows, remote)
        except ops.OpsUnavailable as exc:
            return _answer(start_response, source, 503, "unavailable",
                           f"not stored, retry later: {exc}")
        return _answer(start_response, source, 200, body={"accepted": len(rows)})

    return app


class _Dispatcher:
    """WSGI: the webhook paths go to the webhook app, everything else to the main app."""

    def __init__(self, main, hooks) -> None:
        self.main, self.hooks = main, hooks

    def __call__(self, environ, start_response):
        if environ.get("PATH_INFO") in SOURCES:
            return self.hooks(environ, start_response)
        return self.main(environ, start_response)


def install(server: flask.Flask, store: Stores) -> inbox_move.Mover:
    """Mount the webhook endpoints in front of `server`, start the inbox mover, and add
    `GET /api/events/stats` (supervisors and admins). Returns the mover."""
    mover = inbox_move.Mover(store)
    inbox = inbox_mod.Inbox(store.ops, on_commit=mover.kick)
    server.extensions["pbxlens_inbox"] = inbox
    server.extensions["pbxlens_mover"] = mover
    server.wsgi_app = _Dispatcher(server.wsgi_app, make_app(inbox))
    mover.start()

    @server.route("/api/events/stats")
    def events_stats():
        """Stored events by name and how many reconcile with `calls`; the inbox backlog; the
        inbox-to-DuckDB lag over the last hour."""
        if not roles.is_manager(flask.g.user):
            return flask.jsonify({"error": "forbidden", "status": 403}), 403
        return _stats(store, mover)

    return mover


_LAG_SQL = """
SELECT quantile_cont(s, 0.5), quantile_cont(s, 0.99), max(s), count(*) FROM (
  SELECT epoch(b.finished_at) - epoch(e.received_at) AS s
  FROM pbx_events e JOIN ingest_batches b USING (batch_id)
  WHERE b.format = 'webhook_inbox' AND e.received_at > now() - INTERVAL 1 HOUR)"""


def _stats(store: Stores, mover: inbox_move.Mover) -> dict:
    # The backlog first: rows count as moved only after their DuckDB commit, so "pending 0" in
    # an answer means its counts below include every acknowledged event.
    try:
        backlog = inbox_mod.backlog(store.ops)
    except ops.OpsUnavailable as exc:
        backlog = {"error": str(exc)}
    with store.cursor() as cur:
        rows = cur.execute(
            "SELECT event_name, count(*), count(*) FILTER (WHERE in_calls)"
            " FROM pbx_events_reconciled GROUP BY ALL ORDER BY 1").fetchall()
        dr, fb = cur.execute("SELECT (SELECT count(*) FROM dynamic_routing_requests),"
                             " (SELECT count(*) FROM feedback_requests)").fetchone()
        p50, p99, worst, n = cur.execute(_LAG_SQL).fetchone()
    return {"events": {name: {"count": c, "in_calls": r} for name, c, r in rows},
            "total": sum(c for _n, c, _r in rows), "dynamic_routing": dr, "feedback": fb,
            "inbox": backlog | {"moves": mover.moves, "last_error": mover.last_error},
            "lag_s": {"events": n, "p50": p50, "p99": p99, "max": worst}}

