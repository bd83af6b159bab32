"""Throughput benchmark of the simulator: ~200k calls written as cdr_detailed.csv.

Usage: .venv/bin/python bench/simulate.py [--calls 200000] [--calls-per-day 2000] [--out DIR]
       [--formats csv-detailed] [--writer-process auto|yes|no] [--repeat 1]
       [--scenario contact-center]
Prints calls/s (wall clock, as ``generate`` measures it), the CPU seconds of this process and of
the writer process (which overlap on a multi-core machine; under CPU contention they tell what an
idle machine would do better than the wall clock), and peak RSS of each (resource.getrusage).
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

from pbxlens.simulate import generate


def _cpu(who: int) -> float:
    r = resource.getrusage(who)
    return r.ru_utime + r.ru_stime


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--calls", type=int, default=200_000)
    ap.add_argument("--calls-per-day", type=int, default=None,
                    help="default: the scenario's (2000 for the contact center)")
    ap.add_argument("--scenario", default="contact-center")
    ap.add_argument("--formats", default="csv-detailed")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--out", type=Path, default=None)
    ap.add_argument("--writer-process", choices=("auto", "yes", "no"), default="auto")
    ap.add_argument("--repeat", type=int, default=1)
    a = ap.parse_args()
    from pbxlens.simulate import get_scenario

    cpd = a.calls_per_day or get_scenario(a.scenario).calls_per_day
    days = max(1, round(a.calls / cpd))
    wp = {"auto": None, "yes": True, "no": False}[a.writer_process]
    for _ in range(a.repeat):
        c0, k0 = _cpu(resource.RUSAGE_SELF), _cpu(resource.RUSAGE_CHILDREN)
        w0 = time.perf_counter()
        with tempfile.TemporaryDirectory() as tmp:
            out = a.out or Path(tmp)
            s = generate(out, days=days, calls_per_day=cpd, seed=a.seed,
                         start=date(2025, 1, 1), formats=a.formats.split(","),
                         writer_process=wp, scenario=a.scenario)
            size = sum(f.stat().st_size for f in s.files)
        wall = time.perf_counter() - w0
        cpu_main = _cpu(resource.RUSAGE_SELF) - c0
        cpu_writer = _cpu(resource.RUSAGE_CHILDREN) - k0
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
        rss_w = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        print(f"scenario={a.scenario} calls={s.calls} legs={s.legs} days={days} "
              f"seconds={s.seconds:.2f} "
              f"calls/s={s.calls / s.seconds:,.0f} bytes={size:,} peak_rss={rss / 1024:.0f} MiB "
              f"writer_peak_rss={rss_w / 1024:.0f} MiB cpu_main={cpu_main:.2f}s "
              f"cpu_writer={cpu_writer:.2f}s (wall {wall:.2f}s; calls per main-CPU s "
              f"{s.calls / cpu_main:,.0f})", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
