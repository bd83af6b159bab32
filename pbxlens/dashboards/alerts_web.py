"""The alert API (supervisors and admins, their own tenant):

- `GET /api/alerts/rules`, `POST /api/alerts/rules` (JSON: name, kind, queues, threshold,
  window_min, cooldown_min, quiet [from, to], channels [{kind, target, style}], lang, enabled;
  with `id` it replaces that rule), `DELETE /api/alerts/rules/<id>`;
- `GET /api/alerts` (firing alerts and the history), `POST /api/alerts/<rule>/ack` (JSON
  `{"scope": "700"}`).

The page `/alerts` (pages/alerts.py) shows the same and acknowledges through the same calls.
"""

from __future__ import annotations

import dataclasses

import flask

from pbxlens import PbxlensError
from pbxlens.delivery.outbox import DeliveryError
from pbxlens.live import alerts, rules
from pbxlens.store import Stores, roles


def _iso(rows: list[dict]) -> list[dict]:
    return [{k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in r.items()}
            for r in rows]


def _refuse(status: int, error: str, message: str):
    return flask.jsonify({"error": error, "status": status, "message": message}), status


def install(server: flask.Flask, store: Stores) -> None:
    def manager():
        u = flask.g.get("user")
        return u if roles.is_manager(u) else None

    @server.route("/api/alerts/rules", methods=["GET", "POST"])
    def api_alert_rules():
        u = manager()
        if u is None:
            return _refuse(403, "forbidden", "alert rules are for supervisors and admins")
        if flask.request.method == "GET":
            with store.ops_read() as c:
                return {"rules": [dataclasses.asdict(r) for r in rules.list_rules(c, u.tenant)]}
        body = flask.request.get_json(silent=True)
        if not isinstance(body, dict):
            return _refuse(400, "bad_request", "send the rule as a JSON object")
        try:
            r = rules.save_rule(
                store, u.tenant, body.get("name", ""), body.get("kind", ""),
                queues=body.get("queues") or (), threshold=body.get("threshold"),
                window_min=int(body.get("window_min", 60)),
                cooldown_min=int(body.get("cooldown_min", 15)),
                quiet=tuple(body.get("quiet") or (None, None))[:2],
                channels=body.get("channels") or (), lang=body.get("lang", u.lang),
                enabled=bool(body.get("enabled", True)), by=u.username,
                rule_id=body.get("id"))
        except (PbxlensError, DeliveryError, ValueError, TypeError) as exc:
            return _refuse(400, "bad_rule", str(exc))
        return dataclasses.asdict(r), 201

    @server.route("/api/alerts/rules/<int:rule_id>", methods=["DELETE"])
    def api_alert_rule_delete(rule_id: int):
        u = manager()
        if u is None:
            return _refuse(403, "forbidden", "alert rules are for supervisors and admins")
        if not rules.delete_rule(store, u.tenant, rule_id):
            return _refuse(404, "not_found", f"no alert rule {rule_id}")
        return {"deleted": rule_id}

    @server.route("/api/alerts")
    def api_alerts():
        u = manager()
        if u is None:
            return _refuse(403, "forbidden", "alerts are for supervisors and admins")
        with store.ops_read() as c:
            return {"firing": _iso(alerts.firing(c, u.tenant)),
                    "history": _iso(alerts.history(c, u.tenant))}

    @server.route("/api/alerts/<int:rule_id>/ack", methods=["POST"])
    def api_alert_ack(rule_id: int):
        u = manager()
        if u is None:
            return _refuse(403, "forbidden", "alerts are for supervisors and admins")
        scope = str((flask.request.get_json(silent=True) or {}).get("scope", ""))
        if not alerts.acknowledge(store, u.tenant, rule_id, scope, u.username):
            return _refuse(409, "not_firing", "this alert is not firing or already taken")
        return {"acknowledged": {"rule_id": rule_id, "scope": scope}}
