"""Coincidence benchmark: exact concurrency at one-second resolution over a year of 10M calls.

Store: the 10M-call store of bench/reports.py (50 tiled copies of 200k simulated calls, 20 days
apart, ~1000 days) is COPIED to bench/out/coincidences_src.duckdb (never opened in place), its
line_calls derived table is built by migration 0013, and a dense year is made from it in
bench/out/coincidences.duckdb: copy k is shifted back by 13·k days (k = the unique_id suffix),
so the 10M calls fall into 370 days (every interval keeps its length). The gateway and outbound
configuration limits come along.

Measured in the same run: `cdr.coincidences` and `cdr.coincidences_out` over the last 365 days
(p50 of 2 after a warm-up), against two pandas per-minute implementations of the same counts
(per line and 15-minute bucket: peak and mean of the per-minute concurrency; minutes at >= k):
- straightforward: each call exploded into the minutes it touches (Kolmisoft's rule), counted
  with value_counts, resampled to 15 minutes;
- vectorised: +1/-1 per minute with numpy and a cumulative sum (a stronger baseline).
Both baselines include reading the intervals from DuckDB into pandas, as the report reads them.

    python bench/coincidences.py [--src PATH]     (default /work/main/bench/out/reports.duckdb)
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

from pbxlens.reports import Params, run  # noqa: E402
from pbxlens.reports.coincidence import _epoch  # noqa: E402
from pbxlens.store import analytics as db  # noqa: E402

OUT = ROOT / "bench" / "out"
SRC = OUT / "coincidences_src.duckdb"
STORE = OUT / "coincidences.duckdb"
REPEAT = 2
SHIFT_DAYS = 13  # 20-day copies moved 13 days closer each: 50 copies in ~370 days


def build(original: Path) -> None:
    if not SRC.exists():
        t = time.perf_counter()
        shutil.copyfile(original, SRC)
        print(f"copied the 10M store in {time.perf_counter() - t:.0f} s", flush=True)
    t = time.perf_counter()
    db.connect(SRC).close()  # migration 0013 derives line_calls from calls + call_legs
    print(f"line_calls derived (migration 0013) in {time.perf_counter() - t:.0f} s", flush=True)
    STORE.unlink(missing_ok=True)
    con = db.connect(STORE)
    t = time.perf_counter()
    con.execute(f"ATTACH '{SRC}' AS src (READ_ONLY)")
    k = "coalesce(TRY_CAST(regexp_extract(unique_id, '-(\\d+)$', 1) AS INTEGER), 0)"
    shift = f"{k} * {SHIFT_DAYS} * 86400"
    con.execute(f"""INSERT INTO line_calls
        SELECT tenant, unique_id, leg_branch, day - CAST({k} * {SHIFT_DAYS} AS INTEGER),
          direction, gateway, out_config, start_s - {shift}, answer_s - {shift}, end_s - {shift}
        FROM src.line_calls ORDER BY 4, 8""")
    con.execute("INSERT INTO gateways SELECT * FROM src.gateways")
    con.execute("INSERT INTO outbound_configurations SELECT * FROM src.outbound_configurations")
    n = con.execute("SELECT count(*) FROM src.calls").fetchone()[0]
    con.execute("DETACH src")
    con.execute("CHECKPOINT")
    con.close()
    print(f"dense year built from {n:,} calls in {time.perf_counter() - t:.0f} s", flush=True)


def timed(fn, repeat: int = REPEAT) -> tuple[float, float]:
    """(p50 wall seconds, p50 CPU seconds of this process) after a warm-up; CPU is printed too
    because the benchmark machine is shared and wall time there includes waiting for a core."""
    fn()
    xs, cs = [], []
    for _ in range(repeat):
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


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--src", default="/work/main/bench/out/reports.duckdb")
    args = ap.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    if not STORE.exists():
        build(Path(args.src))
    con = db.connect(STORE, read_only=True)
    n = con.execute("SELECT count(*) FROM line_calls").fetchone()[0]
    last = con.execute("SELECT max(day) FROM line_calls").fetchone()[0]
    d0, d1 = last - timedelta(days=364), last
    lo, hi = _epoch(d0), _epoch(d1 + timedelta(days=1))
    held = con.execute("SELECT count(*) FROM line_calls WHERE day BETWEEN ? AND ? AND answer_s "
                       "IS NOT NULL", [d0, d1]).fetchone()[0]
    print(f"store: {n:,} calls on a line; year {d0} .. {d1}: {held:,} answered intervals; "
          f"p50 of {REPEAT} runs after a warm-up")
    print(f"{'report':22} {'p50 s':>6} {'cpu s':>6} {'explode s':>9} {'ratio':>6} "
          f"{'cumsum s':>8} {'ratio':>6}  target (ratios: wall / wall)")
    for rid, key, outgoing in (("cdr.coincidences", "gateway", False),
                               ("cdr.coincidences_out", "out_config", True)):
        p = Params(date_from=d0, date_to=d1)
        t, cpu = timed(lambda r=rid, p=p: run(con, r, p))
        base1, _c1 = timed(lambda k=key, o=outgoing: pandas_explode(con, k, lo, hi, d1, o), 1)
        base2, _c2 = timed(lambda k=key, o=outgoing: numpy_cumsum(con, k, lo, hi, d1, o))
        ok = "ok" if t <= 3.0 else "MISS"
        print(f"{rid:22} {t:6.2f} {cpu:6.2f} {base1:9.2f} {t / base1:6.2f} {base2:8.2f} "
              f"{t / base2:6.2f}  <= 3 s {ok}", flush=True)


if __name__ == "__main__":
    main()
