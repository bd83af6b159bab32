"""CPU priority inside the server process (Linux): the analytics work yields the CPU to the
request threads.

On a small machine an ingest keeps every core busy in DuckDB's threads; a request thread that
wakes (a booking's next statement, a webhook's commit) then waits for a time slice behind them,
at every wake-up, and an operator's click that needs a millisecond of CPU took hundreds. With
DuckDB's worker threads and the writer's lanes at a higher niceness, the scheduler runs a
request thread as soon as it is ready; with nothing else to run, the analytics work still gets
every core. Elsewhere (other systems, no permission) this does nothing.

A lowered lane must not hold a lock that request threads wait for: at niceness 10 it gets a
tenth of their CPU weight while they wait for it (priority inversion). Its operations-store
writes (the push of callback requests, a job's progress: each holds SQLite's write turn) run
through `unlowered`, in a thread at the priority the lane had before it was lowered (an
unprivileged thread cannot raise its priority back)."""

from __future__ import annotations

import contextlib
import logging
import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TypeVar

NICENESS = 10
log = logging.getLogger("pbxlens.priority")
R = TypeVar("R")
_lowered: set[int] = set()  # the native ids of the threads lower_this_thread lowered
_unlowered: ThreadPoolExecutor | None = None
_start = threading.Lock()


def lower_this_thread(niceness: int = NICENESS) -> None:
    """The calling thread at `niceness` (a writer lane)."""
    global _unlowered
    with _start:
        if _unlowered is None:
            _unlowered = ThreadPoolExecutor(1, thread_name_prefix="pbxlens-unlowered")
            _unlowered.submit(int).result()  # its thread starts now, at this thread's priority
    tid = threading.get_native_id()
    if _renice(tid, niceness):
        _lowered.add(tid)


def unlowered(fn: Callable[..., R], *args, **kwargs) -> R:
    """`fn(*args, **kwargs)`; from a lowered thread, in the thread at its former priority
    (the caller waits: it is the same work, one at a time)."""
    if _unlowered is None or threading.get_native_id() not in _lowered:
        return fn(*args, **kwargs)
    return _unlowered.submit(fn, *args, **kwargs).result()


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


class CoreReserve:
    """DuckDB's threads while the writer's main lane has jobs: every core but `reserved` (at
    least one), and all of them again once the lane is idle. `reserved` is 0 until the server
    starts intake processes (`writer.AnalyticsWriter.reserve_cores`).

    Niceness alone did not leave the intake processes enough: on two cores, with both in an
    ingest's DuckDB threads (niceness 10), 50 operators' bookings on PostgreSQL took p50 / p99
    20 / 125 ms, with one core left to them 11 / 64 ms (`bench/ops.py`). The scheduler lets a
    running thread finish its slice before a woken one runs, and every round trip of a request
    (HTTP, each statement, on both sides) is a wake-up. Without intake processes the server
    answers the requests itself, and there the narrowing made the webhooks slower (p99 844
    against 80 ms in one run; the cause was not found): it stays off. DuckDB's `threads` is one
    setting for the database, so a report read meanwhile runs on the narrowed pool too. The
    workers DuckDB starts when the pool widens again are started by the lane's thread, and
    inherit its niceness."""

    def __init__(self, con) -> None:
        self._con = con  # the database's connection: each use takes a cursor of its own
        self.reserved = 0
        self.full = 0  # DuckDB's threads before the pool narrowed (read as it narrows)
        self.narrowed = False

    def narrow(self) -> None:
        if self.narrowed or self.reserved <= 0:
            return
        cur = self._con.cursor()
        try:
            self.full = int(cur.execute("SELECT current_setting('threads')").fetchone()[0])
        finally:
            cur.close()
        if self.full - self.reserved >= 1:
            self._set(self.full - self.reserved)
            self.narrowed = True

    def widen(self) -> None:
        if self.narrowed:
            self._set(self.full)
            self.narrowed = False

    def _set(self, threads: int) -> None:
        import duckdb

        cur = self._con.cursor()
        try:
            cur.execute("SET threads = ?", [threads])
        except duckdb.Error as exc:  # the jobs run anyway, on the pool as it is
            log.warning("could not set DuckDB's threads to %d: %s", threads, exc)
        finally:
            cur.close()


def _renice(tid: int, niceness: int) -> bool:
    # on Linux a thread id names one thread for setpriority
    with contextlib.suppress(OSError, AttributeError):
        os.setpriority(os.PRIO_PROCESS, tid, niceness)
        return True
    return False
