"""The server's background threads (job loops, delivery sender, export worker, scheduler): each
one spawned here, and all of them stopped and joined before the interpreter ends.

Why the join: at exit, Python ends a daemon thread that is still inside a DuckDB call by unwinding
it through DuckDB's C++ frames, and that aborts the whole process ("terminate called without an
active exception", duckdb#13904) — a server stopped, or a test run that passed, exits with
SIGABRT. So nothing here is left running when `atexit` hands over to the finalizer."""

from __future__ import annotations

import atexit
import logging
import threading
import time
from collections.abc import Callable

_lock = threading.Lock()
_spawned: list[threading.Thread] = []
_events: list[threading.Event] = []  # set at exit: the stop events, and the wake-ups


def spawn(name: str, target: Callable[[], object], stop: threading.Event,
          wake: threading.Event | None = None) -> threading.Thread:
    """Start the daemon thread `name`; `target` must return soon after `stop` is set (`wake`,
    when it waits on one, is set too)."""
    t = threading.Thread(target=target, name=name, daemon=True)
    with _lock:
        _spawned[:] = [s for s in _spawned if s.is_alive()]
        _spawned.append(t)
        _events.extend(e for e in (stop, wake) if e is not None and e not in _events)
    t.start()
    return t


def stop_all(timeout: float = 15.0) -> list[str]:
    """Set every stop event and join every spawned thread (at most `timeout` s in all); the
    names of the threads still running afterwards."""
    with _lock:
        events, threads = list(_events), list(_spawned)
    for event in events:
        event.set()
    deadline = time.monotonic() + timeout
    for t in threads:
        if t is not threading.current_thread():
            t.join(max(0.0, deadline - time.monotonic()))
    return [t.name for t in threads if t.is_alive()]


def start_loop(name: str, one_pass: Callable[[], object], stop: threading.Event,
               wake: threading.Event, interval_s: float, log: logging.Logger
               ) -> threading.Thread:
    """Start the daemon thread `name` running `one_pass()` every `interval_s` (or at once when
    `wake` is set) until `stop` is set; a failed pass (the operations store down) is logged and
    the loop goes on."""

    def loop() -> None:
        while not stop.is_set():
            try:
                one_pass()
            except Exception as exc:  # logged once per pass; the loop goes on
                log.warning("%s pass failed: %s", name, exc)
            wake.wait(interval_s)
            if not stop.is_set():
                wake.clear()

    return spawn(name, loop, stop, wake)


atexit.register(stop_all)
