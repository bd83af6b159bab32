"""Call Center report benchmark (issue 6): a ~10M-queue-call store tiled from simulator output.

Generates ~200k calls once (20 days x 10k/day, the Call Center CDR detailed CSV with operator
events), ingests it, then INSERT ... SELECT shifted copies (unique_id suffixed, times and day
buckets shifted by 20 days each) of queue_calls and cc_agent_legs until the store holds
TARGET queue calls (bench/out/callcenter.duckdb, reused if present). Runs every cc.* report
for a one-month and a one-year range and prints p50 per report and the ratio against a minimal
hand-written DuckDB query computing the same core counts and sums (same run).

Usage: python bench/callcenter.py [TARGET_QUEUE_CALLS]   (default 10,000,000)
"""

from __future__ import annotations

import statistics
import sys
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pbxlens.reports import Params, run  # noqa: E402
from pbxlens.store import analytics as db  # noqa: E402

OUT = ROOT / "bench" / "out"
START = date(2020, 1, 6)
DAYS, PER_DAY = 20, 10_000
REPEAT = 5
REPORTS = ("cc.dashboard", "cc.queues", "cc.queue_callers", "cc.queues_by_date",
           "cc.queue_operators", "cc.queues_by_hour", "cc.operators")

_RANGE = "day >= CAST(? AS DATE) AND day <= CAST(? AS DATE)"
_QSUMS = ("count(*), sum(tot_s), sum(talk_s), sum(dur_s), sum(queuing_s), sum(resp_s), "
          "sum(wait_s), sum(welcome_s), sum(queue_wait_s), sum(hold_s)")
_LSUMS = "count(*), sum(worked_s), sum(talk_s), sum(ring_s), sum(resp_s)"

# The baseline of each report: a minimal hand-written query over the table it reads, with the
# same grouping and core sums (no labels, no filters, no directory join, no Python).
BASELINES = {
    "cc.dashboard": f"""SELECT day, hr, dow, direction, block, count(*), sum(tot_s)
      FROM queue_calls WHERE {_RANGE}
      GROUP BY GROUPING SETS ((day, direction, block), (hr, direction, block),
        (dow, direction, block))""",
    "cc.queues": f"""SELECT qkey, dow, hr, block, {_QSUMS} FROM queue_calls
      WHERE {_RANGE} AND qkey <> ''
      GROUP BY GROUPING SETS ((qkey, block), (dow, block), (hr, block))""",
    "cc.queue_callers": f"""SELECT day, ans, count(*) FROM (SELECT unique_id,
        arg_min(day, enter_ts) AS day, bool_or(answered) AS ans FROM queue_calls
        WHERE {_RANGE} AND direction = 'incoming' AND qkey <> '' GROUP BY unique_id)
      GROUP BY ALL""",
    "cc.queues_by_date": f"""SELECT qkey, day, dow, block, {_QSUMS} FROM queue_calls
      WHERE {_RANGE} AND qkey <> ''
      GROUP BY GROUPING SETS ((qkey, day, block), (qkey, dow, block))""",
    "cc.queue_operators": f"""SELECT qkey, extension, account, block, {_LSUMS}
      FROM cc_agent_legs WHERE {_RANGE} AND qkey <> ''
      GROUP BY qkey, extension, account, block""",
    "cc.queues_by_hour": f"""SELECT qkey, hr, block, {_QSUMS} FROM queue_calls
      WHERE {_RANGE} AND qkey <> '' GROUP BY qkey, hr, block""",
    "cc.operators": f"""SELECT extension, dow, hr, block, {_LSUMS} FROM cc_agent_legs
      WHERE {_RANGE} AND qkey <> ''
      GROUP BY GROUPING SETS ((extension, block), (dow, block), (hr, block))""",
}


