"""The callback queue's JSON API (session or Bearer token; the roles of the pages; CSRF on
POSTs as for the app's other POSTs, checked by the server's guard). Each handler parses, makes
one call into `pbxlens.missed_calls`, and answers JSON.

- `GET  /api/missed?view=to_call|booked|open|all&limit=&offset=&sort=&desc=&<filter>=`
  -> `{"rows": [...], "total": N, "limit", "offset"}` (numbers masked as the user must see them)
- `POST /api/missed/<token>/book` -> `{"booked_by", ...}`, or 409
  `{"error": "conflict", "booked_by": "<winner>"}`
- `POST /api/missed/<token>/cancel`, `POST /api/missed/<token>/dial`
- supervisors: `POST /api/missed/<token>/assign` `{"username"}`,
  `POST /api/missed/flush` `{"tokens": [...]}`
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Any

import flask
from flask.json.provider import DefaultJSONProvider

from pbxlens import PbxlensError
from pbxlens.dashboards import i18n
from pbxlens.missed_calls import click2call, listing, sync
from pbxlens.missed_calls import operations as op
from pbxlens.missed_calls.actor import Actor
from pbxlens.missed_calls.errors import MissedError
from pbxlens.store import OpsOnly, Stores, roles, users
from pbxlens.store import ops as ops_store

MAX_BODY = 1 << 20  # a flush of 10,000 tokens fits


def _default(value: Any) -> Any:
    """Dates and times as ISO 8601 (Flask's default writes HTTP dates), the rest as Flask does;
    called by the C encoder for those values only, not for every value of a page."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    return DefaultJSONProvider.default(value)


def _jsonify(value: Any) -> flask.Response:
    app = flask.current_app
    return app.response_class(app.json.dumps(value, default=_default) + "\n",
                              mimetype="application/json")


def _fail(status: int, error: str, message: str, **extra: Any):
    return flask.jsonify({"error": error, "status": status, "message": message, **extra}), status


def _answer(fn: Callable[[Actor], Any], *, managers: bool = False):
    """Run `fn` for the logged-in user: 403 without the role, the error's status and JSON for
    a refused action, 200 and the result otherwise."""
    user = flask.g.get("user")
    allowed = roles.is_manager(user) if managers else roles.can_use_missed_calls(user)
    if not allowed:
        return _fail(403, "forbidden", "this needs the missed-calls role"
                     + (" of a supervisor" if managers else ""))
    try:
        return _jsonify(fn(Actor.of(user)))
    except PbxlensError as exc:
        if hasattr(exc, "public"):
            return _jsonify(exc.public()), exc.status
        return _fail(getattr(exc, "status", 400), getattr(exc, "error_id", "invalid"), str(exc))


def _body() -> dict:
    if (flask.request.content_length or 0) > MAX_BODY:
        raise MissedError(f"the body is larger than {MAX_BODY} bytes")
    body = flask.request.get_json(silent=True)
    if not isinstance(body, dict):
        raise MissedError("expected a JSON object")
    return body


def _page(stores: Stores, actor: Actor) -> dict:
    a = flask.request.args
    filters = {k: a.getlist(k) if len(a.getlist(k)) > 1 else a.get(k)
               for k in listing.FILTERS if k in a}
    try:
        limit, offset = int(a.get("limit", 50)), int(a.get("offset", 0))
    except ValueError:
        raise MissedError("limit and offset are whole numbers") from None
    page = listing.list_requests(stores, actor, a.get("view", "to_call"), filters,
                                 a.get("sort", "first_call"),
                                 a.get("desc", "1").lower() not in ("0", "false", "no"),
                                 limit, offset)
    return {"rows": page.rows, "total": page.total, "limit": page.limit,
            "offset": page.offset}


def install(server: flask.Flask, stores: Stores) -> None:
    """Register the routes, and bring the operations store up to date in the writer."""
    sync.start(stores)
    routes(server, stores)


def side_app(stores: OpsOnly) -> flask.Flask:
    """The same API for an intake process (pbxlens.dashboards.intake): the operations store
    alone, Bearer tokens only. Browsers use the main port; this port is for API clients (a
    CTI panel, a wallboard), so it keeps no session and needs no CSRF token."""
    app = flask.Flask("pbxlens.missed_api")

    @app.before_request
    def _guard():
        flask.g.user = users.token_user(stores, users.bearer_token(
            flask.request.headers.get("Authorization")))
        if flask.g.user is None:
            return _fail(401, "unauthenticated", "a Bearer API token is needed on this port")
        return None

    @app.after_request
    def _headers(resp):
        resp.headers.setdefault("X-Content-Type-Options", "nosniff")
        resp.headers.setdefault("Cache-Control", "no-store")
        return resp

    @app.errorhandler(ops_store.OpsUnavailable)
    def ops_unavailable(_exc):
        lang = flask.request.accept_languages.best_match(["en", "it"], default="en")
        resp, status = _fail(503, "ops-unavailable", i18n.t("ops_unavailable", lang))
        return resp, status, {"Retry-After": "5"}  # as the main port says it

    routes(app, stores)
    return app


def routes(server: flask.Flask, stores: Stores | OpsOnly) -> None:
    """The callback queue's routes on `server`."""

    @server.get("/api/missed")
    def missed_list():
        return _answer(lambda actor: _page(stores, actor))

    @server.post("/api/missed/<token>/book")
    def missed_book(token: str):
        return _answer(lambda actor: op.book(stores, actor, token))

    @server.post("/api/missed/<token>/cancel")
    def missed_cancel(token: str):
        return _answer(lambda actor: op.cancel(stores, actor, token))

    @server.post("/api/missed/<token>/dial")
    def missed_dial(token: str):
        return _answer(lambda actor: click2call.call(stores, actor, token,
                                                     click2call.configured(stores)))

    @server.post("/api/missed/<token>/assign")
    def missed_assign(token: str):
        return _answer(lambda actor: op.assign(stores, actor, token,
                                               str(_body().get("username") or "")),
                       managers=True)

    @server.post("/api/missed/flush")
    def missed_flush():
        def flush(actor: Actor) -> dict:
            tokens = _body().get("tokens")
            if not isinstance(tokens, list) or not all(isinstance(t, str) for t in tokens):
                raise MissedError('expected {"tokens": ["...", ...]}')
            return {"flushed": op.flush(stores, actor, tokens)}

        return _answer(flush, managers=True)
