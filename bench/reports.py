"""Report engine benchmark: a ~10M-call store tiled from simulator output inside DuckDB.

Generates ~200k calls once (20 days x 10k/day), ingests them, then INSERT ... SELECT 50 shifted
copies (unique_id suffixed, times shifted by 20 days each) into bench/out/reports.duckdb
(reused if present). Runs every report for a one-month and a one-year range and prints p50
per report and the ratio against a minimal hand-written DuckDB query computing the same core
counts and sums (measured in the same run). `python bench/reports.py ID...` runs only those
reports.
"""

from __future__ import annotations

import statistics
import sys
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pbxlens.billing import rating_keys  # noqa: E402
from pbxlens.ingest import derive  # noqa: E402
from pbxlens.reports import Params, coincidence_days, run  # noqa: E402
from pbxlens.store import analytics as db  # noqa: E402

OUT = ROOT / "bench" / "out"
STORE = OUT / "reports.duckdb"
START = date(2023, 1, 2)
DAYS, PER_DAY, COPIES = 20, 10_000, 50
REPEAT = 5
REPORTS = ("cdr.dashboard", "cdr.queues", "cdr.queues_by_date", "cdr.queues_by_hour",
           "cdr.queue_operators", "cdr.operators", "cdr.operator_accounts",
           # issue 5 (this engineer's part)
           "cdr.billing_codes", "cdr.billing_codes_by_date", "cdr.billing_codes_operators",
           "cdr.groups", "cdr.groups_by_date", "cdr.groups_by_hour", "cdr.organizations",
           "cdr.organizations_operators", "cdr.org_units", "cdr.org_units_operators",
           "cdr.checktime", "cdr.ivr")

_RANGE = "day >= CAST(? AS DATE) AND day <= CAST(? AS DATE)"
_QSUMS = ("count(*), sum(tot_s), sum(talk_s), sum(dur_s), sum(queuing_s), sum(resp_s), "
          "sum(wait_s), sum(asa_s)")
_LSUMS = "count(*), sum(worked_s), sum(talk_s), sum(ring_s), sum(resp_s)"
_BSUMS = "count(*), sum(dur_s), sum(bill_s), sum(talk_s), sum(wait_s)"
_GSUMS = "count(*), sum(talk_s), sum(n_cfwd), sum(n_ufwd), sum(n_fork)"
# operator legs: received legs, plus originated candidates whose account is an operator's
_LEGS = f"""(SELECT extension AS op, account, block, dir_block, dow, hr, worked_s, talk_s,
        ring_s, resp_s
      FROM agent_legs WHERE {_RANGE} AND kind = 'recv'
      UNION ALL
      SELECT a.extension, g.account, g.block, g.dir_block, g.dow, g.hr, g.worked_s, g.talk_s,
        g.ring_s, g.resp_s
      FROM agent_legs g JOIN accounts a ON a.tenant = g.tenant AND a.account = g.account
      WHERE g.{_RANGE} AND g.kind = 'orig')"""