def build(store: Path, target: int) -> None:
    from pbxlens.ingest import ingest_paths
    from pbxlens.simulate import generate

    src = OUT / "callcenter_src"
    if not (src / "cc_cdr_detailed.csv").exists():
        t = time.perf_counter()
        generate(src, days=DAYS, calls_per_day=PER_DAY, seed=1, start=START,
                 formats=["cc-csv-detailed"])
        print(f"simulated in {time.perf_counter() - t:.0f} s", flush=True)
    tmp = store.with_suffix(".tmp.duckdb")
    tmp.unlink(missing_ok=True)
    con = db.connect(tmp)
    t = time.perf_counter()
    ingest_paths(con, [src / "cc_cdr_detailed.csv", src / "directory.json"])
    base = con.execute("SELECT count(*) FROM queue_calls").fetchone()[0]
    print(f"ingested {base:,} queue calls in {time.perf_counter() - t:.0f} s", flush=True)
    t = time.perf_counter()
    copies = max(1, -(-target // base))
    # one INSERT per copy, from day-ordered snapshots: memory stays flat and each copy lands
    # as a contiguous run of days (zone maps keep range scans tight), no global sort
    con.execute("CREATE TEMP TABLE qb AS SELECT * FROM queue_calls ORDER BY day, unique_id")
    con.execute("CREATE TEMP TABLE lb AS SELECT * FROM cc_agent_legs ORDER BY day, unique_id")
    for k in range(1, copies):
        shift = f"to_days({k * DAYS})"
        day = f"CAST(day + {k * DAYS} AS DATE)"
        dow = f"CAST(dayofweek({day}) AS SMALLINT)"
        con.execute(f"""INSERT INTO queue_calls SELECT q.* REPLACE (
            q.unique_id || '-{k}' AS unique_id, enter_ts + {shift} AS enter_ts,
            welcome_end_ts + {shift} AS welcome_end_ts, enqueue_ts + {shift} AS enqueue_ts,
            answer_ts + {shift} AS answer_ts, exit_ts + {shift} AS exit_ts, {day} AS day,
            {dow} AS dow) FROM qb q""")
        con.execute(f"""INSERT INTO cc_agent_legs SELECT l.* REPLACE (
            l.unique_id || '-{k}' AS unique_id, q_enter_ts + {shift} AS q_enter_ts,
            ring_ts + {shift} AS ring_ts, answer_ts + {shift} AS answer_ts,
            end_ts + {shift} AS end_ts, {day} AS day, {dow} AS dow) FROM lb l""")
    con.execute("CHECKPOINT")
    con.close()
    tmp.rename(store)
    print(f"tiled x{copies} in {time.perf_counter() - t:.0f} s", flush=True)


def timed(fn) -> float:
    fn()  # warm-up (not counted)
    xs = []
    for _ in range(REPEAT):
        t = time.perf_counter()
        fn()
        xs.append(time.perf_counter() - t)
    return statistics.median(xs)


def main() -> None:
    target = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000_000
    OUT.mkdir(parents=True, exist_ok=True)
    store = OUT / f"callcenter_{target}.duckdb"
    if not store.exists():
        build(store, target)
    con = db.connect(store, read_only=True)
    n, legs = con.execute("SELECT (SELECT count(*) FROM queue_calls),"
                          " (SELECT count(*) FROM cc_agent_legs)").fetchone()
    last = con.execute("SELECT max(day) FROM queue_calls").fetchone()[0]
    print(f"store: {n:,} queue calls, {legs:,} operator legs, last day {last}; "
          f"p50 of {REPEAT} runs after a warm-up")
    ranges = {"month": (last - timedelta(days=30), last),
              "year": (last - timedelta(days=364), last)}
    print(f"{'report':22} {'range':6} {'p50 s':>7} {'base s':>7} {'ratio':>6} target")
    misses = 0
    for name, (d0, d1) in ranges.items():
        for rid in REPORTS:
            args = [d0.isoformat(), d1.isoformat()]
            base = timed(lambda s=BASELINES[rid], a=args: con.execute(s, a).fetchall())
            p = Params(date_from=d0, date_to=d1)
            t = timed(lambda r=rid, p=p: run(con, r, p))
            ratio = t / base
            target_s = 1.0 if name == "month" else 3.0
            ok = "ok" if t <= target_s and ratio <= 1.5 else "MISS"
            misses += ok == "MISS"
            print(f"{rid:22} {name:6} {t:7.3f} {base:7.3f} {ratio:6.2f} "
                  f"<= {target_s:.0f} s, <= 1.5x  {ok}", flush=True)
    print(f"{misses} miss(es)")


if __name__ == "__main__":
    main()
