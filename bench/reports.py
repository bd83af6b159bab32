"""Report engine benchmark: a ~10M-call store tiled from simulator output inside DuckDB.

Generates ~200k calls once (20 days x 10k/day), ingests them, then INSERT ... SELECT 50 shifted
copies (unique_id suffixed, times shifted by 20 days each) into bench/out/reports.duckdb
(reused if present). Runs every report for a one-month and a one-year range and prints p50
per report and the ratio against a minimal hand-written DuckDB query computing the same core
counts and sums (measured in the same run).
"""

from __future__ import annotations

import statistics
import sys
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pbxlens import db  # noqa: E402
from pbxlens.reports import Params, run  # noqa: E402
from pbxlens.reports.filters import bounds  # noqa: E402

OUT = ROOT / "bench" / "out"
STORE = OUT / "reports.duckdb"
START = date(2023, 1, 2)
DAYS, PER_DAY, COPIES = 20, 10_000, 50
REPEAT = 3

BASELINES = {
    "queue": """SELECT l.dest_id, l.exit_cause, count(*),
        sum(date_diff('second', l.enter_ts, l.exit_ts)),
        sum(date_diff('second', l.answer_ts, l.exit_ts))
      FROM call_legs l JOIN calls c ON c.tenant = l.tenant AND c.unique_id = l.unique_id
        AND c.leg_branch = l.leg_branch
      WHERE l.dest_type = 'queue' AND c.start_ts >= CAST(? AS TIMESTAMPTZ)
        AND c.start_ts < CAST(? AS TIMESTAMPTZ) GROUP BY ALL""",
    "operator": """SELECT l.dest_id, l.answered_by, l.exit_cause, count(*),
        sum(date_diff('second', l.enter_ts, l.exit_ts)),
        sum(date_diff('second', l.answer_ts, l.exit_ts))
      FROM call_legs l JOIN calls c ON c.tenant = l.tenant AND c.unique_id = l.unique_id
        AND c.leg_branch = l.leg_branch
      WHERE l.dest_type = 'local_exten' AND c.start_ts >= CAST(? AS TIMESTAMPTZ)
        AND c.start_ts < CAST(? AS TIMESTAMPTZ) GROUP BY ALL""",
    "dashboard": """SELECT CAST(start_ts AS DATE), direction, status, count(*), sum(duration_s),
        sum(bill_s) FROM calls WHERE start_ts >= CAST(? AS TIMESTAMPTZ)
        AND start_ts < CAST(? AS TIMESTAMPTZ) GROUP BY ALL""",
}
REPORTS = {"cdr.dashboard": "dashboard", "cdr.queues": "queue", "cdr.queues_by_date": "queue",
           "cdr.queues_by_hour": "queue", "cdr.queue_operators": "operator",
           "cdr.operators": "operator", "cdr.operator_accounts": "operator"}


def build() -> None:
    from pbxlens.ingest import ingest_paths
    from pbxlens.simulate import generate

    src = OUT / "reports_src"
    if not (src / "cdr_detailed.csv").exists():
        t = time.perf_counter()
        generate(src, days=DAYS, calls_per_day=PER_DAY, seed=1, start=START,
                 formats=["csv-detailed"])
        print(f"simulated in {time.perf_counter() - t:.0f} s", flush=True)
    tmp = OUT / "reports_tmp.duckdb"
    tmp.unlink(missing_ok=True)
    con = db.connect(tmp)
    t = time.perf_counter()
    ingest_paths(con, [src / "cdr_detailed.csv", src / "directory.json"])
    print(f"ingested in {time.perf_counter() - t:.0f} s", flush=True)
    t = time.perf_counter()
    con.execute("CREATE TEMP TABLE k AS SELECT range AS k FROM range(1, ?)", [COPIES])
    shift = f"to_days(CAST(k.k * {DAYS} AS INTEGER))"
    con.execute(f"""INSERT INTO calls SELECT calls.* REPLACE (unique_id || '-' || k.k AS unique_id,
        start_ts + {shift} AS start_ts, channel_up_ts + {shift} AS channel_up_ts,
        answer_ts + {shift} AS answer_ts, end_ts + {shift} AS end_ts)
        FROM calls, k ORDER BY k.k, start_ts""")
    con.execute(f"""INSERT INTO call_legs SELECT l.* REPLACE (l.unique_id || '-' || k.k AS unique_id,
        enter_ts + {shift} AS enter_ts, enqueue_ts + {shift} AS enqueue_ts,
        answer_ts + {shift} AS answer_ts, exit_ts + {shift} AS exit_ts)
        FROM call_legs l, k ORDER BY k.k, l.enter_ts""")
    n = con.execute("SELECT count(*) FROM calls").fetchone()[0]
    con.execute("CHECKPOINT")
    con.close()
    tmp.rename(STORE)
    print(f"tiled to {n:,} calls in {time.perf_counter() - t:.0f} s", flush=True)


def timed(fn) -> float:
    xs = []
    for _ in range(REPEAT):
        t = time.perf_counter()
        fn()
        xs.append(time.perf_counter() - t)
    return statistics.median(xs)


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    if not STORE.exists():
        build()
    con = db.connect(STORE, read_only=True)
    n = con.execute("SELECT count(*) FROM calls").fetchone()[0]
    last = con.execute("SELECT max(start_ts)::DATE FROM calls").fetchone()[0]
    print(f"store: {n:,} calls, last day {last}")
    ranges = {"month": (last - timedelta(days=30), last),
              "year": (last - timedelta(days=364), last)}
    print(f"{'report':24} {'range':6} {'p50 s':>7} {'base s':>7} {'ratio':>6} target")
    worst = 0.0
    for name, (d0, d1) in ranges.items():
        lo, hi = bounds(d0, d1)
        base = {fam: timed(lambda s=sql, a=(lo, hi): con.execute(s, list(a)).fetchall())
                for fam, sql in BASELINES.items()}
        for rid, fam in REPORTS.items():
            p = Params(date_from=d0, date_to=d1)
            t = timed(lambda r=rid, p=p: run(con, r, p))
            ratio = t / base[fam]
            target = 1.0 if name == "month" else 3.0
            ok = "ok" if t <= target and ratio <= 1.5 else "MISS"
            worst = max(worst, ratio)
            print(f"{rid:24} {name:6} {t:7.3f} {base[fam]:7.3f} {ratio:6.2f} "
                  f"<= {target:.0f} s, <= 1.5x  {ok}", flush=True)


if __name__ == "__main__":
    main()