# The baseline of each report: a minimal hand-written query over the same table the report
# reads, computing the same core counts and sums with the same grouping (no labels, no
# filters, no KPI expressions, no formatting, no Python).
BASELINES = {
    "cdr.dashboard": f"""SELECT day, hr, dow, direction, status, count(*), sum(dur_s),
        sum(wait_s), sum(talk_s) FROM call_facts WHERE {_RANGE}
      GROUP BY GROUPING SETS ((day, direction, status), (hr, direction, status),
        (dow, direction, status))""",
    "cdr.queues": f"""SELECT qkey, dow, hr, block, {_QSUMS} FROM queue_visits WHERE {_RANGE}
      GROUP BY GROUPING SETS ((qkey, block), (dow, block), (hr, block))""",
    "cdr.queues_by_date": f"""SELECT qkey, day, dow, block, {_QSUMS} FROM queue_visits
      WHERE {_RANGE} GROUP BY GROUPING SETS ((qkey, day, block), (qkey, dow, block))""",
    "cdr.queues_by_hour": f"""SELECT qkey, hr, block, {_QSUMS} FROM queue_visits
      WHERE {_RANGE} GROUP BY qkey, hr, block""",
    "cdr.queue_operators": f"""SELECT qkey, extension, account, block, {_LSUMS}
      FROM agent_legs WHERE {_RANGE} AND kind = 'recv' AND qkey <> ''
      GROUP BY qkey, extension, account, block""",
    "cdr.operators": f"""SELECT op, dow, hr, block, {_LSUMS} FROM {_LEGS}
      GROUP BY GROUPING SETS ((op, block), (dow, block), (hr, block))""",
    "cdr.operator_accounts": f"""SELECT op, account, dir_block, {_LSUMS} FROM {_LEGS}
      WHERE dir_block IS NOT NULL GROUP BY op, account, dir_block""",
    # issue 5
    "cdr.billing_codes": f"""SELECT account_code, dow, hr, status, {_BSUMS} FROM billing_calls
      WHERE {_RANGE} GROUP BY GROUPING SETS ((account_code, status), (dow, status),
        (account_code, hr, status))""",
    "cdr.billing_codes_by_date": f"""SELECT account_code, day, dow, block, {_BSUMS}
      FROM billing_calls WHERE {_RANGE}
      GROUP BY GROUPING SETS ((account_code, day, block), (account_code, dow, block))""",
    "cdr.billing_codes_operators": f"""SELECT b.account_code, coalesce(a.extension,
        x.extension) AS op, a.account, b.block, {_BSUMS}
      FROM billing_calls b LEFT JOIN accounts a ON a.account = b.account
      LEFT JOIN operators x ON x.extension = b.caller
      WHERE b.{_RANGE} GROUP BY ALL""",
    "cdr.groups": f"""SELECT gkey, dow, hr, answered, {_GSUMS} FROM group_visits
      WHERE {_RANGE} GROUP BY GROUPING SETS ((gkey, answered), (dow, answered),
        (hr, answered))""",
    "cdr.groups_by_date": f"""SELECT gkey, day, dow, answered, {_GSUMS} FROM group_visits
      WHERE {_RANGE} GROUP BY GROUPING SETS ((gkey, day, answered), (gkey, dow, answered))""",
    "cdr.groups_by_hour": f"""SELECT gkey, hr, answered, {_GSUMS} FROM group_visits
      WHERE {_RANGE} GROUP BY gkey, hr, answered""",
    "cdr.organizations": f"""SELECT o.organization, l.dow, l.hr, l.block, {_LSUMS}
      FROM {_LEGS} l JOIN operators o ON o.extension = l.op
      GROUP BY GROUPING SETS ((o.organization, l.block), (l.dow, l.block), (l.hr, l.block))""",
    "cdr.organizations_operators": f"""SELECT o.organization, l.op, l.account, l.block, {_LSUMS}
      FROM {_LEGS} l JOIN operators o ON o.extension = l.op GROUP BY ALL""",
    "cdr.org_units": f"""SELECT o.org_unit, l.dow, l.hr, l.block, {_LSUMS}
      FROM {_LEGS} l JOIN operators o ON o.extension = l.op
      GROUP BY GROUPING SETS ((o.org_unit, l.block), (l.dow, l.block), (l.hr, l.block))""",
    "cdr.org_units_operators": f"""SELECT o.org_unit, l.op, l.account, l.block, {_LSUMS}
      FROM {_LEGS} l JOIN operators o ON o.extension = l.op GROUP BY ALL""",
    "cdr.checktime": f"""SELECT gkey, mod // 60 AS slot, ok, count(*) FROM gate_passes
      WHERE {_RANGE} AND kind = 'checktime'
      GROUP BY GROUPING SETS ((gkey, ok), (slot, ok))""",
    # IVR: a failed call takes the menu its called number reached most often
    "cdr.ivr": f"""WITH p AS (SELECT * FROM gate_passes WHERE {_RANGE} AND kind = 'ivr'),
      m AS (SELECT called, arg_max(gkey, n) AS gkey FROM (SELECT called, gkey, count(*) AS n
            FROM p WHERE gkey IS NOT NULL GROUP BY ALL) GROUP BY called)
      SELECT coalesce(p.gkey, m.gkey) AS g, mod // 60 AS slot, ok, count(*),
        count(*) FILTER (WHERE ok AND NOT routed)
      FROM p LEFT JOIN m ON p.gkey IS NULL AND m.called = p.called
      GROUP BY GROUPING SETS ((g, ok), (slot, ok))""",
}


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
        start_ts + {shift} AS start_ts, start_local + {shift} AS start_local,
        channel_up_ts + {shift} AS channel_up_ts,
        answer_ts + {shift} AS answer_ts, end_ts + {shift} AS end_ts)
        FROM calls, k ORDER BY k.k, start_ts""")
    con.execute(f"""INSERT INTO call_legs SELECT l.* REPLACE (l.unique_id || '-' || k.k AS unique_id,
        enter_ts + {shift} AS enter_ts, enqueue_ts + {shift} AS enqueue_ts,
        answer_ts + {shift} AS answer_ts, exit_ts + {shift} AS exit_ts)
        FROM call_legs l, k ORDER BY k.k, l.enter_ts""")
    n = con.execute("SELECT count(*) FROM calls").fetchone()[0]
    derive.rebuild(con)  # the tiled copies bypassed ingest
    coincidence_days.rebuild(con)  # so did the day summaries and the rating keys
    rating_keys.rebuild(con)
    con.execute("CHECKPOINT")
    con.close()
    tmp.rename(STORE)
    print(f"tiled to {n:,} calls in {time.perf_counter() - t:.0f} s", flush=True)


def timed(fn) -> float:
    fn()  # warm-up (not counted)
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
    db.connect(STORE).close()  # apply pending migrations (0003 backfills the derived tables)
    con = db.connect(STORE, read_only=True)
    n = con.execute("SELECT count(*) FROM calls").fetchone()[0]
    last = con.execute("SELECT max(start_local)::DATE FROM calls").fetchone()[0]
    print(f"store: {n:,} calls, last day {last}; p50 of {REPEAT} runs after a warm-up")
    ranges = {"month": (last - timedelta(days=30), last),
              "year": (last - timedelta(days=364), last)}
    print(f"{'report':24} {'range':6} {'p50 s':>7} {'base s':>7} {'ratio':>6} target")
    misses = 0
    only = [a for a in sys.argv[1:] if a in REPORTS] or list(REPORTS)
    for name, (d0, d1) in ranges.items():
        for rid in only:
            args = [d0.isoformat(), d1.isoformat()] * (BASELINES[rid].count("?") // 2)
            base = timed(lambda s=BASELINES[rid], a=args: con.execute(s, a).fetchall())
            p = Params(date_from=d0, date_to=d1)
            t = timed(lambda r=rid, p=p: run(con, r, p))
            ratio = t / base
            target = 1.0 if name == "month" else 3.0
            ok = "ok" if t <= target and ratio <= 1.5 else "MISS"
            misses += ok == "MISS"
            print(f"{rid:24} {name:6} {t:7.3f} {base:7.3f} {ratio:6.2f} "
                  f"<= {target:.0f} s, <= 1.5x  {ok}", flush=True)
    print(f"{misses} miss(es)")


if __name__ == "__main__":
    main()
