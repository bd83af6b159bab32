"""MC-1/MC-2 over real HTTP: the PBX's dynamic-routing POST on the running server answers 200
with `<value>` once the row is in the inbox; the move brings it into DuckDB and its follow-up
reconciles it into a request."""

from __future__ import annotations

import httpx
import pytest

from tests.dashboards.live import live_server

DR = "/voipToCall/kalliopeToCall/insert/"
BODY = """<?xml version="1.0"?>
<parameters>
<unique_id>{uid}</unique_id>
<caller>{caller}</caller>
<called>0501234567</called>
<servicecode>%PARAM1%</servicecode>
<param1>IVR-Giorno-1Caldaie</param1>
<param2>queue</param2>
<param3>%PARAM3%</param3>
<param4>%PARAM4%</param4>
<param5>%PARAM5%</param5>
</parameters>"""


@pytest.fixture
def live(monkeypatch):
    monkeypatch.setenv("PBXLENS_WEBHOOK_TOKEN_DYNAMIC_ROUTING", "dr-missed-9")
    return live_server()


def _request(live, num):
    live.app.server.extensions["pbxlens_mover"].drain()  # moved and reconciled
    with live.store.cursor() as cur:
        return cur.execute("SELECT num_calls, state, queue, source FROM missed_requests "
                           "WHERE call_num = ?", [num]).fetchall()


def test_dynamic_routing_post_creates_then_aggregates(live):
    with httpx.Client(base_url=live.base_url, timeout=30, params={"token": "dr-missed-9"}) as h:
        r = h.post(DR, content=BODY.format(uid="1625554800.9100", caller="3387654321"))
        assert r.status_code == 200 and "<value>" in r.text
        assert r.headers["content-type"].startswith("application/xml")
        assert _request(live, "3387654321") == [(1, "open", "IVR-Giorno-1Caldaie", "dynamic_routing")]
        h.post(DR, content=BODY.format(uid="1625554800.9100", caller="3387654321"))  # MC-2
        assert _request(live, "3387654321")[0][0] == 1
        h.post(DR, content=BODY.format(uid="1625554800.9101", caller="+39 338 765 4321"))  # MC-3
        assert _request(live, "3387654321")[0][0] == 2
        r = h.post(DR, content=BODY.format(uid="1625554800.9102", caller="anonymous"))
        assert r.status_code == 200  # logged, no request (MC-9)
        assert _request(live, "anonymous") == [] and _request(live, "") == []
