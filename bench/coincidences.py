"""Coincidence benchmark: exact concurrency at one-second resolution over a year of 10M calls.

Store: the line_calls of a source store (default bench/out/reports.duckdb, the 10M-call store of
bench/reports.py, when it exists; else bench/out/coincidences_src.duckdb, built here by
ingesting the 200k simulated calls bench/reports.py simulates, 20 days x 10k/day) are tiled
into bench/out/coincidences_<calls>.duckdb: copy k of the 10M store (k = its unique_id suffix,
20·k days later) is shifted back by 13·k days, a copy k tiled here by 7·k days, so 10M calls
fall into 363 days (every interval keeps its length); the gateway and outbound configuration
limits come along. The day summaries are then built from scratch (timed), and re-built for the days of one
200k-call copy, as an ingest batch does (timed).

Measured in the same run, for the last 365 days (or the whole span when shorter) and the last
30 days, p50 of 2 after a warm-up:
- `cdr.coincidences` / `cdr.coincidences_out` from the day summaries (the new path);
- the same reports swept from line_calls partitioned by line and day (the path of arbitrary
  line subsets);
- the previous report SQL (one global sort of bit-packed keys, a window without PARTITION BY;
  SQL only, without the report's Python), as it ran before the summaries;
- two pandas per-minute implementations of the same counts (per line and 15-minute bucket:
  peak and mean of the per-minute concurrency; minutes at >= k), reading the intervals from
  DuckDB as the report does: straightforward (each call exploded into the minutes it touches,
  Kolmisoft's rule) and vectorised (+1/-1 per minute, numpy cumulative sum); `--no-pandas`
  skips them.
Ratios against the issue's baselines (the previous report on 10M calls: a year 54 s, a month
0.6 s) and against the previous SQL measured here.

    python bench/coincidences.py [--calls 10000000] [--src PATH] [--rebuild] [--no-pandas]
"""

from __future__ import annotations

import argparse
import resource
import shutil
import statistics
import sys
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from pbxlens.reports import Params, coincidence_days, run  # noqa: E402
from pbxlens.reports.coincidence import _epoch  # noqa: E402
from pbxlens.store import analytics as db  # noqa: E402

OUT = ROOT / "bench" / "out"
REPORTS_STORE = OUT / "reports.duckdb"
SRC = OUT / "coincidences_src.duckdb"
REPEAT = 2
SHIFT_DAYS = 13  # 20-day copies moved 13 days closer each: 50 copies in ~370 days
BASELINE = {"year": 54.0, "month": 0.6}  # the figures for the previous report, 10M
TARGET = {"year": 3.0, "month": 0.3}

# The previous report SQL (before the day summaries), kept here as the baseline.
OLD_SQL = """
WITH iv AS (
  SELECT hash(tenant, {key}) AS h, tenant, {key} AS name,
    greatest({a}, $lo) - $lo AS s, least(end_s, $hi) - $lo AS e
  FROM line_calls
  WHERE day <= CAST($d_to AS DATE) AND end_s > $lo AND {a} < $hi AND end_s > {a} {where}
), ln AS (
  SELECT h, tenant, name, row_number() OVER (ORDER BY tenant, name) AS i
  FROM (SELECT h, any_value(tenant) AS tenant, any_value(name) AS name FROM iv GROUP BY h)
), ki AS (
  SELECT ln.i << 36 AS p, iv.s, iv.e FROM iv JOIN ln ON ln.h = iv.h
), bd AS (
  SELECT (g.x << 2) | 1 AS k FROM range(0, $hi - $lo, $bucket) AS g(x)
), ev AS (
  SELECT p | (s << 2) | 2 AS k FROM ki
  UNION ALL SELECT p | (e << 2) AS k FROM ki
  UNION ALL SELECT (s << 2) | 2 AS k FROM ki
  UNION ALL SELECT e << 2 AS k FROM ki
  UNION ALL SELECT (ln.i << 36) | bd.k FROM ln CROSS JOIN bd
  UNION ALL SELECT k FROM bd
), st AS (
  SELECT k, lag(k) OVER () AS pk,
    CAST(sum((k & 3) - 1) OVER (ROWS UNBOUNDED PRECEDING) AS BIGINT) AS level
  FROM (SELECT k FROM ev ORDER BY k)
), seg AS (
  SELECT pk >> 36 AS i, (pk >> 2) & 17179869183 AS pt,
    ((k >> 2) & 17179869183) - ((pk >> 2) & 17179869183) AS dt,
    level - ((k & 3) - 1) AS lv, (pk & 3) = 2 AS started
  FROM st WHERE k >> 36 = pk >> 36
), agg AS (
  SELECT i, pt // $bucket AS b, lv, GROUPING(b, lv) AS gid,
    max(lv) FILTER (WHERE dt > 0) AS peak, sum(lv * dt) AS level_s, sum(dt) AS secs,
    count(*) FILTER (WHERE started) AS n,
    arg_max(pt, lv * $key - pt) FILTER (WHERE dt > 0) AS peak_t
  FROM seg GROUP BY GROUPING SETS ((i, b), (i, lv))
)
SELECT coalesce(ln.tenant || chr(31) || ln.name, $all) AS line, agg.b, agg.lv, agg.gid,
  agg.peak, agg.level_s, agg.secs, agg.n, agg.peak_t + $lo AS peak_t
FROM agg LEFT JOIN ln ON ln.i = agg.i
"""


