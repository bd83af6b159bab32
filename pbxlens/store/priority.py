"""CPU priority inside the server process (Linux): the analytics work yields the CPU to the
request threads.

On a small machine an ingest keeps every core busy in DuckDB's threads; a request thread that
wakes (a booking's next statement, a webhook's commit) then waits for a time slice behind them,
at every wake-up, and an operator's click that needs a millisecond of CPU took hundreds. With
DuckDB's worker threads and the writer's lanes at a higher niceness, the scheduler runs a
request thread as soon as it is ready; with nothing else to run, the analytics work still gets
every core. Elsewhere (other systems, no permission) this does nothing."""

from __future__ import annotations

import contextlib
import os
import threading
from pathlib import Path

NICENESS = 10


def lower_this_thread(niceness: int = NICENESS) -> None:
    """The calling thread at `niceness` (a writer lane)."""
    _renice(threading.get_native_id(), niceness)


def lower_engine_threads(niceness: int = NICENESS) -> int:
    """Every thread of the process that the interpreter did not start (DuckDB's worker pool),
    at `niceness`; returns how many."""
    tasks = Path("/proc/self/task")
    if not tasks.is_dir():
        return 0
    python = {t.native_id for t in threading.enumerate()}
    n = 0
    for entry in tasks.iterdir():
        tid = int(entry.name)
        if tid not in python and tid != os.getpid():
            n += _renice(tid, niceness)
    return n


def _renice(tid: int, niceness: int) -> bool:
    # on Linux a thread id names one thread for setpriority
    with contextlib.suppress(OSError, AttributeError):
        os.setpriority(os.PRIO_PROCESS, tid, niceness)
        return True
    return False
