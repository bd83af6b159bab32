"""The wallboard over HTTP against the running server: `GET /api/live` follows an event posted
to the intake within two seconds, per role (supervisors and admins only), per tenant, with
callers masked without the privacy right; `/live` renders tiles and agents from the same shared
snapshot in the user's language."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime

import pytest

from pbxlens.ingest import inbox
from pbxlens.ingest.webhook_bodies import parse_events
from tests.dashboards.dashcall import dash_call

QUEUE = "7701"  # a queue of its own: the server is shared with other tests
CALLER = "+393331112233"


def _ev(name: str, n: int, **params) -> dict:
    now = datetime.now(UTC).timestamp()
    return {"event_id": 10_000_000 + n, "event_name": name, "event_timestamp": f"{now:.3f}",
            "event_pbx_serial": "S-LIVE", "params": params}


def _post(live, *events) -> None:
    ib = inbox.Inbox(live.store.ops)
    try:
        ib.accept("events", parse_events(json.dumps(list(events)).encode()))
    finally:
        ib.close()


def _wait_for(client, pred, seconds: float = 2.0) -> tuple[dict, float]:
    t0 = time.monotonic()
    while True:
        body = client.get("/api/live").json()
        if pred(body) or time.monotonic() - t0 > seconds:
            return body, time.monotonic() - t0
        time.sleep(0.05)


def _queue(body: dict) -> dict | None:
    return next((q for q in body["queues"] if q["queue"] == QUEUE), None)


@pytest.fixture(scope="module")
def waiting_call(live):
    uid = f"{int(time.time())}.77"
    _post(live, _ev("pbx.queuemember.added", 1, member_exten="7201", member_account="7201",
                    queue=QUEUE, queue_name="Live desk"),
          _ev("pbx.queuemember.pause", 2, member_exten="7201", member_account="7201",
              queue=QUEUE, reason="lunch"),
          _ev("pbx.queue.enter", 3, unique_id=uid, queue=QUEUE, queue_name="Live desk",
              caller=CALLER))
    return uid


def test_api_live_follows_the_intake_within_two_seconds(live, client_for, waiting_call):
    body, took = _wait_for(client_for("supfull"), lambda b: (_queue(b) or {}).get("waiting"))
    q = _queue(body)
    assert q is not None and took <= 2.0, took
    assert (q["name"], q["waiting"], q["agents"]["paused"], q["agents"]["logged_in"]) \
        == ("Live desk", 1, 1, 1)
    assert q["calls"][0]["caller"] == CALLER  # the privacy right: the number in full
    a = next(a for a in body["agents"] if a["agent"] == "7201")
    assert (a["state"], a["reason"]) == ("paused", "lunch")


def test_api_live_masks_callers_and_keeps_to_roles_and_tenants(live, client_for,
                                                                waiting_call):
    q = _queue(_wait_for(client_for("sup"), lambda b: _queue(b))[0])
    assert q["calls"][0]["caller"] == "+393331112xxx"  # no privacy right: masked
    assert _queue(client_for("acme").get("/api/live").json()) is None  # another tenant
    for user in ("op", "fin"):
        assert client_for(user).get("/api/live").status_code == 403
    assert client_for().get("/api/live").status_code == 401
    narrowed = client_for("admin").get("/api/live", params={"queue": "none"}).json()
    assert narrowed["queues"] == []


def test_the_live_page_renders_tiles_and_agents_in_the_user_language(live, client_for,
                                                                      waiting_call):
    c = client_for("sup")
    _wait_for(c, lambda b: _queue(b))
    assert c.get("/live").status_code == 200
    r = dash_call(c, [("live-tiles", "children"), ("live-agents", "children"),
                      ("live-at", "children")],
                  [{"id": "live-tick", "property": "n_intervals", "value": 1}])
    assert r.status_code == 200, r.text
    text = r.text
    assert "Live desk" in text and f"live-q-{QUEUE}-waiting" in text
    assert "in pausa" in text and "lunch" in text  # sup's language is Italian (default)
    assert "live_" not in text.replace("live-", "")  # no raw catalog key
    op = dash_call(client_for("op"), [("live-tiles", "children"), ("live-agents", "children"),
                                      ("live-at", "children")],
                   [{"id": "live-tick", "property": "n_intervals", "value": 1}])
    assert "Live desk" not in op.text


def test_a_kiosk_link_shows_its_queues_only_without_numbers_until_revoked(live, client_for,
                                                                         waiting_call):
    sup = client_for("sup")
    r = sup.post("/api/live/kiosks", json={"label": "TV desk", "queues": [QUEUE],
                                           "lang": "en"})
    assert r.status_code == 201, r.text
    k = r.json()
    anon = client_for()
    page = anon.get(k["url"])
    assert page.status_code == 200 and "TV desk" in page.text and "in pausa" not in page.text
    data = anon.get(k["url"] + "/data").json()
    assert [q["queue"] for q in data["queues"]] == [QUEUE]  # nothing of other queues
    q = data["queues"][0]
    assert (q["name"], q["waiting"], q["paused"]) == ("Live desk", "1", "1")
    assert "3331112" not in json.dumps(data)  # no caller, not even masked
    assert all(x["id"] != k["id"] for x in
               client_for("acme").get("/api/live/kiosks").json()["kiosks"])
    assert client_for("acme").delete(f"/api/live/kiosks/{k['id']}").status_code == 404
    assert client_for("op").post("/api/live/kiosks", json={"label": "x"}).status_code == 403
    assert sup.post("/api/live/kiosks", json={"label": ""}).status_code == 400
    assert sup.delete(f"/api/live/kiosks/{k['id']}").status_code == 200
    assert anon.get(k["url"]).status_code == 404
    assert anon.get(k["url"] + "/data").status_code == 404
    assert anon.get("/kiosk/not-a-token/data").status_code == 404


def test_simulate_live_posts_a_day_to_the_server_and_the_wallboard_fills(live, client_for,
                                                                        monkeypatch):
    from pbxlens.live import feed

    monkeypatch.setenv("PBXLENS_WEBHOOK_TOKEN_EVENTS", "live-feed-token")
    day = feed.today()
    events = feed.day_events(day, seed=5, calls_per_day=400)
    begin = feed.start_of(day, "00:00")
    todo = feed.window(events, begin, None)
    assert todo and {e["event_name"] for e in todo} >= {"pbx.queue.enter", "pbx.call.end"}
    post, http = feed.http_poster(live.base_url + "/api/events", "live-feed-token")
    try:
        res = feed.feed(todo, begin, post, speed=86_400)  # today in about a second
    finally:
        http.close()
    assert res.posted == len(todo)
    entered = {(e["params"]["queue"], e["params"]["unique_id"]) for e in todo
               if e["event_name"] == "pbx.queue.enter"}

    def simulated(b: dict) -> list[dict]:
        return [q for q in b["queues"] if q["today"]["offered"] and q["queue"].startswith("70")
                and q["queue"] not in ("7701", "7702", "7703")]

    # the snapshot current when the posts end may be a tick older than the last of them
    body, _took = _wait_for(client_for("admin"), lambda b: sum(
        q["today"]["offered"] for q in simulated(b)) >= len(entered), seconds=5.0)
    sim = [q for q in body["queues"] if q["today"]["offered"] and q["queue"] not in
           ("7701", "7702", "7703")]
    assert sum(q["today"]["offered"] for q in sim) >= len(entered) > 0