def old_sweep(con, key: str, lo: int, hi: int, d_to: date, outgoing: bool) -> list:
    sql = OLD_SQL.format(key=key, a="answer_s",
                         where="AND direction = 'outgoing'" if outgoing else "")
    return con.execute(sql, {"lo": lo, "hi": hi, "bucket": 900, "d_to": d_to.isoformat(),
                             "all": coincidence_days.ALL, "key": 1 << 40}).fetchall()


def source(path: Path | None) -> Path:
    """A store whose line_calls hold the calls to tile."""
    if path is not None:
        return path
    if REPORTS_STORE.exists():
        return REPORTS_STORE
    if not SRC.exists():
        from pbxlens.ingest import ingest_paths
        from pbxlens.simulate import generate

        sim = OUT / "reports_src"  # the simulation bench/reports.py tiles (shared with it)
        if not (sim / "cdr_detailed.csv").exists():
            t = time.perf_counter()
            generate(sim, days=20, calls_per_day=10_000, seed=1, start=date(2023, 1, 2),
                     formats=["csv-detailed"])
            print(f"simulated 200k calls in {time.perf_counter() - t:.0f} s", flush=True)
        tmp = SRC.with_suffix(".tmp")
        tmp.unlink(missing_ok=True)
        con = db.connect(tmp)
        t = time.perf_counter()
        ingest_paths(con, [sim / "cdr_detailed.csv", sim / "directory.json"])
        con.close()
        tmp.rename(SRC)
        print(f"ingested the source in {time.perf_counter() - t:.0f} s", flush=True)
    return SRC


