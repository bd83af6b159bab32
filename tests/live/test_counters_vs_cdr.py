"""Today's live counters, kept from the PBX's events, equal the queue report computed later
from the same day's CDR (simulator output, three seeds; one seed's events arrive in a shuffled
order with duplicates), and the consistency job finds no difference; a changed counter is
found."""

from __future__ import annotations

import json
import random
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from pbxlens.ingest import inbox, ingest_paths
from pbxlens.ingest.webhook_bodies import parse_events
from pbxlens.live import consistency, snapshot
from pbxlens.reports import export, run
from pbxlens.reports.filters import Params
from pbxlens.simulate import generate
from pbxlens.simulate.live_events import live_run
from pbxlens.store import schema

DAY = date(2026, 5, 11)
CALLS = 300


def _post_all(stores, events: list[dict], shuffled: bool) -> None:
    if shuffled:  # late, early and twice: blocks swapped, 5 % sent again later
        rng = random.Random(9)
        events = events + rng.sample(events, len(events) // 20)
        blocks = [events[i:i + 40] for i in range(0, len(events), 40)]
        for i in range(0, len(blocks) - 1, 2):
            if rng.random() < 0.5:
                blocks[i], blocks[i + 1] = blocks[i + 1], blocks[i]
    else:
        blocks = [events[i:i + 100] for i in range(0, len(events), 100)]
    ib = inbox.Inbox(stores.ops)
    try:
        for b in blocks:
            ib.accept("events", parse_events(json.dumps(b).encode()))
    finally:
        ib.close()


@pytest.mark.parametrize("seed", [1, 2, 4])
def test_live_counters_equal_the_queue_report(stores, tmp_path, seed):
    generate(tmp_path / "sim", days=1, calls_per_day=CALLS, seed=seed, start=DAY,
             formats=["csv-detailed"])
    evs = live_run(days=1, calls_per_day=CALLS, seed=seed, start=DAY)
    _post_all(stores, evs, shuffled=seed == 4)
    with stores.writing() as cur:
        ingest_paths(cur, [tmp_path / "sim"])
    end_of_day = datetime(2026, 5, 11, 23, 59, 59, tzinfo=ZoneInfo("Europe/Rome"))
    with stores.ops_read() as c:
        live = {q["queue"]: q for q in snapshot.compute(c, end_of_day.astimezone(UTC))[
            "default"]["queues"]}
    with stores.cursor() as cur:
        rep = export.to_dict(run(cur, "cdr.queues", Params(date_from=DAY, date_to=DAY)))
        longest = dict(cur.execute(
            "SELECT qkey, max(CASE WHEN answered THEN asa_s ELSE wait_s END) FROM queue_visits"
            " WHERE day = ? GROUP BY 1", [DAY]).fetchall())
    rows = {r["key"]: r for r in rep["tables"][0]["rows"]}
    assert rows and set(rows) <= set(live)
    for k, r in rows.items():
        t = live[k]["today"]
        got = (t["offered"], t["answered"], t["unanswered"], t["sl_pct"], t["asa_s"],
               t["abandon_rate_pct"], t["short_abandoned"], t["longest_wait_s"])
        want = (r["total.n"], r["answered.n"], r["unanswered.n"], r["kpi.sl"], r["kpi.asa"],
                r["kpi.ab_rate"], r["kpi.short"], longest[k])
        assert got == want, (seed, k)
    with stores.cursor() as cur:
        result = consistency.check_day(cur, stores.ops, DAY)
    assert result["ok"], result["differences"][:5]
    # a counter off by one is reported
    with stores.ops_write() as c:
        t = schema.live_counters
        c.execute(t.update().where(t.c.queue == "700").values(offered=t.c.offered + 1))
    with stores.cursor() as cur:
        result = consistency.check_day(cur, stores.ops, DAY)
    assert [(d["queue"], d["field"], d["live"] - d["cdr"]) for d in result["differences"]] \
        == [("700", "offered", 1)]
    with stores.ops_read() as c:
        assert [r["ok"] for r in consistency.last_checks(c)] == [False, True]
