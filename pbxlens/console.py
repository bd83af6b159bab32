"""The CLI's two consoles (stdout, stderr). A command forwarded to a running server prints into
the buffers of its request instead (`capture`), at the client's terminal width and colours, so
that its output is the same as without a server.

`capture` also routes `print()` and `sys.stdout.write` of the capturing thread only: the
server's other threads keep writing to the real streams.
"""

from __future__ import annotations

import io
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from rich.console import Console

_local = threading.local()


@dataclass
class Captured:
    width: int = 80
    terminal: bool = False
    stdout: io.StringIO = field(default_factory=io.StringIO)
    stderr: io.StringIO = field(default_factory=io.StringIO)
    _consoles: dict = field(default_factory=dict)

    def console(self, stderr: bool) -> Console:
        c = self._consoles.get(stderr)
        if c is None:
            c = self._consoles[stderr] = Console(
                file=self.stderr if stderr else self.stdout, width=self.width,
                force_terminal=self.terminal, no_color=not self.terminal,
                color_system="standard" if self.terminal else None)
        return c


class _Routed:
    """A rich Console: the capturing thread's when it captures, else the process's."""

    def __init__(self, stderr: bool) -> None:
        self._stderr = stderr
        self._default = Console(stderr=stderr)

    def get(self) -> Console:
        """The Console itself (for rich objects that need one: progress bars, live views)."""
        cap: Captured | None = getattr(_local, "captured", None)
        return cap.console(self._stderr) if cap is not None else self._default

    def __getattr__(self, name: str):
        return getattr(self.get(), name)


class _Stream(io.TextIOBase):
    """sys.stdout / sys.stderr: the capturing thread's buffer, else the real stream."""

    def __init__(self, real, stderr: bool) -> None:
        self._real = real
        self._stderr = stderr

    def _target(self):
        cap: Captured | None = getattr(_local, "captured", None)
        if cap is None:
            return self._real
        return cap.stderr if self._stderr else cap.stdout

    def write(self, s: str) -> int:
        return self._target().write(s)

    def flush(self) -> None:
        self._target().flush()

    def isatty(self) -> bool:
        cap = getattr(_local, "captured", None)
        return cap.terminal if cap is not None else self._real.isatty()

    def fileno(self) -> int:
        return self._real.fileno()

    @property
    def buffer(self):
        return self._real.buffer

    @property
    def encoding(self):
        return getattr(self._real, "encoding", "utf-8")


out = _Routed(stderr=False)
err = _Routed(stderr=True)
_install_lock = threading.Lock()


def _install() -> None:
    with _install_lock:
        if not isinstance(sys.stdout, _Stream):
            sys.stdout = _Stream(sys.stdout, stderr=False)
        if not isinstance(sys.stderr, _Stream):
            sys.stderr = _Stream(sys.stderr, stderr=True)


@contextmanager
def capture(width: int = 80, terminal: bool = False) -> Iterator[Captured]:
    """Everything this thread prints, into the returned buffers."""
    _install()
    cap = Captured(width=max(20, min(int(width), 1000)), terminal=terminal)
    previous = getattr(_local, "captured", None)
    _local.captured = cap
    try:
        yield cap
    finally:
        _local.captured = previous
