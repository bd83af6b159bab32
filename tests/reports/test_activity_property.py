"""Property test: for random queue-member event sequences (duplicates, removals without a
login, queue-less pauses, ties, the autumn DST night), the SQL intervals and hour pieces equal
the naive walk of tests/reports/naive_activity.py."""

from __future__ import annotations

from collections import defaultdict

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pbxlens.ingest import activity
from pbxlens.ingest.events import parse_event
from pbxlens.store import analytics as db

from . import naive_activity

T0 = 1792965600  # 2026-10-24 22:00:00 UTC: the window holds the autumn change (01:00 UTC)
SPAN = 6 * 3600

event = st.tuples(
    st.sampled_from(["added", "removed", "pause", "unpause"]),
    st.sampled_from(["601", "602"]),
    st.sampled_from(["800", "801", None]),
    st.integers(0, SPAN),
    st.sampled_from([None, "lunch", "break"]),
)


@pytest.fixture(scope="module")
def con(tmp_path_factory):
    c = db.connect(tmp_path_factory.mktemp("prop") / "p.duckdb")
    yield c
    c.close()


def _load(con, evs: list[dict]) -> None:
    for t in ("pbx_events", "agent_events", "agent_intervals", "agent_activity"):
        con.execute(f"DELETE FROM {t}")
    rows = [parse_event(e) for e in evs]
    seen = set()
    for r in rows:
        if r["event_key"] in seen:
            continue
        seen.add(r["event_key"])
        con.execute("INSERT INTO pbx_events (pbx_serial, event_key, event_id, event_name, severity,"
                    " event_ts, tenant, unique_id, params, received_at, batch_id) VALUES"
                    " (?, ?, ?, ?, ?, ?, ?, ?, ?::JSON, now(), 1)",
                    [r[k] for k in ("pbx_serial", "event_key", "event_id", "event_name",
                                    "severity", "event_ts", "tenant", "unique_id", "params")])
    activity.refresh_events(con, 1)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                 HealthCheck.function_scoped_fixture])
@given(st.lists(event, min_size=1, max_size=25), st.data())
def test_sql_equals_naive(con, spec, data):
    evs = []
    for i, (action, member, queue, off, reason) in enumerate(spec, start=1):
        if action in ("added", "removed") and queue is None:
            queue = "800"
        p = {"member_account": member, "member_exten": member}
        if queue:
            p["queue"] = queue
        if reason and action == "pause":
            p["reason"] = reason
        evs.append({"event_id": i, "event_name": f"pbx.queuemember.{action}",
                    "event_timestamp": f"{T0 + off}.{data.draw(st.integers(0, 999)):03d}",
                    "event_pbx_serial": "P", "params": p})
    if data.draw(st.booleans()):
        evs.append(dict(evs[0]))  # a resent event
    _load(con, evs)
    now = T0 + SPAN + 3600
    naive_evs = []
    seen = set()
    for e in evs:
        if e["event_id"] in seen:
            continue
        seen.add(e["event_id"])
        p = e["params"]
        naive_evs.append({"ts": int(float(e["event_timestamp"])), "id": e["event_id"],
                          "action": naive_activity.ACTIONS[e["event_name"]],
                          "member": p["member_account"], "exten": p["member_exten"],
                          "queue": p.get("queue"), "reason": p.get("reason") or ""})
    want_iv = sorted((m, q, k, r, s, None if t == now else t)
                     for m, q, k, r, s, t in naive_activity.intervals(naive_evs, now))
    got_iv = sorted(con.execute(
        "SELECT member, qkey, kind, reason, CAST(epoch(start_ts) AS BIGINT),"
        " CAST(epoch(end_ts) AS BIGINT) FROM agent_intervals").fetchall(),
        key=lambda r: (r[:5], r[5] or 0))
    assert got_iv == sorted(want_iv, key=lambda r: (r[:5], r[5] or 0))
    want: dict = defaultdict(int)
    for m, q, k, r, s, t in naive_activity.intervals(naive_evs, now):
        if t == now:
            continue  # open: cut at report time
        for d, h, secs, _st in naive_activity.pieces(s, t):
            want[(m, q, k, r, d, h)] += secs
    got = {(m, q, k, r, d, h): v for m, q, k, r, d, h, v in con.execute(
        "SELECT member, qkey, kind, reason, day, hr, sum(secs) FROM agent_activity"
        " GROUP BY ALL").fetchall()}
    assert got == dict(want)
