"""Definitions benchmark: drill-down lists and staffing plans on a large store.

The store is tiled from simulator output inside DuckDB as bench/reports.py does (~200k calls
generated once, copied with shifted times): BENCH_CALLS calls (default 10M; `BENCH_CALLS=1M`
for a quicker run), plus agent activity (ten agents logged in 08:00-18:00 on weekdays, in
every queue) so that plans compare with the agents logged in.

Targets (the issue's): the list behind any count cell of a month ≤ 1 s; the staffing plan of a
year of one queue ≤ 2 s. Each line prints the p50 of 5 runs after a warm-up and its ratio to
the target. Informational: the `hours` filter's cost on a month of cdr.queues, a month of
journeys. `python bench/definitions.py drill|staffing|hours|journeys` runs one part.
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pbxlens.ingest import derive  # noqa: E402
from pbxlens.reports import Params, drilldown, journey, run, staffing_plan  # noqa: E402
from pbxlens.store import analytics as db  # noqa: E402

OUT = ROOT / "bench" / "out"
SRC = OUT / "reports_src"  # shared with bench/reports.py
START = date(2023, 1, 2)
DAYS, PER_DAY = 20, 10_000
REPEAT = 5
DRILL = ("cdr.dashboard", "cdr.queues", "cdr.queues_by_date", "cdr.queue_operators",
         "cdr.operators", "cdr.organizations", "cdr.billing_codes", "cdr.groups",
         "cdr.queue_wait_times", "cdr.incoming_abandon_times", "cdr.checktime")


def _calls() -> int:
    raw = os.environ.get("BENCH_CALLS", "10M").upper().replace("_", "")
    return int(float(raw[:-1]) * 1_000_000) if raw.endswith("M") else int(raw)


def build(store: Path, copies: int) -> None:
    from pbxlens.ingest import ingest_paths
    from pbxlens.simulate import generate

    if not (SRC / "cdr_detailed.csv").exists():
        t = time.perf_counter()
        generate(SRC, days=DAYS, calls_per_day=PER_DAY, seed=1, start=START,
                 formats=["csv-detailed"])
        print(f"simulated in {time.perf_counter() - t:.0f} s", flush=True)
    tmp = store.with_suffix(".tmp")
    tmp.unlink(missing_ok=True)
    con = db.connect(tmp)
    t = time.perf_counter()
    ingest_paths(con, [SRC / "cdr_detailed.csv", SRC / "directory.json"])
    con.execute("CREATE TEMP TABLE k AS SELECT range AS k FROM range(1, ?)", [copies])
    shift = f"to_days(CAST(k.k * {DAYS} AS INTEGER))"
    con.execute(f"""INSERT INTO calls SELECT calls.* REPLACE (unique_id || '-' || k.k AS unique_id,
        start_ts + {shift} AS start_ts, start_local + {shift} AS start_local,
        channel_up_ts + {shift} AS channel_up_ts, answer_ts + {shift} AS answer_ts,
        end_ts + {shift} AS end_ts) FROM calls, k ORDER BY k.k, start_ts""")
    con.execute(f"""INSERT INTO call_legs SELECT l.* REPLACE (l.unique_id || '-' || k.k AS unique_id,
        enter_ts + {shift} AS enter_ts, enqueue_ts + {shift} AS enqueue_ts,
        answer_ts + {shift} AS answer_ts, exit_ts + {shift} AS exit_ts)
        FROM call_legs l, k ORDER BY k.k, l.enter_ts""")
    derive.rebuild(con)  # the tiled copies bypassed ingest
    last = con.execute("SELECT max(day) FROM call_facts").fetchone()[0]
    # agent activity: ten agents per queue, 08:00-18:00 local on weekdays
    con.execute("""INSERT INTO agent_intervals
        SELECT q.tenant, 'agent' || a.range, NULL, NULL, q.qkey, q.qkey, NULL, 'logged', '',
          timezone(?, d.day + INTERVAL 8 HOUR), timezone(?, d.day + INTERVAL 18 HOUR)
        FROM (SELECT DISTINCT tenant, qkey FROM queue_visits WHERE qkey <> '') q
        CROSS JOIN range(10) a
        CROSS JOIN (SELECT CAST(range AS DATE) AS day FROM range(CAST(? AS DATE),
                    CAST(? AS DATE) + INTERVAL 1 DAY, INTERVAL 1 DAY)) d
        WHERE isodow(d.day) <= 5""", ["Europe/Rome", "Europe/Rome", START.isoformat(),
                                      last.isoformat()])
    n = con.execute("SELECT count(*) FROM calls").fetchone()[0]
    con.execute("CHECKPOINT")
    con.close()
    tmp.rename(store)
    print(f"built {n:,} calls in {time.perf_counter() - t:.0f} s", flush=True)


def timed(fn) -> float:
    fn()  # warm-up
    xs = []
    for _ in range(REPEAT):
        t = time.perf_counter()
        fn()
        xs.append(time.perf_counter() - t)
    return statistics.median(xs)


def _busiest_cell(con, rid: str, p: Params) -> drilldown.Cell:
    """The biggest count cell of the report's first table (row, else totals)."""
    r = run(con, rid, p)
    t = r.tables[0]
    cols = [c for c in t.columns if c.kind == "sum" and c.unit == "count"]
    best = max(((row, c) for row in t.rows for c in cols), default=None,
               key=lambda rc: rc[0].get(rc[1].key) or 0)
    if best is None or not best[0].get(best[1].key):
        return drilldown.Cell(rid, t.key, None, cols[0].key)
    return drilldown.Cell(rid, t.key, best[0]["key"], best[1].key)


