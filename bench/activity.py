"""Agent activity benchmark: cc.agent_activity over a month and a year of hour pieces.

Generates DAYS days of simulator output with the queue-member event log (PER_DAY calls/day),
ingests them (timing the event-log load: events -> intervals -> hour pieces), then tiles the
hour-piece facts (agent_activity, agent_talk) COPIES times, shifted by DAYS days each, to a
year inside DuckDB (bench/out/activity.duckdb, reused if present). Prints p50 of the report
for a one-month and a one-year range (targets: month <= 1 s, year <= 3 s, as the report
engine's) and the ratio against a minimal hand-written query computing the same sums with the
same grouping.

    python bench/activity.py [--days 14] [--per-day 10000] [--copies 26] [--repeat 5]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pbxlens.ingest import ingest_paths  # noqa: E402
from pbxlens.reports import Params, run  # noqa: E402
from pbxlens.simulate import generate  # noqa: E402
from pbxlens.store import analytics as db  # noqa: E402

OUT = ROOT / "bench" / "out"
STORE = OUT / "activity.duckdb"
START = date(2025, 1, 6)

BASELINE = """
SELECT coalesce(member_exten, member) AS op, qkey, day, hr, kind, reason, sum(secs), sum(starts)
FROM agent_activity WHERE day >= CAST(? AS DATE) AND day <= CAST(? AS DATE)
GROUP BY GROUPING SETS ((op, qkey, day, kind, reason), (op, qkey, hr, kind, reason))
UNION ALL
SELECT extension, qkey, day, hr, 'talk', '', sum(secs), sum(starts)
FROM agent_talk WHERE day >= CAST(? AS DATE) AND day <= CAST(? AS DATE)
GROUP BY GROUPING SETS ((extension, qkey, day), (extension, qkey, hr))
"""


def build(days: int, per_day: int, copies: int) -> dict:
    OUT.mkdir(parents=True, exist_ok=True)
    info: dict = {}
    with tempfile.TemporaryDirectory(prefix="pbxlens-bench-activity-") as tmp:
        t = time.perf_counter()
        generate(Path(tmp), days=days, calls_per_day=per_day, seed=7, start=START,
                 formats=["csv-detailed", "events"])
        info["generate_s"] = time.perf_counter() - t
        con = db.connect(STORE)
        res = ingest_paths(con, [Path(tmp) / "cdr_detailed.csv", Path(tmp) / "directory.json"])
        info["cdr_calls"] = sum(r.calls_loaded for r in res)
        info["cdr_ingest_s"] = sum(r.seconds for r in res)
        t = time.perf_counter()
        (ev,) = ingest_paths(con, [Path(tmp) / "events.jsonl"])
        info["events"] = ev.rows_loaded
        info["events_ingest_s"] = time.perf_counter() - t
    shift = [f"{k * days}" for k in range(1, copies)]
    for table in ("agent_activity", "agent_talk"):
        cols = [r[0] for r in con.execute(f"DESCRIBE {table}").fetchall()]
        sel = ", ".join("CAST(day + CAST(k AS INTEGER) AS DATE)" if c == "day" else c
                        for c in cols)
        con.execute(f"INSERT INTO {table} SELECT {sel} FROM {table}, "
                    f"(SELECT unnest([{', '.join(shift)}]) AS k) s")
    con.execute("CHECKPOINT")
    con.close()
    return info


def p50(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--days", type=int, default=14)
    ap.add_argument("--per-day", type=int, default=10_000)
    ap.add_argument("--copies", type=int, default=26)
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    info = build(args.days, args.per_day, args.copies) if not STORE.exists() else {}
    for k, v in info.items():
        print(f"{k:>18}: {v:.2f}" if isinstance(v, float) else f"{k:>18}: {v}")
    if info:
        print(f"{'events/s':>18}: {info['events'] / info['events_ingest_s']:,.0f}")
    con = db.connect(STORE, read_only=True)
    n_act, n_talk = con.execute("SELECT (SELECT count(*) FROM agent_activity),"
                                " (SELECT count(*) FROM agent_talk)").fetchone()
    lo, hi = con.execute("SELECT min(day), max(day) FROM agent_activity").fetchone()
    print(f"store: {n_act:,} activity pieces, {n_talk:,} talk pieces, {lo} .. {hi}")
    print(f"{'range':<6} {'days':>5} {'report p50 s':>13} {'baseline p50 s':>15} {'ratio':>6}"
          f" {'target s':>9}")
    ok = True
    for label, d_from, d_to, target in (
            ("month", lo + timedelta(days=35), lo + timedelta(days=64), 1.0),
            ("year", lo, min(hi, lo + timedelta(days=364)), 3.0)):
        params = Params(date_from=d_from, date_to=d_to)
        rep = p50(lambda p=params: run(con, "cc.agent_activity", p), args.repeat)
        a = [d_from.isoformat(), d_to.isoformat()] * 2
        base = p50(lambda a=a: con.execute(BASELINE, a).fetchall(), args.repeat)
        ok = ok and rep <= target
        print(f"{label:<6} {(d_to - d_from).days + 1:>5} {rep:>13.3f} {base:>15.3f}"
              f" {rep / base:>6.1f} {target:>9.1f}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
