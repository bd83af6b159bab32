"""The live routes around the wallboard: the server's shared snapshot (`pbxlens.live.hub`,
started here) and `GET /api/live` (supervisors and admins; the viewer's tenant only; callers
masked without the privacy right; `?queue=700&queue=701` narrows it). The page `/live`
(pages/live.py) reads the same snapshot through `snapshot_for`. `GET /api/live/stream` is its
long-poll: `?since=<version>` waits (up to `wait` s, at most 25) until the snapshot moves
(docs/live.md "Streaming"; a long-poll rather than server-sent events, docs/decisions.md).
Kiosk links (`/kiosk/<token>`, managed by `/api/live/kiosks`) show a tenant's chosen queues
to a TV without a login: a plain page polling its display values (formatted here, no calls and
no numbers of callers).
"""

from __future__ import annotations

import dataclasses
import json
import re
import threading
from collections.abc import Callable

import flask

from pbxlens.config import get_settings
from pbxlens.dashboards.i18n import t
from pbxlens.live import alerts, kiosks, snapshot
from pbxlens.live.hub import Hub
from pbxlens.reports import format as fmt
from pbxlens.store import Stores, ops, roles
from pbxlens.store.users import User

EXT = "pbxlens_live"
STREAM_WAIT_MAX_S = 25.0  # below the usual 30 s idle timeout of proxies


def hub() -> Hub:
    return flask.current_app.extensions[EXT]


class TickBodies:
    """Answers serialized once per snapshot tick and view (tenant, queues, masking or kiosk):
    a hundred screens of one view cost one serialization a tick, then a copy of bytes."""

    def __init__(self) -> None:
        self._tick = -1
        self._bodies: dict[tuple, bytes] = {}
        self._lock = threading.Lock()

    def get(self, tick: int, key: tuple, make: Callable[[], object]) -> bytes:
        with self._lock:
            if tick != self._tick:
                self._tick, self._bodies = tick, {}
            body = self._bodies.get(key)
        if body is None:
            body = json.dumps(make(), separators=(",", ":"), default=str).encode()
            with self._lock:
                if tick == self._tick and len(self._bodies) < 1000:
                    self._bodies[key] = body
        return body


def _json(body: bytes, **headers) -> flask.Response:
    resp = flask.Response(body, mimetype="application/json")
    resp.headers.update(headers)
    return resp


def snapshot_for(h: Hub, user: User, queues: list[str] | None = None) -> dict:
    """The viewer's part of the shared snapshot."""
    snap, _at = h.current()
    return snapshot.scoped(snap.get(user.tenant), user.tenant, queues,
                           privacy_right=bool(user.privacy))


def install(server: flask.Flask, store: Stores) -> Hub:
    h = server.extensions.get(EXT)
    if h is None:
        h = server.extensions[EXT] = Hub(store)
        h.listeners.append(lambda snaps, now: alerts.evaluate(store, snaps, now))
        h.start()
    bodies = server.extensions.setdefault(EXT + "_bodies", TickBodies())

    @server.route("/api/live")
    def api_live():
        u = flask.g.get("user")
        if not roles.is_manager(u):
            return flask.jsonify({"error": "forbidden", "status": 403,
                                  "message": "the wallboard is for supervisors and admins"}), 403
        return view_of(h, bodies, u)

    @server.route("/api/live/stream")
    def api_live_stream():
        u = flask.g.get("user")
        if not roles.is_manager(u):
            return _error(403, "forbidden", "the wallboard is for supervisors and admins")
        return long_poll(h, bodies, u)

    install_kiosks(server, store, h, bodies)
    return h


def _error(status: int, error: str, message: str, **headers):
    resp = flask.jsonify({"error": error, "status": status, "message": message})
    resp.status_code = status
    resp.headers.update(headers)
    return resp


def view_of(h: Hub, bodies: TickBodies, u: User, **headers) -> flask.Response:
    """The viewer's snapshot (its `?queue=`), with its version, serialized once a tick."""
    queues = flask.request.args.getlist("queue") or None
    tick, version = h.ticks, h.version(u.tenant)
    key = ("api", u.tenant, tuple(queues or ()), bool(u.privacy))
    body = bodies.get(tick, key, lambda: {**snapshot_for(h, u, queues), "version": version})
    return _json(body, **headers)