def bench_drill(con, month: tuple[date, date]) -> int:
    misses = 0
    p = Params(date_from=month[0], date_to=month[1])
    print(f"{'drill-down (a month)':28} {'cell':34} {'calls':>9} {'p50 s':>7} {'/ 1 s':>6}")
    for rid in DRILL:
        for cell in (_busiest_cell(con, rid, p),
                     drilldown.Cell(rid, run(con, rid, p).tables[0].key, None,
                                    _busiest_cell(con, rid, p).column)):
            res = drilldown.drill(con, rid, p, cell, limit=500)
            s = timed(lambda c=cell, r=rid: drilldown.drill(con, r, p, c, limit=500))
            ok = s <= 1.0
            misses += not ok
            where = f"{cell.row or 'totals'}·{cell.column}"[:34]
            print(f"{rid:28} {where:34} {res.count:9,} {s:7.3f} {s / 1.0:6.2f} "
                  f"{'ok' if ok else 'MISS'}", flush=True)
    return misses


def bench_staffing(con, year: tuple[date, date]) -> int:
    misses = 0
    qkey = con.execute("SELECT qkey FROM queue_visits WHERE day BETWEEN ? AND ? AND qkey <> '' "
                       "GROUP BY qkey ORDER BY count(*) DESC LIMIT 1", list(year)).fetchone()[0]
    visits = con.execute("SELECT count(*) FROM queue_visits WHERE qkey = ? AND day BETWEEN ? "
                         "AND ?", [qkey, *year]).fetchone()[0]
    print(f"\nstaffing: queue {qkey}, a year ({visits:,} visits)")
    print(f"{'interval':>8} {'model':>9} {'p50 s':>7} {'/ 2 s':>6}")
    for minutes in (60, 30, 15):
        for erlang_a in (False, True):
            s = timed(lambda m=minutes, a=erlang_a: staffing_plan.queue_plan(
                con, "default", qkey, *year, minutes=m, erlang_a=a))
            ok = s <= 2.0
            misses += not ok
            print(f"{minutes:>6} m {'erlang_a' if erlang_a else 'erlang_c':>9} {s:7.3f} "
                  f"{s / 2.0:6.2f} {'ok' if ok else 'MISS'}", flush=True)
    return misses


def bench_hours(store: Path, month: tuple[date, date]) -> None:
    """The hours filter's cost (informational): a calendar for the tenant, Mon-Fri 8-18."""
    con = db.connect(store)
    try:
        con.execute("DELETE FROM calendar_hours")
        con.execute("DELETE FROM calendar_assignments")
        con.execute("INSERT INTO calendar_hours SELECT 'default', 1, range, 480, 1080 "
                    "FROM range(1, 6)")
        con.execute("INSERT INTO calendar_assignments VALUES ('default', '', 1)")
        print("\nhours filter (cdr.queues, a month)")
        for f in ({}, {"hours": ["open"]}, {"hours": ["closed"]}):
            p = Params(date_from=month[0], date_to=month[1], filters=f)
            s = timed(lambda p=p: run(con, "cdr.queues", p))
            print(f"  {f.get('hours', ['every call'])[0]:>10} {s:7.3f} s", flush=True)
    finally:
        con.execute("DELETE FROM calendar_hours")
        con.execute("DELETE FROM calendar_assignments")
        con.close()


def bench_journeys(con, month: tuple[date, date]) -> None:
    print("\njourneys (informational)")
    for name, rng in (("a day", (month[1], month[1])), ("a month", month)):
        s = timed(lambda r=rng: journey.journeys(con, *r, limit=500))
        print(f"  {name:8} {s:7.3f} s", flush=True)


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    calls = _calls()
    copies = max(1, round(calls / (DAYS * PER_DAY)))
    store = OUT / f"definitions_{copies * DAYS * PER_DAY // 1_000_000}M.duckdb"
    if not store.exists():
        build(store, copies)
    db.connect(store).close()  # pending migrations
    parts = set(sys.argv[1:]) or {"drill", "staffing", "hours", "journeys"}
    if "hours" in parts:
        bench_hours(store, _ranges(store)[0])
    con = db.connect(store, read_only=True)
    n = con.execute("SELECT count(*) FROM calls").fetchone()[0]
    month, year = _ranges(store)
    print(f"store: {n:,} calls; month {month[0]}..{month[1]}; p50 of {REPEAT} runs")
    misses = 0
    if "drill" in parts:
        misses += bench_drill(con, month)
    if "staffing" in parts:
        misses += bench_staffing(con, year)
    if "journeys" in parts:
        bench_journeys(con, month)
    print(f"{misses} miss(es)")
    sys.exit(1 if misses else 0)


def _ranges(store: Path) -> tuple[tuple[date, date], tuple[date, date]]:
    con = db.connect(store, read_only=True)
    try:
        last = con.execute("SELECT max(day) FROM call_facts").fetchone()[0]
    finally:
        con.close()
    return (last - timedelta(days=30), last), (last - timedelta(days=364), last)


if __name__ == "__main__":
    main()
