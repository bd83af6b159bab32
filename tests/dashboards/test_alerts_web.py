"""The alert API and page against the running server: a supervisor writes a rule, the server's
snapshot tick fires it within seconds of the event, the firing shows in `/api/alerts` and on
`/alerts`, the acknowledgement is recorded; roles and tenants are kept; a bad rule gets 400 with
its reason."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime

from pbxlens.ingest import inbox
from pbxlens.ingest.webhook_bodies import parse_events
from tests.dashboards.dashcall import dash_call

QUEUE = "7703"


def _post(live, *events) -> None:
    ib = inbox.Inbox(live.store.ops)
    try:
        ib.accept("events", parse_events(json.dumps(list(events)).encode()))
    finally:
        ib.close()


def _enter(n: int) -> dict:
    return {"event_id": 30_000_000 + n, "event_name": "pbx.queue.enter",
            "event_timestamp": f"{datetime.now(UTC).timestamp():.3f}",
            "event_pbx_serial": "S-LIVE",
            "params": {"unique_id": f"{int(time.time())}.{n}", "queue": QUEUE,
                       "queue_name": "Alert desk"}}


def test_a_rule_fires_from_the_tick_and_is_acknowledged(live, client_for):
    sup = client_for("supfull")
    r = sup.post("/api/alerts/rules", json={"name": "Crowded desk", "kind": "waiting_above",
                                            "queues": [QUEUE], "threshold": 1, "lang": "en"})
    assert r.status_code == 201, r.text
    rule = r.json()
    assert (rule["kind"], rule["queues"], rule["threshold"]) == ("waiting_above", [QUEUE], 1.0)
    _post(live, _enter(1), _enter(2))
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        firing = sup.get("/api/alerts").json()["firing"]
        if any(f["rule_id"] == rule["id"] for f in firing):
            break
        time.sleep(0.1)
    assert [(f["rule"], f["scope"]) for f in firing if f["rule_id"] == rule["id"]] \
        == [("Crowded desk", QUEUE)]
    page = dash_call(sup, [("alerts-body", "children")],
                     [{"id": "alerts-tick", "property": "n_intervals", "value": 1},
                      [], [], [], {"id": "alert-rule-saved", "property": "data", "value": 0}])
    assert page.status_code == 200 and "Crowded desk" in page.text and "Alert desk" in page.text
    assert "alert_" not in page.text
    ack = sup.post(f"/api/alerts/{rule['id']}/ack", json={"scope": QUEUE})
    assert ack.status_code == 200
    assert sup.post(f"/api/alerts/{rule['id']}/ack", json={"scope": QUEUE}).status_code == 409
    hist = [(h["kind"], h["by"]) for h in sup.get("/api/alerts").json()["history"]
            if h["rule_id"] == rule["id"]]
    assert hist[:2] == [("acknowledged", "supfull"), ("fired", None)]
    # another tenant neither sees nor acknowledges it; operators and finance get 403
    acme = client_for("acme")
    assert all(x["id"] != rule["id"] for x in acme.get("/api/alerts/rules").json()["rules"])
    assert acme.delete(f"/api/alerts/rules/{rule['id']}").status_code == 404
    for user in ("op", "fin"):
        assert client_for(user).get("/api/alerts").status_code == 403
    assert sup.delete(f"/api/alerts/rules/{rule['id']}").status_code == 200


def test_a_bad_rule_gets_its_reason(client_for):
    sup = client_for("sup")
    r = sup.post("/api/alerts/rules", json={"name": "x", "kind": "waiting_above"})
    assert (r.status_code, r.json()["error"]) == (400, "bad_rule")
    assert "threshold" in r.json()["message"]
    r = sup.post("/api/alerts/rules", json={"name": "x", "kind": "no_agent", "channels": [
        {"kind": "webhook", "target": "gopher://x"}]})
    assert r.status_code == 400 and "http" in r.json()["message"]
    assert sup.post("/api/alerts/rules", content=b"[]",
                    headers={"Content-Type": "application/json"}).status_code == 400


def test_the_last_consistency_check_shows_on_the_alerts_page(live, client_for):
    from datetime import date

    from pbxlens.store import schema

    diff = {"tenant": "default", "queue": "7799", "field": "offered", "live": 5, "cdr": 4}
    with live.store.ops_write() as c:
        c.execute(schema.live_checks.insert().values(
            day=date(2026, 5, 11), checked_at=datetime.now(UTC), ok=False, queues=3,
            differences=json.dumps([diff])))

    def page(user: str) -> str:
        r = dash_call(client_for(user), [("alerts-body", "children")],
                      [{"id": "alerts-tick", "property": "n_intervals", "value": 1},
                       [], [], [], {"id": "alert-rule-saved", "property": "data", "value": 0}])
        assert r.status_code == 200, r.text
        return r.text

    text = page("sup").replace("\\u002f", "/")
    assert "11/05/2026: 1 differenze in 3 code" in text and "7799 offered: live 5, CDR 4" in text
    assert "7799" not in page("acme")  # another tenant's differences are not listed