def long_poll(h: Hub, bodies: TickBodies, u: User):
    """The snapshot as soon as its version differs from `?since=` (at once without it); 204
    after `?wait=` seconds (default and most STREAM_WAIT_MAX_S) with no change; 503 when
    `live_stream_max` requests already wait, or the server is stopping."""
    args = flask.request.args
    since = args.get("since")
    try:
        wait = min(STREAM_WAIT_MAX_S, max(0.0, float(args.get("wait", STREAM_WAIT_MAX_S))))
    except ValueError:
        return _error(400, "bad_request", "wait is a number of seconds")
    if since is not None and h.version(u.tenant) == since:
        with h.stream_slot(get_settings().live_stream_max) as ok:
            if not ok:
                return _error(503, "busy", "too many streams are waiting; retry",
                              **{"Retry-After": "1"})
            changed = h.wait_change(u.tenant, since, wait)
        if h.stopping:
            return _error(503, "stopping", "the server is stopping", **{"Retry-After": "5"})
        if not changed:
            resp = flask.Response(status=204)
            resp.headers.update({"X-Live-Version": since, "Cache-Control": "no-store"})
            return resp
    return view_of(h, bodies, u, **{"X-Live-Version": h.version(u.tenant),
                                    "Cache-Control": "no-store"})


# ----------------------------------------------------------------------------- kiosk links

_KIOSK_HTML = """<!doctype html><html lang="{{ lang }}"><head><meta charset="utf-8">
<title>pbxlens · {{ label }}</title><link rel="stylesheet" href="/assets/style.css">
<link rel="stylesheet" href="/assets/live.css"></head>
<body class="pbx-kiosk" data-labels='{{ labels|tojson }}' data-url="{{ data_url }}">
<main class="pbx-main pbx-live"><h1 id="kiosk-title">{{ label }}</h1>
<p class="pbx-muted" id="live-at"></p><div class="pbx-live-tiles" id="live-tiles"></div></main>
<script src="/kiosk/kiosk.js"></script></body></html>"""

# The kiosk's script, served as a file: the Content-Security-Policy refuses inline scripts.
_KIOSK_JS = """const LABELS = JSON.parse(document.body.dataset.labels);
function fig(value, label, id) {
  const d = document.createElement("div"); d.className = "pbx-live-fig";
  const v = document.createElement("span"); v.className = "pbx-live-num"; v.id = id;
  v.textContent = value; const l = document.createElement("span");
  l.className = "pbx-live-label"; l.textContent = label; d.append(v, l); return d;
}
function row(...figs) {
  const r = document.createElement("div"); r.className = "pbx-live-row"; r.append(...figs);
  return r;
}
async function tick() {
  try {
    const r = await fetch(document.body.dataset.url, {cache: "no-store"});
    if (!r.ok) { document.getElementById("live-at").textContent = LABELS.gone; return; }
    const s = await r.json();
    document.getElementById("live-at").textContent = s.at;
    const tiles = s.queues.map(q => {
      const t = document.createElement("div"); t.className = "pbx-live-tile pbx-card";
      t.id = "live-q-" + q.queue; const h = document.createElement("h3");
      h.className = "pbx-live-qname"; h.textContent = q.name; t.append(h);
      const p = "live-q-" + q.queue + "-";
      t.append(row(fig(q.waiting, LABELS.waiting, p + "waiting"),
                   fig(q.longest, LABELS.longest, p + "longest")),
               row(fig(q.available, LABELS.available, p + "available"),
                   fig(q.busy, LABELS.busy, p + "busy"), fig(q.paused, LABELS.paused, p + "paused")));
      const sl = document.createElement("div");
      sl.className = "pbx-live-sl" + (q.ok === null ? "" : q.ok ? " pbx-live-ok" : " pbx-live-bad");
      sl.append(fig(q.sl, q.target, p + "sl")); t.append(sl); return t;
    });
    document.getElementById("live-tiles").replaceChildren(...tiles);
  } catch (e) { document.getElementById("live-at").textContent = LABELS.offline; }
}
tick(); setInterval(tick, 1000);
"""


def kiosk_view(snap: dict, lang: str) -> dict:
    """The kiosk's display values: every number already formatted, no calls, no callers."""
    def n(v) -> str:
        return fmt.number(v or 0, lang=lang)

    at = snap.get("at")
    return {"at": t("live_at", lang, time=at[11:19]) if at else t("live_waiting", lang),
            "queues": [{
                "queue": q["queue"], "name": q["name"], "waiting": n(q["waiting"]),
                "longest": fmt.duration(q["longest_wait_s"], lang=lang),
                "available": n(q["agents"]["available"]),
                "busy": n(q["agents"]["talking"] + q["agents"]["ringing"]),
                "paused": n(q["agents"]["paused"]),
                "sl": fmt.percent(q["today"]["sl_pct"], lang=lang) or "–",
                "target": t("live_sl_today", lang) + " · " + t(
                    "live_target", lang, target=fmt.percent(q["today"]["target_pct"],
                                                            lang=lang)),
                "ok": q["today"]["sl_ok"]} for q in snap["queues"]]}


