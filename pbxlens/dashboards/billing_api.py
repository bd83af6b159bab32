"""Billing over HTTP: why this cost.

- `GET /api/billing/explain/<unique id>?method=tariff|profile` -> `{"calls": [explanation,
  ...]}` (pbxlens.billing.explain, one per ratable leg), 403 without the billing role, 404 for
  an unknown or not ratable call.

The call must belong to the user's tenant; external numbers are masked without the privacy
right, as in every page and export.
"""

from __future__ import annotations

import flask

from pbxlens import PbxlensError
from pbxlens.billing import explain as ex
from pbxlens.store import Stores, privacy, roles
from pbxlens.store.users import User


def explanations(stores: Stores, user: User | None, unique_id: str,
                 method: str = "tariff") -> list[ex.Explanation]:
    """The explanations of a call for `user` (billing role, own tenant, numbers masked)."""
    if not roles.can_manage_billing(user):
        raise PermissionError("billing role required")
    with stores.cursor() as cur:
        found = ex.explain(cur, unique_id, tenant=user.tenant, method=method)
    if not user.privacy:
        for e in found:
            e.number = privacy.mask_number(e.number)
    return found


def install(server: flask.Flask, stores: Stores) -> None:
    @server.get("/api/billing/explain/<path:unique_id>")
    def billing_explain(unique_id: str):
        method = flask.request.args.get("method", "tariff")
        try:
            found = explanations(stores, flask.g.get("user"), unique_id, method)
        except PermissionError as exc:
            return flask.jsonify({"error": "forbidden", "status": 403, "message": str(exc)}), 403
        except PbxlensError as exc:
            status = getattr(exc, "status", 400)
            return flask.jsonify({"error": "explain", "status": status,
                                  "message": str(exc)}), status
        return flask.jsonify({"calls": [e.to_dict() for e in found]})
