"""The background threads are stopped and joined before the interpreter ends: a daemon thread
still inside a DuckDB call at exit aborts the process (duckdb#13904), as CI saw once after a
green run."""

from __future__ import annotations

import subprocess
import sys

BUSY = """
import sys, threading, time, duckdb
con = duckdb.connect()
stop = threading.Event()
def loop():
    cur = con.cursor()
    while not stop.is_set():
        cur.execute("SELECT sum(i) FROM range(3000000) t(i)").fetchall()
if sys.argv[1] == "spawn":
    from pbxlens import background
    background.spawn("busy", loop, stop)
else:
    threading.Thread(target=loop, daemon=True).start()
time.sleep(0.3)
"""


def _exit_code(how: str) -> int:
    return subprocess.run([sys.executable, "-c", BUSY, how], capture_output=True,
                          timeout=60).returncode


def test_a_spawned_thread_inside_duckdb_does_not_abort_the_exit():
    assert [_exit_code("spawn") for _ in range(3)] == [0, 0, 0]


def test_the_unmanaged_thread_is_what_aborts():
    # The cause, shown: without the join the same program ends with SIGABRT.
    assert -6 in [_exit_code("raw") for _ in range(3)]


STOP_ALL = """
import logging, threading
from pbxlens import background
stop, wake = threading.Event(), threading.Event()
passes = []
t = background.start_loop("test-loop", lambda: passes.append(1), stop, wake, 3600,
                          logging.getLogger("test"))
assert background.stop_all(timeout=5) == []
assert not t.is_alive() and stop.is_set() and passes == [1], passes
"""


def test_stop_all_sets_the_events_and_joins():
    # In a process of its own: here it would stop the shared live server's threads too.
    r = subprocess.run([sys.executable, "-c", STOP_ALL], capture_output=True, timeout=60)
    assert r.returncode == 0, r.stderr.decode()
