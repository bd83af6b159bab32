"""Scale benchmark (issue 11): a store as a tiled Parquet lake, every report over the lake
(raw derived tables vs hourly rollups) for a one-month and a one-year range, Spark local[2]
beside them, and lake export throughput against DuckDB's own COPY ... (FORMAT parquet).

    python bench/scale.py --src STORE.duckdb [--tiles N] [--spark] [--out DIR]

The source store is copied first (never written). Tiling repeats each exported partition
under N tenant names (symlinks), so a 10M-call store reads as an N x 10M lake; the target is
100M calls (10 tiles of the 10M bench store)."""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pbxlens.reports import all_reports, engine
from pbxlens.reports.filters import Params
from pbxlens.scale import lake, rollups
from pbxlens.store import analytics as db

TABLES = ["call_facts", "queue_visits", "agent_legs", *(r.table for r in rollups.ROLLUPS),
          "rollup_meta", "queues", "operators", "accounts"]


def _t(fn):
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def tile(src: Path, dst: Path, tiles: int) -> None:
    """dst = src with every tenant=X partition repeated as tenant=X_k (symlinked files)."""
    shutil.rmtree(dst, ignore_errors=True)
    dst.mkdir(parents=True)
    os.symlink((src / lake.SCHEMA_DIR).resolve(), dst / lake.SCHEMA_DIR)
    man = lake.read_manifest(src)
    for name, entry in man["tables"].items():
        parts = {}
        for key, p in entry.get("partitions", {}).items():
            for k in range(tiles):
                t = p.get("tenant")
                if key.startswith("tenant="):
                    t = f"{p['tenant']}_{k}"
                    nkey = key.replace(f"tenant={p['tenant']}", f"tenant={t}", 1)
                else:
                    if k:
                        continue
                    nkey = key
                (dst / name / nkey).mkdir(parents=True, exist_ok=True)
                for f in (src / name / key).iterdir():
                    os.symlink(f.resolve(), dst / name / nkey / f.name)
                parts[nkey] = {**p, "tenant": t}
        entry["partitions"] = parts
    lake._write_manifest(dst, man)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--src", type=Path, default=Path("bench/out/reports.duckdb"))
    ap.add_argument("--out", type=Path, default=Path("bench/out/scale"))
    ap.add_argument("--tiles", type=int, default=10)
    ap.add_argument("--spark", action="store_true")
    ap.add_argument("--skip-export", action="store_true", help="reuse OUT/lake1")
    ap.add_argument("--months", type=int, default=13,
                    help="export the last N months (enough for the one-year range)")
    ap.add_argument("--spark-reports", default="cdr.dashboard,cdr.operators",
                    help="reports timed on Spark (year range); 'all' for every one")
    args = ap.parse_args()
    out = args.out
    out.mkdir(parents=True, exist_ok=True)
    store = out / "store.duckdb"
    if not store.exists():
        print(f"copying {args.src} ...", flush=True)
        shutil.copy(args.src, store)
    con = db.connect(store)  # applies migration 0011
    built = {r[0] for r in con.execute("SELECT name FROM rollup_meta").fetchall()}
    for r in rollups.ROLLUPS:
        if r.table not in built:
            print(f"{r.table} built in {_t(lambda r=r: rollups.rebuild(con, r)):.1f} s",
                  flush=True)
    n_calls = con.execute("SELECT count(*) FROM call_facts").fetchone()[0]
    lo, hi = con.execute("SELECT min(day), max(day) FROM call_facts").fetchone()
    rows = {t: con.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in TABLES}
    print(f"store: {n_calls:,} calls {lo}..{hi}; rollup rows " + ", ".join(
        f"{t} {rows[t]:,}" for t in TABLES if t.endswith("_hourly")), flush=True)

    # export throughput: the lake export vs a plain COPY of the same tables
    y, m = divmod(hi.year * 12 + hi.month - 1 - (args.months - 1), 12)
    first = date(y, m + 1, 1)
    lk = out / "lake1"
    if args.skip_export:
        con.close()
        return bench_reports(args, out, lk, n_calls, hi)
    shutil.rmtree(lk, ignore_errors=True)
    st = lake.export(con, lk, d_from=first, tables=TABLES)
    cp = out / "copy"
    shutil.rmtree(cp, ignore_errors=True)
    cp.mkdir()
    tot = 0
    t0 = time.perf_counter()
    for t in TABLES:  # the same rows, one plain COPY per table
        has_day = con.execute("SELECT count(*) FROM information_schema.columns WHERE "
                              "table_name = ? AND column_name = 'day'", [t]).fetchone()[0]
        src = f"(SELECT * FROM {t} WHERE day >= DATE '{first}')" if has_day else t
        tot += con.execute(f"SELECT count(*) FROM {src}").fetchone()[0]
        con.execute(f"COPY {src} TO '{cp}/{t}.parquet' (FORMAT parquet, COMPRESSION zstd)")
    t_copy = time.perf_counter() - t0
    t_again = lake.export(con, lk, d_from=first, tables=TABLES).seconds
    wr = st.rows_written or 1
    print(f"export-lake {st.rows_written:,} rows in {st.seconds:.1f} s ({wr / st.seconds:,.0f} "
          f"rows/s, {st.partitions_written} partitions); COPY (FORMAT parquet) {tot:,} rows "
          f"in {t_copy:.1f} s ({tot / t_copy:,.0f} rows/s): throughput ratio "
          f"{(tot / t_copy) / (wr / st.seconds):.2f}x; unchanged re-export {t_again:.1f} s",
          flush=True)
    con.close()
    bench_reports(args, out, lk, n_calls, hi)


def bench_reports(args, out: Path, lk: Path, n_calls: int, hi: date) -> None:
    tl = out / f"lake{args.tiles}"
    tile(lk, tl, args.tiles)
    n_lake = sum(p["rows"] for p in lake.read_manifest(tl)["tables"]["call_facts"]
                 ["partitions"].values())
    print(f"tiled lake: {args.tiles} tiles, {n_lake:,} calls (store: {n_calls:,})", flush=True)
    lcon = lake.open_duckdb(tl)
    end = hi
    month = Params(date_from=date(end.year, end.month, 1), date_to=end)
    year = Params(date_from=date(end.year - 1, end.month, end.day), date_to=end)
    spark = None
    if args.spark:
        from pbxlens.scale.spark import SparkEngine

        t0 = time.perf_counter()
        spark = SparkEngine(tl)
        print(f"spark session {time.perf_counter() - t0:.1f} s", flush=True)
    print(f"{'report':28} {'range':6} {'lake raw s':>10} {'rollups s':>10} {'ratio':>6} "
          f"{'spark raw s':>11} {'spark rollups s':>15}")
    for defn in all_reports():
        for label, p in (("month", month), ("year", year)):
            with rollups.disabled():
                raw = _t(lambda p=p, d=defn: engine.run(lcon, d.id, p))
            ru = _t(lambda p=p, d=defn: engine.run(lcon, d.id, p))
            sr = su = float("nan")
            if spark is not None and label == "year" and (
                    args.spark_reports == "all" or defn.id in args.spark_reports.split(",")):
                with rollups.disabled():
                    sr = _t(lambda p=p, d=defn: engine.run(spark, d.id, p))
                su = _t(lambda p=p, d=defn: engine.run(spark, d.id, p))
            print(f"{defn.id:28} {label:6} {raw:10.2f} {ru:10.2f} {raw / ru:6.1f} "
                  f"{sr:11.2f} {su:15.2f}", flush=True)


if __name__ == "__main__":
    main()