def build(src: Path, store: Path, calls: int) -> None:
    copy = OUT / "coincidences_src_copy.duckdb"  # never open the source in place
    shutil.copyfile(src, copy)
    store.unlink(missing_ok=True)
    con = db.connect(store)
    t = time.perf_counter()
    con.execute(f"ATTACH '{copy}' AS src (READ_ONLY)")
    n_src = con.execute("SELECT count(*) FROM src.line_calls").fetchone()[0]
    tiled = con.execute("SELECT count(*) FROM src.line_calls WHERE regexp_matches(unique_id, "
                        "'-\\d+$')").fetchone()[0] > 0
    k = "coalesce(TRY_CAST(regexp_extract(unique_id, '-(\\d+)$', 1) AS INTEGER), 0)"
    if tiled:  # the 10M store: its copies already carry their number
        rows = f"SELECT *, {k} AS k FROM src.line_calls"
        limit = f"WHERE {k} < {-(-calls // max(1, n_src // 50))}"
    else:
        copies = -(-calls // n_src)
        rows = (f"SELECT l.* REPLACE (l.unique_id || '-' || r.k AS unique_id), r.k "
                f"FROM src.line_calls l, range({copies}) r(k)")
        limit = ""
    # net 7 days per copy either way: the 10M store's copies sit 20 days apart already
    days = SHIFT_DAYS if tiled else 20 - SHIFT_DAYS
    shift = f"k * {days} * 86400"
    con.execute(f"""INSERT INTO line_calls
        SELECT tenant, unique_id, leg_branch, day - CAST(k * {days} AS INTEGER),
          direction, gateway, out_config, start_s - {shift}, answer_s - {shift}, end_s - {shift}
        FROM ({rows}) {limit} ORDER BY 4, 8""")
    con.execute("INSERT INTO gateways SELECT * FROM src.gateways")
    con.execute("INSERT INTO outbound_configurations SELECT * FROM src.outbound_configurations")
    con.execute("DETACH src")
    copy.unlink()
    n = con.execute("SELECT count(*) FROM line_calls").fetchone()[0]
    print(f"tiled {n:,} line calls in {time.perf_counter() - t:.0f} s", flush=True)
    con.execute("BEGIN TRANSACTION")
    t, cpu = timed(lambda: coincidence_days.rebuild(con), 0)
    con.execute("COMMIT")
    con.execute("CHECKPOINT")
    rows = con.execute("SELECT count(*) FROM coincidence_day_buckets").fetchone()[0]
    print(f"day summaries built from scratch in {t:.1f} s wall, {cpu:.1f} s cpu "
          f"({rows:,} quarter-hour rows)", flush=True)
    con.close()


def refresh_one_copy(store: Path) -> tuple[float, float, int]:
    """Re-sweep the days one 200k-call copy touches (what an ingest batch of it costs)."""
    con = db.connect(store)
    con.execute("BEGIN TRANSACTION")
    con.execute("""CREATE OR REPLACE TEMP TABLE _cd_touched AS
        SELECT tenant, day AS day0, least(start_s, coalesce(answer_s, start_s)) AS a,
          greatest(end_s, start_s + 1) AS e
        FROM line_calls WHERE unique_id LIKE '%-1'""")
    n = con.execute("SELECT count(*) FROM _cd_touched").fetchone()[0]
    dt, cpu = timed(lambda: coincidence_days.refresh_touched(con), 0)
    con.execute("ROLLBACK")
    con.close()
    return dt, cpu, n


def timed(fn, repeat: int = REPEAT) -> tuple[float, float]:
    """(p50 wall seconds, p50 CPU seconds of this process) after a warm-up (none when repeat
    is 0: one timed run); CPU is printed too because the benchmark machine is shared and wall
    time there includes waiting for a core."""
    if repeat:
        fn()
    xs, cs = [], []
    for _ in range(max(1, repeat)):
        r0 = resource.getrusage(resource.RUSAGE_SELF)
        t = time.perf_counter()
        fn()
        xs.append(time.perf_counter() - t)
        r1 = resource.getrusage(resource.RUSAGE_SELF)
        cs.append(r1.ru_utime - r0.ru_utime + r1.ru_stime - r0.ru_stime)
    return statistics.median(xs), statistics.median(cs)


def _intervals(con, key: str, lo: int, hi: int, d_to: date, outgoing: bool) -> pd.DataFrame:
    return con.execute(f"""SELECT {key} AS line, answer_s AS a, end_s AS e FROM line_calls
        WHERE day <= CAST(? AS DATE) AND end_s > ? AND answer_s < ? AND end_s > answer_s
        {"AND direction = 'outgoing'" if outgoing else ""}""", [d_to.isoformat(), lo, hi]).df()


def pandas_explode(con, key, lo, hi, d_to, outgoing) -> dict:
    """Straightforward: every call exploded into the minutes it touches (line by line)."""
    df = _intervals(con, key, lo, hi, d_to, outgoing)
    idx = pd.RangeIndex((hi - lo) // 60)
    out = {}
    for line, g in df.groupby("line"):
        s = (g["a"].clip(lower=lo) - lo) // 60
        e = (g["e"].clip(upper=hi) - 1 - lo) // 60
        minutes = pd.Series([range(x, y + 1) for x, y in zip(s, e, strict=True)]).explode()
        conc = minutes.astype("int64").value_counts().reindex(idx, fill_value=0)
        b = conc.groupby(conc.index // 15).agg(["max", "mean"])
        out[line] = (b, conc.value_counts())
    return out


def numpy_cumsum(con, key, lo, hi, d_to, outgoing) -> dict:
    """Vectorised: +1 / -1 per minute and a cumulative sum."""
    df = _intervals(con, key, lo, hi, d_to, outgoing)
    nmin = (hi - lo) // 60
    out = {}
    for line, g in df.groupby("line"):
        s = ((g["a"].clip(lower=lo) - lo) // 60).to_numpy()
        e = ((g["e"].clip(upper=hi) - 1 - lo) // 60).to_numpy()
        diff = np.zeros(nmin + 1, dtype=np.int64)
        np.add.at(diff, s, 1)
        np.add.at(diff, e + 1, -1)
        conc = pd.Series(np.cumsum(diff)[:nmin])
        b = conc.groupby(conc.index // 15).agg(["max", "mean"])
        out[line] = (b, conc.value_counts())
    return out


def _swept(con, rid: str, p: Params):
    with coincidence_days.disabled():
        return run(con, rid, p)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--calls", type=int, default=10_000_000)
    ap.add_argument("--src", type=Path, default=None)
    ap.add_argument("--rebuild", action="store_true")
    ap.add_argument("--no-pandas", action="store_true")
    args = ap.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    store = OUT / f"coincidences_{args.calls}.duckdb"
    if args.rebuild or not store.exists():
        build(source(args.src), store, args.calls)
    t_ref, c_ref, n_ref = refresh_one_copy(store)
    con = db.connect(store, read_only=True)
    n = con.execute("SELECT count(*) FROM line_calls").fetchone()[0]
    first, last = con.execute("SELECT min(day), max(day) FROM line_calls").fetchone()
    print(f"store: {n:,} calls on a line, {first} .. {last}; summaries of the days of one "
          f"copy ({n_ref:,} calls) re-swept in {t_ref:.2f} s wall, {c_ref:.2f} s cpu; "
          f"p50 of {REPEAT} after a warm-up (swept, old: one run after a warm-up)")
    print(f"{'report':22} {'days':>4} {'calls':>10} {'new s':>6} {'cpu':>5} {'swept':>6} "
          f"{'cpu':>5} {'old s':>6} {'cpu':>5} {'/old':>6} {'cpu':>6} {'/issue':>6} "
          f"{'target':>7}" + ("" if args.no_pandas else f" {'explode s':>9} {'cumsum s':>8}"))
    for name, days in (("year", 365), ("month", 30)):
        d0, d1 = max(first, last - timedelta(days=days - 1)), last
        lo, hi = _epoch(d0), _epoch(d1 + timedelta(days=1))
        held = con.execute("SELECT count(*) FROM line_calls WHERE day BETWEEN ? AND ? AND "
                           "answer_s IS NOT NULL", [d0, d1]).fetchone()[0]
        for rid, key, outgoing in (("cdr.coincidences", "gateway", False),
                                   ("cdr.coincidences_out", "out_config", True)):
            p = Params(date_from=d0, date_to=d1)
            t, cpu = timed(lambda r=rid, p=p: run(con, r, p))
            t_sw, c_sw = timed(lambda r=rid, p=p: _swept(con, r, p), 1)
            t_old, c_old = timed(lambda k=key, o=outgoing, lo=lo, hi=hi, d1=d1:
                                 old_sweep(con, k, lo, hi, d1, o), 1)
            ok = "ok" if t <= TARGET[name] else "MISS"
            line = (f"{rid:22} {(d1 - d0).days + 1:4} {held:10,} {t:6.2f} {cpu:5.2f} "
                    f"{t_sw:6.2f} {c_sw:5.2f} {t_old:6.2f} {c_old:5.2f} {t / t_old:6.3f} "
                    f"{cpu / max(c_old, 1e-9):6.3f} {t / BASELINE[name]:6.3f} "
                    f"{'<= ' + str(TARGET[name]):>7} {ok}")
            if not args.no_pandas:
                b1, _c = timed(lambda k=key, o=outgoing, lo=lo, hi=hi, d1=d1:
                               pandas_explode(con, k, lo, hi, d1, o), 1)
                b2, _c = timed(lambda k=key, o=outgoing, lo=lo, hi=hi, d1=d1:
                               numpy_cumsum(con, k, lo, hi, d1, o))
                line += f" {b1:9.2f} {b2:8.2f}"
            print(line, flush=True)
    print("new = the report from the day summaries; swept = the same report swept from "
          "line_calls per line and day (the path of line subsets); old = the previous report "
          "SQL alone; ratios: /old = new / old (wall, cpu), /issue = new wall / the issue's "
          "baseline for 10M calls (year 54 s, month 0.6 s)")


if __name__ == "__main__":
    main()
