"""The live routes around the wallboard: the server's shared snapshot (`pbxlens.live.hub`,
started here) and `GET /api/live` (supervisors and admins; the viewer's tenant only; callers
masked without the privacy right; `?queue=700&queue=701` narrows it). The page `/live`
(pages/live.py) reads the same snapshot through `snapshot_for`.
"""

from __future__ import annotations

import flask

from pbxlens.live import alerts, snapshot
from pbxlens.live.hub import Hub
from pbxlens.store import Stores, roles
from pbxlens.store.users import User

EXT = "pbxlens_live"


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
        return flask.jsonify(snapshot_for(h, u, queues))

    return h
