"""The snapshot's long-poll over real HTTP (`GET /api/live/stream`): at once without `since`,
waiting for the next change with it (an event posted to the intake shows within two seconds),
204 when nothing moved, 503 beyond `live_stream_max` waiting requests, roles and tenants as
`/api/live`; a stopping hub wakes every waiter."""

from __future__ import annotations

import concurrent.futures as cf
import json
import threading
import time
from datetime import UTC, datetime

import httpx
import pytest

from pbxlens.config import get_settings
from pbxlens.ingest import inbox
from pbxlens.ingest.webhook_bodies import parse_events
from pbxlens.live.hub import Hub
from pbxlens.store import users as auth
from tests.dashboards.live import PASSWORD, login

QUEUE = "7801"


def _post(live, *events) -> None:
    ib = inbox.Inbox(live.store.ops)
    try:
        ib.accept("events", parse_events(json.dumps(list(events)).encode()))
    finally:
        ib.close()


def _ev(name: str, n: int, **params) -> dict:
    return {"event_id": 20_000_000 + n, "event_name": name,
            "event_timestamp": f"{datetime.now(UTC).timestamp():.3f}",
            "event_pbx_serial": "S-STREAM", "params": params}


@pytest.fixture(scope="module")
def quiet(live):
    """A supervisor of a tenant no event ever reaches: its snapshot never moves."""
    auth.create_user(live.store, "quietsup", PASSWORD, "supervisor", tenant="quiet")

    def make() -> httpx.Client:
        c = httpx.Client(base_url=live.base_url, timeout=30)
        assert login(c, "quietsup").status_code == 302
        return c
    return make


def test_the_stream_follows_a_posted_event_within_two_seconds(live, client_for):
    c = client_for("supfull")
    first = c.get("/api/live/stream")
    assert first.status_code == 200 and first.headers["cache-control"] == "no-store"
    version = first.json()["version"]
    assert first.headers["x-live-version"] == version
    uid = f"{int(time.time())}.78"
    t0 = time.monotonic()
    threading.Timer(0.3, _post, (live, _ev("pbx.queue.enter", 1, unique_id=uid, queue=QUEUE,
                                           queue_name="Stream desk"))).start()
    while True:
        r = c.get("/api/live/stream", params={"since": version, "wait": 5})
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["version"] != version  # it answered because the snapshot moved
        version = body["version"]
        q = next((q for q in body["queues"] if q["queue"] == QUEUE), None)
        if q and q["waiting"]:
            break
        assert time.monotonic() - t0 < 5
    assert time.monotonic() - t0 - 0.3 <= 2.0
    assert q["calls"][0]["unique_id"] == uid


def test_no_change_is_a_204_after_the_wait_and_roles_hold(live, client_for, quiet):
    c = quiet()
    body = c.get("/api/live/stream").json()
    assert (body["tenant"], body["queues"]) == ("quiet", [])
    t0 = time.monotonic()
    r = c.get("/api/live/stream", params={"since": body["version"], "wait": 1})
    took = time.monotonic() - t0
    assert r.status_code == 204 and r.headers["x-live-version"] == body["version"]
    assert 0.9 <= took < 3, took
    assert c.get("/api/live/stream", params={"wait": "soon"}).status_code in (200, 400)
    assert c.get("/api/live/stream", params={"since": body["version"],
                                            "wait": "soon"}).status_code == 400
    assert client_for("op").get("/api/live/stream").status_code == 403
    assert client_for().get("/api/live/stream").status_code == 401


def test_more_waiting_streams_than_allowed_get_503(live, quiet, monkeypatch):
    monkeypatch.setattr(get_settings(), "live_stream_max", 2)
    clients = [quiet() for _ in range(3)]
    version = clients[0].get("/api/live/stream").json()["version"]

    def wait(c):
        return c.get("/api/live/stream", params={"since": version, "wait": 2}).status_code

    with cf.ThreadPoolExecutor(2) as pool:
        held = [pool.submit(wait, c) for c in clients[:2]]
        time.sleep(0.5)
        r = clients[2].get("/api/live/stream", params={"since": version, "wait": 2})
        assert r.status_code == 503 and r.headers["retry-after"] == "1"
        assert [f.result() for f in held] == [204, 204]
    for c in clients:
        c.close()


def test_a_stopping_hub_wakes_its_waiters(stores):
    h = Hub(stores, tick_s=60)
    with cf.ThreadPoolExecutor(1) as pool:
        f = pool.submit(h.wait_change, "default", h.version("default"), 20)
        time.sleep(0.2)
        t0 = time.monotonic()
        h.stop()
        assert f.result(timeout=5) is False and time.monotonic() - t0 < 1
    with h.stream_slot(4) as ok:
        assert not ok  # no new waiter once stopping
