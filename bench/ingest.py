"""Ingest benchmark: `pbxlens ingest` of 1M simulated calls (detailed CSV) against DuckDB alone
loading the same file (CREATE TABLE t AS SELECT * FROM read_csv(...)) in the same run.

Targets (issue "Foundation"): ratio <= 2.0, peak RSS <= 2 GB.
Usage: python bench/ingest.py [--calls 1000000] [--repeat 2]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

OUT = Path(__file__).parent / "out" / "ingest"


def timed(cmd: list[str]) -> tuple[float, float]:
    """Wall seconds and peak RSS (MiB) of one child process."""
    t0 = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-c",
         "import resource, subprocess, sys, json;"
         "r = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL);"
         "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss);"
         "sys.exit(r.returncode)", *cmd],
        capture_output=True, text=True, check=True)
    return time.perf_counter() - t0, int(proc.stdout.strip()) / 1024


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--calls", type=int, default=1_000_000)
    ap.add_argument("--repeat", type=int, default=2)
    args = ap.parse_args()
    per_day = 20_000
    days = max(1, args.calls // per_day)
    data = OUT / f"sim_{days}x{per_day}"
    csv = data / "cdr_detailed.csv"
    if not csv.exists():
        from pbxlens.simulate import generate

        print(f"generating {days * per_day:,} calls into {data} ...", flush=True)
        s = generate(data, days=days, calls_per_day=per_day, seed=42, start=date(2026, 1, 5),
                     formats=["csv-detailed"])
        print(f"  {s.calls:,} calls, {s.legs:,} path lines in {s.seconds:.1f} s "
              f"({s.calls / s.seconds:,.0f} calls/s)")
    size = csv.stat().st_size / 2**20
    rows = sum(1 for _ in csv.open("rb")) - 1
    baseline_sql = f"CREATE TABLE t AS SELECT * FROM read_csv('{csv}')"
    results = {"duckdb": [], "pbxlens": []}
    for i in range(args.repeat):
        for name in ("duckdb", "pbxlens"):
            db = OUT / f"{name}_{i}.duckdb"
            db.unlink(missing_ok=True)
            Path(f"{db}.wal").unlink(missing_ok=True)
            if name == "duckdb":
                cmd = [sys.executable, "-c",
                       f"import duckdb; duckdb.connect({str(db)!r}).execute({baseline_sql!r})"]
            else:
                cmd = [sys.executable, "-m", "pbxlens", "ingest", str(csv), "--db", str(db), "--json"]
            results[name].append(timed(cmd))
            db.unlink(missing_ok=True)
    best = {k: min(v) for k, v in results.items()}
    ratio = best["pbxlens"][0] / best["duckdb"][0]
    print(f"\nfile: {csv.name}, {rows:,} rows, {size:,.0f} MiB")
    print(f"{'run':<10}{'best wall s':>12}{'peak RSS MiB':>14}")
    for k, (wall, rss) in best.items():
        print(f"{k:<10}{wall:>12.2f}{rss:>14.0f}")
    print(f"\nratio pbxlens/duckdb: {ratio:.2f} (target <= 2.0); "
          f"peak RSS {best['pbxlens'][1]:.0f} MiB (target <= 2048)")
    print(f"throughput: {rows / best['pbxlens'][0]:,.0f} rows/s")


if __name__ == "__main__":
    main()