_KIOSK_DATA = re.compile(r"^/kiosk/([A-Za-z0-9_-]{1,100})/data$")
_JSON_HEADERS = [("Content-Type", "application/json"), ("Cache-Control", "no-store"),
                 ("X-Content-Type-Options", "nosniff"), ("X-Frame-Options", "SAMEORIGIN"),
                 ("Referrer-Policy", "same-origin"),
                 ("Content-Security-Policy", "default-src 'none'")]


def _problem(status: int, error: str, message: str) -> bytes:
    return json.dumps({"error": error, "status": status, "message": message}).encode()


def _send(start_response, status: str, body: bytes) -> list[bytes]:
    start_response(status, [*_JSON_HEADERS, ("Content-Length", str(len(body)))])
    return [body]


class KioskData:
    """WSGI in front of the app: `GET /kiosk/<token>/data`, what every TV asks each second,
    answered without Flask's session, routing and hooks (it has no session and no form): the
    link resolved (kept a few seconds, kiosks.resolve), the body serialized once a tick."""

    def __init__(self, main, store: Stores, h: Hub, bodies: TickBodies) -> None:
        self.main, self.store, self.h, self.bodies = main, store, h, bodies

    def __call__(self, environ, start_response):
        m = _KIOSK_DATA.match(environ.get("PATH_INFO") or "")
        if m is None or environ.get("REQUEST_METHOD") != "GET":
            return self.main(environ, start_response)
        try:
            k = kiosks.resolve(self.store, m.group(1))
        except ops.OpsUnavailable:
            return _send(start_response, "503 Service Unavailable", _problem(
                503, "unavailable", "the operations store is not reachable"))
        if k is None:
            return _send(start_response, "404 Not Found", _problem(
                404, "not_found", "this kiosk link is unknown or revoked"))
        return _send(start_response, "200 OK", self.body(k))

    def body(self, k: kiosks.Kiosk) -> bytes:
        def view() -> dict:
            snap, _at = self.h.current()
            return kiosk_view(snapshot.scoped(snap.get(k.tenant), k.tenant, k.queues or None),
                              k.lang)

        return self.bodies.get(self.h.ticks, ("kiosk", k.id, k.tenant), view)


def install_kiosks(server: flask.Flask, store: Stores, h: Hub,
                   bodies: TickBodies | None = None) -> None:
    bodies = bodies or TickBodies()
    server.wsgi_app = KioskData(server.wsgi_app, store, h, bodies)

    @server.route("/kiosk/kiosk.js")
    def kiosk_script():
        return flask.Response(_KIOSK_JS, mimetype="text/javascript")

    @server.route("/kiosk/<token>")
    def kiosk_page(token: str):
        k = kiosks.resolve(store, token)
        if k is None:
            return flask.abort(404)
        labels = {key: t(f"live_{key}", k.lang) for key in
                  ("longest", "available", "busy", "paused")}
        labels.update(waiting=t("live_waiting_calls", k.lang),
                      gone=t("kiosk_gone", k.lang), offline=t("kiosk_offline", k.lang))
        return flask.render_template_string(_KIOSK_HTML, lang=k.lang, label=k.label,
                                            labels=labels, data_url=f"/kiosk/{token}/data")

    @server.route("/api/live/kiosks", methods=["GET", "POST"])
    def api_kiosks():
        u = flask.g.get("user")
        if not roles.is_manager(u):
            return flask.jsonify({"error": "forbidden", "status": 403,
                                  "message": "kiosk links are for supervisors and admins"}), 403
        if flask.request.method == "GET":
            with store.ops_read() as c:
                return {"kiosks": [dataclasses.asdict(k) for k in kiosks.list_for(c, u.tenant)]}
        body = flask.request.get_json(silent=True) or {}
        try:
            k, token = kiosks.create(store, u.tenant, str(body.get("label", "")),
                                     body.get("queues") or (), body.get("lang", u.lang),
                                     u.username)
        except kiosks.KioskError as exc:
            return flask.jsonify({"error": "bad_kiosk", "status": 400, "message": str(exc)}), 400
        return {**dataclasses.asdict(k), "url": f"/kiosk/{token}"}, 201

    @server.route("/api/live/kiosks/<int:kiosk_id>", methods=["DELETE"])
    def api_kiosk_revoke(kiosk_id: int):
        u = flask.g.get("user")
        if not roles.is_manager(u):
            return flask.jsonify({"error": "forbidden", "status": 403,
                                  "message": "kiosk links are for supervisors and admins"}), 403
        if not kiosks.revoke(store, u.tenant, kiosk_id):
            return flask.jsonify({"error": "not_found", "status": 404,
                                  "message": f"no kiosk link {kiosk_id}"}), 404
        return {"revoked": kiosk_id}
