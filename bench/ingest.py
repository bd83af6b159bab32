"""Ingest benchmark: `pbxlens ingest` of a simulated detailed CSV (until every post-batch step
is done: the command returns after the pipeline) against DuckDB alone loading the same file
(CREATE TABLE t AS SELECT * FROM read_csv(...)) in the same run; wall and CPU time (user +
system of the child process and its threads), peak RSS.

`--before REF` also runs the code of a git revision (exported with `git archive`) on the same
file in the same run, for a before/after table.

Targets (issue "Analytics at the speed of DuckDB"): ratio <= 2.0 in wall and CPU time, peak
RSS <= 2 GB.
Usage: python bench/ingest.py [--calls 1000000] [--repeat 2] [--before main]
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = Path(__file__).parent / "out" / "ingest"

_CHILD = (
    "import resource, subprocess, sys, time, json;"
    "t = time.perf_counter();"
    "r = subprocess.run(sys.argv[2:], stdout=subprocess.DEVNULL, cwd=sys.argv[1]);"
    "u = resource.getrusage(resource.RUSAGE_CHILDREN);"
    "print(json.dumps([time.perf_counter() - t, u.ru_utime + u.ru_stime, u.ru_maxrss / 1024]));"
    "sys.exit(r.returncode)"
)


def timed(cmd: list[str], cwd: Path) -> tuple[float, float, float]:
    """Wall seconds, CPU seconds and peak RSS (MiB) of one child process."""
    proc = subprocess.run([sys.executable, "-c", _CHILD, str(cwd), *cmd],
                          capture_output=True, text=True)
    if proc.returncode:
        sys.exit(f"{' '.join(cmd[:4])} ... in {cwd} failed (exit {proc.returncode}):\n"
                 + "\n".join(proc.stderr.strip().splitlines()[-15:]))
    wall, cpu, rss = json.loads(proc.stdout.strip().splitlines()[-1])
    return wall, cpu, rss


def profile(db: Path, wall: float) -> str:
    """Where an ingest spent its wall time, from what the store records: the file's read and
    normalize (parse_s) and load (load_s), each post-batch step, and the rest (start-up, the
    store's migrations, the pushes to the operations store, closing)."""
    import duckdb

    con = duckdb.connect(str(db), read_only=True)
    try:
        parts = list(zip(("parse", "load"), con.execute(
            "SELECT sum(parse_s), sum(load_s) FROM ingest_batches").fetchone(), strict=True))
        parts += con.execute("SELECT step, seconds FROM pipeline_steps ORDER BY finished_at"
                             ).fetchall()
    except duckdb.Error as exc:  # an older revision's store may lack these columns
        return f"(no profile: {str(exc).splitlines()[0]})"
    finally:
        con.close()
    parts.append(("rest", wall - sum(s for _, s in parts)))
    return ", ".join(f"{k} {s:.1f}" for k, s in parts) + " s"


def export_ref(ref: str) -> Path:
    """The package of a git revision, exported beside the results (never a checkout)."""
    sha = subprocess.run(["git", "rev-parse", "--short", ref], cwd=ROOT, capture_output=True,
                         text=True, check=True).stdout.strip()
    dest = OUT / f"rev_{sha}"
    if not (dest / "pbxlens").exists():
        shutil.rmtree(dest, ignore_errors=True)
        dest.mkdir(parents=True)
        archive = subprocess.run(["git", "archive", ref, "pbxlens"], cwd=ROOT,
                                 capture_output=True, check=True).stdout
        subprocess.run(["tar", "-x", "-C", str(dest)], input=archive, check=True)
    return dest


def make_data(calls: int) -> Path:
    per_day = 20_000
    days = max(1, calls // per_day)
    data = OUT / f"sim_{days}x{per_day}"
    csv = data / "cdr_detailed.csv"
    if not csv.exists():
        from pbxlens.simulate import generate

        print(f"generating {days * per_day:,} calls into {data} ...", flush=True)
        s = generate(data, days=days, calls_per_day=per_day, seed=42, start=date(2026, 1, 5),
                     formats=["csv-detailed"])
        print(f"  {s.calls:,} calls, {s.legs:,} path lines in {s.seconds:.1f} s "
              f"({s.calls / s.seconds:,.0f} calls/s)")
    return csv


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--calls", type=int, default=1_000_000)
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--before", help="git revision to compare with (e.g. main)")
    args = ap.parse_args()
    csv = make_data(args.calls).resolve()
    size = csv.stat().st_size / 2**20
    rows = sum(1 for _ in csv.open("rb")) - 1
    baseline_sql = f"CREATE TABLE t AS SELECT * FROM read_csv('{csv}')"
    runs = {"duckdb": ROOT, "pbxlens": ROOT}
    if args.before:
        runs[f"before ({args.before})"] = export_ref(args.before)
    results: dict[str, list[tuple[float, float, float]]] = {k: [] for k in runs}
    for i in range(args.repeat):
        for name, cwd in runs.items():
            # a fresh folder per run: the store, its WAL and the operations store beside it
            # (a later revision's Alembic head left there stops an earlier revision)
            here = (OUT / f"run_{i}").resolve()
            shutil.rmtree(here, ignore_errors=True)
            here.mkdir(parents=True)
            db = here / "store.duckdb"
            if name == "duckdb":
                cmd = [sys.executable, "-c",
                       f"import duckdb; duckdb.connect({str(db)!r}).execute({baseline_sql!r})"]
            else:
                cmd = [sys.executable, "-m", "pbxlens", "ingest", str(csv), "--db", str(db),
                       "--json"]
            results[name].append(timed(cmd, cwd))
            print(f"  run {i} {name}: wall {results[name][-1][0]:.1f} s, "
                  f"cpu {results[name][-1][1]:.1f} s", flush=True)
            if name != "duckdb":
                print(f"    {profile(db, results[name][-1][0])}", flush=True)
            shutil.rmtree(here, ignore_errors=True)
    best = {k: (min(r[0] for r in v), min(r[1] for r in v), max(r[2] for r in v))
            for k, v in results.items()}
    base = best["duckdb"]
    print(f"\nfile: {csv.name}, {rows:,} rows, {size:,.0f} MiB")
    print(f"{'run':<22}{'wall s':>9}{'cpu s':>9}{'wall ×':>9}{'cpu ×':>9}{'peak RSS MiB':>14}")
    for k, (wall, cpu, rss) in best.items():
        print(f"{k:<22}{wall:>9.2f}{cpu:>9.2f}{wall / base[0]:>9.2f}{cpu / base[1]:>9.2f}"
              f"{rss:>14.0f}")
    w, c, r = best["pbxlens"]
    print(f"\npbxlens/duckdb: wall {w / base[0]:.2f}, cpu {c / base[1]:.2f} (targets <= 2.0); "
          f"peak RSS {r:.0f} MiB (target <= 2048)")
    print(f"throughput: {rows / w:,.0f} rows/s")


if __name__ == "__main__":
    main()
