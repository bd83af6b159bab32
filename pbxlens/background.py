"""The server's background passes (delivery sender, export worker): one thread that runs a pass
every interval, or at once when woken, and keeps going when a pass fails (the operations store
down: the next interval tries again)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable


def start_loop(name: str, one_pass: Callable[[], object], stop: threading.Event,
               wake: threading.Event, interval_s: float, log: logging.Logger
               ) -> threading.Thread:
    """Start the daemon thread `name` running `one_pass()` until `stop` is set."""

    def loop() -> None:
        while not stop.is_set():
            try:
                one_pass()
            except Exception as exc:  # logged once per pass; the loop goes on
                log.warning("%s pass failed: %s", name, exc)
            wake.wait(interval_s)
            wake.clear()

    t = threading.Thread(target=loop, name=name, daemon=True)
    t.start()
    return t
