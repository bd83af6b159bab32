"""cc.agent_activity and feedback.service against naive recomputations over simulator output
(3 seeds; feedback requests sent through the real feedback webhook over HTTP), plus the
hand-made agent-interval edge cases and the seed's feedback example."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import httpx
import pytest

from pbxlens.ingest import ingest_paths
from pbxlens.reports import Params, run
from pbxlens.simulate import generate
from pbxlens.store import analytics as db

from . import naive, naive_activity

SEEDS = (11, 22, 33)
START = date(2026, 5, 4)
DAYS = 3
FB_TOKEN = "fb-test-token"


@dataclass
class Sim:
    folder: Path
    path: Path
    d_from: date
    d_to: date

    def con(self):
        return db.connect(self.path, read_only=True)


def _post_feedback(store_path: Path, bodies: list[str]) -> None:
    """Serve the real webhook app (a threading HTTP server) on a free port and POST every body
    to it, 16 at a time: the inbox commits whatever waits in one transaction; then move the
    inbox into DuckDB."""
    from concurrent.futures import ThreadPoolExecutor
    from socketserver import ThreadingMixIn
    from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

    from pbxlens.dashboards.webhooks import FEEDBACK_PATH, make_app
    from pbxlens.ingest.inbox import Inbox
    from pbxlens.ingest.inbox_move import Mover
    from pbxlens.store import Stores as Store

    class Server(ThreadingMixIn, WSGIServer):
        daemon_threads = True
        request_queue_size = 64  # 16 posters at once: the default backlog of 5 resets some

    class Quiet(WSGIRequestHandler):
        def log_message(self, *_args) -> None:
            pass

    store = Store(store_path)
    inbox = Inbox(store.ops)
    server = make_server("127.0.0.1", 0, make_app(inbox), server_class=Server,
                         handler_class=Quiet)
    t = threading.Thread(target=server.serve_forever, daemon=True)
    t.start()
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{server.server_port}", timeout=30,
                          limits=httpx.Limits(max_connections=16)) as c:
            def post(b: str) -> httpx.Response:
                return c.post(FEEDBACK_PATH, content=b.encode(),
                              headers={"X-Pbxlens-Token": FB_TOKEN,
                                       "Content-Type": "application/xml"})

            with ThreadPoolExecutor(16) as pool:
                for r in pool.map(post, bodies):
                    assert r.status_code == 200, r.text
        Mover(store).drain()
    finally:
        server.shutdown()
        server.server_close()
        t.join(10)
        inbox.close()
        store.close()


@pytest.fixture(scope="session")
def sims(tmp_path_factory) -> list[Sim]:
    mp = pytest.MonkeyPatch()
    mp.setenv("PBXLENS_WEBHOOK_TOKEN_FEEDBACK", FB_TOKEN)
    out = []
    try:
        for seed in SEEDS:
            folder = tmp_path_factory.mktemp(f"act{seed}")
            generate(folder, days=DAYS, calls_per_day=300, seed=seed, start=START,
                     formats=["csv-detailed", "events", "feedback"])
            path = folder / "store.duckdb"
            con = db.connect(path)
            res = ingest_paths(con, [folder / "cdr_detailed.csv", folder / "directory.json",
                                     folder / "events.jsonl"])
            assert not any(r.error or r.rows_quarantined for r in res), res
            con.close()
            bodies = [json.loads(x)["body"] for x in
                      (folder / "feedback_requests.ndjson").read_text().splitlines()]
            _post_feedback(path, bodies)
            out.append(Sim(folder, path, START, START + timedelta(days=DAYS - 1)))
    finally:
        mp.undo()
    return out


@pytest.fixture(scope="session", params=range(len(SEEDS)), ids=[f"seed{s}" for s in SEEDS])
def sim(request, sims) -> Sim:
    return sims[request.param]


def _cells(res) -> dict:
    """{('pair', 'op\x1fqueue') | ('day', 'YYYY-MM-DD') | ('hr', h): row} of the 3 tables."""
    out = {}
    for t, kind in zip(res.tables, ("pair", "day", "hr"), strict=True):
        for row in t.rows:
            out[(kind, int(row["key"]) if kind == "hr" else row["key"])] = row
    return out


def _sum(cells: dict, pred) -> dict:
    acc: dict = {}
    for k, v in cells.items():
        if pred(k):
            for f, x in v.items():
                acc[f] = acc.get(f, 0) + x
    return acc


def _pct(num: int, den: int) -> float:
    return float((Decimal(100 * num) / Decimal(den)).quantize(Decimal("0.01"), ROUND_HALF_UP))


def _check_row(row: dict, want: dict, ctx) -> None:
    assert row["logged.logged"] == want.get("logged", 0), ctx
    assert row["logged.logins"] == want.get("logins", 0), ctx
    assert row["paused.paused"] == want.get("paused", 0), ctx
    assert row["paused.pauses"] == want.get("pauses", 0), ctx
    assert row["available.avail"] == want.get("logged", 0) - want.get("paused", 0), ctx
    assert row["talk.talk"] == want.get("talk", 0), ctx
    assert row["talk.calls"] == want.get("calls", 0), ctx
    for k, v in want.items():
        if k.startswith("pause "):
            col = k.lower().replace(" ", "_") + ".paused"
            assert row[col] == v, (ctx, k)
    avail = want.get("logged", 0) - want.get("paused", 0)
    if avail:
        assert row["occupancy"] == _pct(want.get("talk", 0), avail), ctx
    else:
        assert row["occupancy"] is None, ctx


def test_agent_activity_differential(sim):
    events = naive_activity.read_events(sim.folder / "events.jsonl")
    calls = naive.read_calls(sim.folder / "cdr_detailed.csv")
    now = int(datetime.now(UTC).timestamp())
    want = naive_activity.activity(events, calls, sim.d_from, sim.d_to, now)
    con = sim.con()
    res = run(con, "cc.agent_activity", Params(date_from=sim.d_from, date_to=sim.d_to))
    got = _cells(res)
    pairs = {(k[0], k[1]) for k in want}
    assert {k for k in got if k[0] == "pair"} == {("pair", f"{o}\x1f{q}") for o, q in pairs}
    for o, q in pairs:
        _check_row(got[("pair", f"{o}\x1f{q}")],
                   _sum(want, lambda k, o=o, q=q: k[:3] == (o, q, "day")), (o, q))
    for kind in ("day", "hr"):
        slots = {k[3] for k in want if k[2] == kind}
        assert {k[1] for k in got if k[0] == kind} == slots
        for sl in slots:
            _check_row(got[(kind, sl)], _sum(want, lambda k, kind=kind, sl=sl: k[2:] == (
                kind, sl)), (kind, sl))
    assert any(k[2] == "day" and v.get("paused") for k, v in want.items())
    assert any(v.get("talk") for v in want.values())
    days, hours = res.tables[1], res.tables[2]
    assert res.tables[0].totals == days.totals == hours.totals
    assert days.summary["logged"] == days.totals["logged.logged"]
    # one operator in one queue, by day and by hour: the most paused, the most talking pairs
    day_cells = [(k, v) for k, v in want.items() if k[2] == "day"]
    picks = {max(day_cells, key=lambda kv: kv[1].get("paused", 0))[0][:2],
             max(day_cells, key=lambda kv: kv[1].get("talk", 0))[0][:2]}
    for o, q in picks:
        one = _cells(run(con, "cc.agent_activity", Params(
            date_from=sim.d_from, date_to=sim.d_to, filters={"operator": [o], "queue": [q]})))
        mine = {k[2:]: v for k, v in want.items() if k[:2] == (o, q)}
        assert {k for k in one if k[0] != "pair"} == set(mine)
        for k, v in mine.items():
            _check_row(one[k], v, (o, q, k))


def test_agent_activity_filters(sim):
    con = sim.con()
    full = run(con, "cc.agent_activity", Params(date_from=sim.d_from, date_to=sim.d_to))
    some = full.tables[0].rows[0]
    res = run(con, "cc.agent_activity", Params(
        date_from=sim.d_from, date_to=sim.d_to,
        filters={"operator": [some["operator"]], "queue": [some["queue"]]}))
    rows = res.tables[0].rows
    assert [r["key"] for r in rows] == [some["key"]]
    assert rows[0]["logged.logged"] == some["logged.logged"]
    # by queue name too (directory)
    name = con.execute("SELECT name FROM queues WHERE id = ?", [some["queue"]]).fetchone()[0]
    res2 = run(con, "cc.agent_activity", Params(date_from=sim.d_from, date_to=sim.d_to,
                                                 filters={"queue": [name]}))
    assert {r["queue"] for r in res2.tables[0].rows} == {some["queue"]}


def test_feedback_differential(sim):
    con = sim.con()
    calls = naive.read_calls(sim.folder / "cdr_detailed.csv")
    days = {c["unique_id"]: naive.ts(c["start_datetime"]).date() for c, _l in calls}
    in_q: dict[str, set] = {}
    for c, legs in calls:
        for lg in legs:
            if lg["detail_destination_type"] == "queue":
                in_q.setdefault(c["unique_id"], set()).add(lg["detail_destination_id"])
    fb = sim.folder / "feedback_requests.ndjson"
    for d_from, d_to, queue in ((sim.d_from, sim.d_to, None), (sim.d_to, sim.d_to, None),
                                (sim.d_from, sim.d_to, "701")):
        want = naive_activity.feedback(fb, days, in_q, d_from, d_to, queue)
        res = run(con, "feedback.service", Params(
            date_from=d_from, date_to=d_to, filters={"queue": [queue]} if queue else {}))
        t = res.tables[0]
        total = sum(want.values())
        assert total > 0
        assert [r["key"] for r in t.rows] == ["6", "5", "4", "3", "2", "1"]
        for r in t.rows:
            n = want.get(int(r["key"]), 0)
            assert r["calls"] == n
            assert r["share"] == _pct(n, total)
        assert t.totals["calls"] == total == t.summary["n"]
        assert t.totals["share"] == 100.0
    # the invalid ratings (FB-2) are stored but not counted
    stored, valid = con.execute("SELECT count(*), count(rating) FROM feedback_requests"
                                ).fetchone()
    assert stored > valid


# ----------------------------------------------------------------------------- edge cases

def _ev(eid, name, local: str, member="501", queue="800", reason=None, tz="Europe/Rome",
        serial="EDGE", **extra):
    from zoneinfo import ZoneInfo

    if local.endswith("Z"):
        ts = datetime.fromisoformat(local.replace("Z", "+00:00"))
    else:
        ts = datetime.fromisoformat(local).replace(tzinfo=ZoneInfo(tz))
    p = {"member_account": member, "member_exten": member, **extra}
    if queue:
        p["queue"] = queue
    if reason:
        p["reason"] = reason
    return {"event_id": eid, "event_name": f"pbx.queuemember.{name}", "event_severity": 3,
            "event_timestamp": f"{ts.timestamp():.6f}", "event_pbx_serial": serial, "params": p}


EDGE_EVENTS = [
    # A (501/800): pause across midnight
    _ev(1, "added", "2026-05-04 22:00:00"),
    _ev(2, "pause", "2026-05-04 23:50:00", reason="lunch"),
    _ev(3, "unpause", "2026-05-05 00:20:00"),
    _ev(4, "removed", "2026-05-05 01:00:00"),
    # B (502/800): remove without add (ignored), then a 30-minute login
    _ev(10, "removed", "2026-05-04 10:00:00", member="502"),
    _ev(11, "added", "2026-05-04 11:00:00", member="502"),
    _ev(12, "removed", "2026-05-04 11:30:00", member="502"),
    # C (503/800): duplicate event (same id twice) and a repeated added / unpause
    _ev(20, "added", "2026-05-04 09:00:00", member="503"),
    _ev(20, "added", "2026-05-04 09:00:00", member="503"),
    _ev(21, "added", "2026-05-04 09:10:00", member="503"),
    _ev(22, "pause", "2026-05-04 09:15:00", member="503"),
    _ev(23, "unpause", "2026-05-04 09:20:00", member="503"),
    _ev(24, "unpause", "2026-05-04 09:25:00", member="503"),
    _ev(25, "removed", "2026-05-04 10:00:00", member="503"),
    # D (504): two queues, one queue-less pause (both queues), a pause while logged out
    _ev(30, "added", "2026-05-04 14:00:00", member="504", queue="800"),
    _ev(31, "added", "2026-05-04 14:00:00", member="504", queue="801"),
    _ev(32, "pause", "2026-05-04 14:30:00", member="504", queue=None, reason="break"),
    _ev(33, "unpause", "2026-05-04 14:40:00", member="504", queue=None),
    _ev(34, "removed", "2026-05-04 15:00:00", member="504", queue="800"),
    _ev(35, "removed", "2026-05-04 15:00:00", member="504", queue="801"),
    _ev(36, "pause", "2026-05-04 16:00:00", member="504", queue="800"),
    _ev(37, "unpause", "2026-05-04 16:30:00", member="504", queue="800"),
    # E (505): DST spring (01:30 -> 03:30 local = 1 real hour) and autumn (01:30 CEST ->
    # 02:30 CET = 2 real hours)
    _ev(40, "added", "2026-03-29 01:30:00", member="505"),
    _ev(41, "removed", "2026-03-29 03:30:00", member="505"),
    _ev(42, "added", "2026-10-24T23:30:00Z", member="505"),
    _ev(43, "removed", "2026-10-25T01:30:00Z", member="505"),
    # F (506): still logged in (no removed): counts to the end of the range
    _ev(50, "added", "2026-05-06 10:00:00", member="506"),
]


@pytest.fixture(scope="module")
def edge(tmp_path_factory):
    folder = tmp_path_factory.mktemp("act-edge")
    p = folder / "events.jsonl"
    p.write_text("".join(json.dumps(e) + "\n" for e in EDGE_EVENTS)
                 + '{"event_id": 99, "event_name": "pbx.queuemember.pause"}\n'
                 + "not json\n", encoding="utf-8")
    path = folder / "s.duckdb"
    con = db.connect(path)
    (res,) = ingest_paths(con, [p])
    again = ingest_paths(con, [p])
    con.close()
    return path, res, again


def _edge(path, d_from, d_to, **filters):
    con = db.connect(path, read_only=True)
    res = run(con, "cc.agent_activity", Params(date_from=d_from, date_to=d_to,
                                               filters={k: [v] for k, v in filters.items()}))
    return res, _cells(res)


def test_edge_load(edge):
    path, res, again = edge
    assert res.format == "pbx_events_jsonl"
    assert (res.rows_read, res.rows_loaded, res.rows_duplicate, res.rows_quarantined) == (
        len(EDGE_EVENTS) + 2, len(EDGE_EVENTS) - 1, 1, 2)
    assert again[0].skipped  # the same file again changes nothing
    con = db.connect(path, read_only=True)
    q = con.execute("SELECT line, reason FROM quarantine ORDER BY line").fetchall()
    assert q[0][0] == len(EDGE_EVENTS) + 1 and "event_timestamp is missing" in q[0][1]
    assert q[1][0] == len(EDGE_EVENTS) + 2 and "invalid JSON" in q[1][1]


def test_edge_pause_across_midnight(edge):
    _res, c = _edge(edge[0], date(2026, 5, 4), date(2026, 5, 5), operator="501", queue="800")
    assert c[("day", "2026-05-04")]["logged.logged"] == 7200
    assert c[("day", "2026-05-04")]["pause_lunch.paused"] == 600
    assert c[("day", "2026-05-05")]["logged.logged"] == 3600
    assert c[("day", "2026-05-05")]["paused.paused"] == 1200
    assert c[("day", "2026-05-05")]["paused.pauses"] == 0  # it started the day before
    assert c[("hr", 23)]["paused.paused"] == 600
    assert c[("hr", 0)]["paused.paused"] == 1200
    assert c[("hr", 0)]["occupancy"] == 0.0
    assert c[("pair", "501\x1f800")]["paused.paused"] == 1800


def test_edge_remove_without_add_and_duplicates(edge):
    _res, c = _edge(edge[0], date(2026, 5, 4), date(2026, 5, 4), operator="502")
    assert c[("day", "2026-05-04")]["logged.logged"] == 1800
    assert ("hr", 10) not in c
    _res, c = _edge(edge[0], date(2026, 5, 4), date(2026, 5, 4), operator="503")
    row = c[("day", "2026-05-04")]
    assert (row["logged.logged"], row["logged.logins"]) == (3600, 1)
    assert (row["paused.paused"], row["paused.pauses"]) == (300, 1)
    assert row["pause_(no_reason).paused"] == 300


def test_edge_queueless_pause_and_clipping(edge):
    for q in ("800", "801"):
        _res, c = _edge(edge[0], date(2026, 5, 4), date(2026, 5, 4), operator="504", queue=q)
        row = c[("day", "2026-05-04")]
        assert row["logged.logged"] == 3600
        assert row["pause_break.paused"] == 600 == row["paused.paused"]  # 16:00: logged out
    _res, c = _edge(edge[0], date(2026, 5, 4), date(2026, 5, 4), operator="504")
    assert {k[1] for k in c if k[0] == "pair"} == {"504\x1f800", "504\x1f801"}


def test_edge_dst_days(edge):
    _res, c = _edge(edge[0], date(2026, 3, 29), date(2026, 3, 29), operator="505")
    assert c[("day", "2026-03-29")]["logged.logged"] == 3600
    assert c[("hr", 1)]["logged.logged"] == 1800
    assert ("hr", 2) not in c
    assert c[("hr", 3)]["logged.logged"] == 1800
    _res, c = _edge(edge[0], date(2026, 10, 24), date(2026, 10, 25), operator="505")
    assert c[("day", "2026-10-25")]["logged.logged"] == 7200
    assert ("day", "2026-10-24") not in c  # 23:30Z is 01:30 local on the 25th
    assert c[("hr", 1)]["logged.logged"] == 1800
    assert c[("hr", 2)]["logged.logged"] == 5400  # both real 02:00 hours


def test_edge_open_login(edge):
    _res, c = _edge(edge[0], date(2026, 5, 6), date(2026, 5, 6), operator="506")
    assert c[("day", "2026-05-06")]["logged.logged"] == 14 * 3600
    con = db.connect(edge[0], read_only=True)
    assert con.execute("SELECT count(*) FROM agent_intervals WHERE member = '506'"
                       " AND end_ts IS NULL").fetchone()[0] == 1


# ----------------------------------------------------------------------------- feedback seed

def test_feedback_seed_example(tmp_path, monkeypatch):
    """FB-1/FB-2: log rows with param1 5, 4, 5, 5 (and one 9, one empty) -> 75.0 % / 25.0 %."""
    monkeypatch.setenv("PBXLENS_WEBHOOK_TOKEN_FEEDBACK", FB_TOKEN)
    body = ("<?xml version=\"1.0\"?><parameters><unique_id>{u}</unique_id><caller>340</caller>"
            "<called>045</called><param1>{r}</param1><group>CS</group></parameters>")
    rows = [("1674057020.5505", "5"), ("1674056919.5504", "4"), ("1674055632.5503", "5"),
            ("1674055571.5502", "5"), ("1674055500.5501", "9"), ("1674055400.5500", "")]
    path = tmp_path / "s.duckdb"
    db.connect(path).close()
    _post_feedback(path, [body.format(u=u, r=r) for u, r in rows])
    con = db.connect(path, read_only=True)
    res = run(con, "feedback.service", Params(date_from=date(2023, 1, 18),
                                              date_to=date(2023, 1, 18)))
    t = res.tables[0]
    got = {r["label"]: (r["calls"], r["share"]) for r in t.rows}
    assert got == {"6★": (0, 0.0), "5★": (3, 75.0), "4★": (1, 25.0), "3★": (0, 0.0),
                   "2★": (0, 0.0), "1★": (0, 0.0)}
    assert t.totals["calls"] == 4 and t.summary["n"] == 4
    assert res.charts[0]["series"][0]["data"] == [0, 3, 1, 0, 0, 0]
    assert con.execute("SELECT count(*) FROM feedback_requests").fetchone()[0] == 6
    # another group, or a queue no call visited: nothing
    none = run(con, "feedback.service", Params(date_from=date(2023, 1, 18),
                                               date_to=date(2023, 1, 18),
                                               filters={"group": ["XX"]}))
    assert none.tables[0].totals["calls"] == 0 and none.tables[0].totals["share"] is None


def test_rebuild_equals_incremental(sims, tmp_path):
    """`pbxlens activity rebuild` recomputes exactly what the loads built batch by batch."""
    import shutil
    import subprocess
    import sys

    copy = tmp_path / "copy.duckdb"
    shutil.copy(sims[0].path, copy)
    q = {t: f"SELECT * EXCLUDE (tenant) FROM {t} ORDER BY ALL"
         for t in ("agent_intervals", "agent_activity", "agent_talk")}
    con = db.connect(copy, read_only=True)
    before = {t: con.execute(s).fetchall() for t, s in q.items()}
    con.close()
    # a real `python -m pbxlens`, not tests/clirun.py: the file's one CLI call keeps the entry
    # point covered
    r = subprocess.run([sys.executable, "-m", "pbxlens", "activity", "rebuild", "--db",
                        str(copy)], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    con = db.connect(copy, read_only=True)
    assert {t: con.execute(s).fetchall() for t, s in q.items()} == before
    assert before["agent_talk"] and before["agent_activity"]
