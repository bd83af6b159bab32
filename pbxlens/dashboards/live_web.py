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

import flask

from pbxlens.config import get_settings
from pbxlens.dashboards.i18n import t
from pbxlens.live import alerts, kiosks, snapshot
from pbxlens.live.hub import Hub
from pbxlens.reports import format as fmt
from pbxlens.store import Stores, roles
from pbxlens.store.users import User

EXT = "pbxlens_live"
STREAM_WAIT_MAX_S = 25.0  # below the usual 30 s idle timeout of proxies


def hub() -> Hub:
    return flask.current_app.extensions[EXT]


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

    @server.route("/api/live")
    def api_live():
        u = flask.g.get("user")
        if not roles.is_manager(u):
            return flask.jsonify({"error": "forbidden", "status": 403,
                                  "message": "the wallboard is for supervisors and admins"}), 403
        queues = flask.request.args.getlist("queue") or None
        return flask.jsonify({**snapshot_for(h, u, queues), "version": h.version(u.tenant)})

    @server.route("/api/live/stream")
    def api_live_stream():
        u = flask.g.get("user")
        if not roles.is_manager(u):
            return _error(403, "forbidden", "the wallboard is for supervisors and admins")
        return long_poll(h, u)

    install_kiosks(server, store, h)
    return h


def _error(status: int, error: str, message: str, **headers):
    resp = flask.jsonify({"error": error, "status": status, "message": message})
    resp.status_code = status
    resp.headers.update(headers)
    return resp


def long_poll(h: Hub, u: User):
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
    version = h.version(u.tenant)
    resp = flask.jsonify({**snapshot_for(h, u, args.getlist("queue") or None),
                          "version": version})
    resp.headers.update({"X-Live-Version": version, "Cache-Control": "no-store"})
    return resp


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


def install_kiosks(server: flask.Flask, store: Stores, h: Hub) -> None:
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

    @server.route("/kiosk/<token>/data")
    def kiosk_data(token: str):
        k = kiosks.resolve(store, token)
        if k is None:
            return flask.jsonify({"error": "not_found", "status": 404,
                                  "message": "this kiosk link is unknown or revoked"}), 404
        snap, _at = h.current()
        scoped = snapshot.scoped(snap.get(k.tenant), k.tenant, k.queues or None)
        resp = flask.jsonify(kiosk_view(scoped, k.lang))
        resp.headers["Cache-Control"] = "no-store"
        return resp

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
