"""DuckDB's worker threads and the writer's lanes run at a lower CPU priority than the
server's request threads (Linux): checked in a process of its own, on the real threads."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="Linux only")

PROGRAM = """
import os, threading, duckdb
from pbxlens.store import priority
con = duckdb.connect()
con.execute("SET threads = 2")
con.execute("SELECT sum(i) FROM range(100000) t(i)").fetchall()
lane = threading.Thread(target=lambda: (priority.lower_this_thread(), done.wait()))
done = threading.Event()
lane.start()
n = priority.lower_engine_threads()
def nice(tid):
    return int(open(f"/proc/self/task/{tid}/stat").read().rsplit(")", 1)[1].split()[16])
python = {t.native_id for t in threading.enumerate()}
others = [int(t) for t in os.listdir("/proc/self/task") if int(t) not in python]
print(n, nice(os.getpid()), nice(lane.native_id), sorted({nice(t) for t in others}))
done.set()
"""


def test_engine_threads_and_lanes_yield_to_requests():
    out = subprocess.run([sys.executable, "-c", PROGRAM], capture_output=True, text=True,
                         timeout=60)
    assert out.returncode == 0, out.stderr
    n, main, lane, others = out.stdout.split(maxsplit=3)
    assert int(n) >= 1  # DuckDB's worker
    assert (main, lane, others.strip()) == ("0", "10", "[10]")
