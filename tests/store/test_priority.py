"""DuckDB's worker threads and the writer's main lane run at a lower CPU priority than the
server's request threads, the inbox lane at theirs (Linux): checked on the real threads."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from pbxlens.store import Stores, writer

pytestmark = pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="Linux only")

PROGRAM = """
import os, threading, duckdb
from pbxlens.store import priority
con = duckdb.connect()
con.execute("SET threads = 2")
con.execute("SELECT sum(i) FROM range(100000) t(i)").fetchall()
lane = threading.Thread(target=lambda: (priority.lower_this_thread(), lowered.set(), done.wait()))
done, lowered = threading.Event(), threading.Event()
lane.start()
lowered.wait()
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


def test_the_main_lane_yields_the_cpu_and_the_inbox_lane_does_not(tmp_path):
    """Ingests and rebuilds (main lane) run below the request threads; the inbox's moves keep
    their lag (2 s) under load, so their lane stays at the requests' priority."""
    def nice(tid: int) -> int:
        with open(f"/proc/self/task/{tid}/stat") as f:
            return int(f.read().rsplit(")", 1)[1].split()[16])

    with Stores(tmp_path / "s.duckdb", threaded_writer=True) as s:
        s.writer.start()
        got = {lane: s.writer.run("test", lane, lambda ctx: nice(threading.get_native_id()),
                                  lane=lane, record=False, timeout=30)
               for lane in writer.LANES}
    base = nice(threading.get_native_id())  # 10 cannot be set below a higher base niceness
    assert got == {"main": max(10, base), "inbox": base}


def test_a_lowered_lane_writes_the_operations_store_at_the_requests_priority(tmp_path):
    """What a lowered lane runs through `priority.unlowered` (the push of callback requests, a
    job's progress: both hold SQLite's write turn) runs at the priority the request threads
    have, so that a webhook waiting for the turn never waits for a thread at a tenth of its
    CPU weight; the lane's own work stays lowered."""
    from pbxlens.store import priority

    def nice(tid: int) -> int:
        with open(f"/proc/self/task/{tid}/stat") as f:
            return int(f.read().rsplit(")", 1)[1].split()[16])

    def here() -> int:
        return nice(threading.get_native_id())

    with Stores(tmp_path / "s.duckdb", threaded_writer=True) as s:
        s.writer.start()
        lane, helped = s.writer.run("test", "main", lambda ctx: (here(), priority.unlowered(here)),
                                    record=False, timeout=30)
    base = here()
    assert (lane, helped) == (max(10, base), base)
    assert priority.unlowered(here) == base  # from a thread never lowered: run in place


def test_the_main_lane_leaves_a_core_to_the_intake_while_it_has_jobs(tmp_path):
    """With cores reserved (a server with intake processes), DuckDB has one thread fewer (at
    least one) while the main lane runs a job, and all of them again once the lane is idle;
    with none reserved (the server answers the requests itself) it keeps them all."""
    def threads(cur) -> int:
        return int(cur.execute("SELECT current_setting('threads')").fetchone()[0])

    with Stores(tmp_path / "s.duckdb", threaded_writer=True) as s:
        with s.cursor() as cur:
            cur.execute("SET threads = 3")
        s.writer.start()
        alone = s.writer.run("test", "a job", lambda ctx: threads(ctx.con), record=False,
                             timeout=30)
        s.writer.reserve_cores(1)
        during = s.writer.run("test", "a job", lambda ctx: threads(ctx.con), record=False,
                              timeout=30)
        inbox = s.writer.run("test", "a move", lambda ctx: threads(ctx.con), lane="inbox",
                             record=False, timeout=30)
        deadline = time.monotonic() + 10
        with s.cursor() as cur:
            while threads(cur) != 3 and time.monotonic() < deadline:
                time.sleep(0.01)
            after = threads(cur)
            cur.execute("SELECT sum(i) FROM range(10000000) t(i)").fetchall()  # the workers run
    assert (alone, during, after) == (3, 2, 3)
    assert inbox in (2, 3)  # the inbox lane runs on whatever pool there is
