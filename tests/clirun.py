"""`python -m pbxlens ...` run inside the test's own process.

Why: a fresh interpreter spends ~2 s importing typer, rich, DuckDB, SQLAlchemy and the report
catalog before a command starts, and the CLI tests started about 110 of them (~300 s of the
suite on two cores). `pbxlens(*args)` runs the same entry point here, where those modules are
imported once, and returns what `subprocess.run(..., capture_output=True, text=True)` did.

What it reproduces of a fresh `python -m pbxlens` with captured output:
- pbxlens/__main__.py run as `__main__` (runpy), so `pbxlens.cli.main()` with its PbxlensError
  handling, and the program name `python -m pbxlens` in usage errors; `sys.argv` set;
- std streams that are not terminals (stdin empty unless `input`), read back as text mode
  does; rich consoles created afresh for the run (colours, width and interactivity are decided
  when a Console is created: with pipes, no colour and 80 columns unless COLUMNS says otherwise);
- the exit status: SystemExit None/int/other as Python maps it, an uncaught exception printed
  by `sys.excepthook` (typer's, which typer installs) with status 1;
- `env` overrides in os.environ (a None value removes the variable) and settings read afresh
  (`get_settings.cache_clear()`), both undone afterwards; `cwd` likewise;
- Python's default warning filters and no logging handlers (warnings and log records reach
  stderr, as they would; pytest would record them instead).

What a process would release at its end is checked instead: a thread the command leaves
running (after 10 s of joining: Python joins non-daemon threads at exit) or a file it leaves open
(after a garbage collection; a DuckDB connection would keep the file locked for the next process
or server of the test) fails the call.

What stays in real subprocesses (`PBX`): `pbxlens serve` and other long-running processes,
processes killed or signalled, what a fresh interpreter imports at start-up, clients whose
point is a separate process, and one representative command per test file, so that
`python -m pbxlens` itself stays covered.
"""

from __future__ import annotations

import gc
import io
import logging
import os
import runpy
import stat
import subprocess
import sys
import threading
import time
import warnings
from collections.abc import Iterator, Mapping
from contextlib import ExitStack, contextmanager
from pathlib import Path

PBX = [sys.executable, "-m", "pbxlens"]  # the real thing, for the calls that keep a process


def pbxlens(*args: str, env: Mapping[str, str | None] | None = None, input: str | None = None,
            cwd: str | Path | None = None) -> subprocess.CompletedProcess[str]:
    """`subprocess.run([*PBX, *args], capture_output=True, text=True)`, in this process.
    `env` holds overrides of this process's environment (not a whole environment)."""
    opened, threads = _open_files(), set(threading.enumerate())
    with ExitStack() as stack:
        stack.enter_context(_environment(env))
        if cwd is not None:
            stack.enter_context(_cwd(cwd))
        streams = stack.enter_context(_std_streams(input))
        stack.enter_context(_fresh_process_state())
        code = _run_main(args)
        running = _wait_for_threads(threads)
    assert not running, f"pbxlens {' '.join(args)} left threads running: {running}"
    left = _open_files() - opened
    if left:
        gc.collect()  # cyclic garbage holding a connection is not a leak a process would see
        left = _open_files() - opened
    assert not left, f"pbxlens {' '.join(args)} left files open: {sorted(left)}"
    return subprocess.CompletedProcess([*PBX, *args], code, _text(streams[0]),
                                       _text(streams[1]))


def pbxlens_process(*args: str, env: Mapping[str, str | None] | None = None,
                    input: str | None = None, cwd: str | Path | None = None,
                    timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """The same call in a real `python -m pbxlens` (`env`: overrides, as for `pbxlens`)."""
    full = None
    if env:
        full = {k: v for k, v in {**os.environ, **env}.items() if v is not None}
    return subprocess.run([*PBX, *args], capture_output=True, text=True, timeout=timeout,
                          env=full, input=input, cwd=cwd)


# --------------------------------------------------------------------------- the run
def _run_main(args: tuple[str, ...]) -> int:
    saved_argv, saved_hook = sys.argv, sys.excepthook
    sys.argv = ["-m", *args]  # runpy puts __main__.py's path first, as `python -m` does
    try:
        runpy.run_module("pbxlens", run_name="__main__", alter_sys=True)
        return 0
    except SystemExit as exc:
        return _exit_status(exc.code)
    except Exception:
        sys.excepthook(*sys.exc_info())  # typer's hook, set by the app: what Python would print
        return 1
    finally:
        sys.argv, sys.excepthook = saved_argv, saved_hook


def _wait_for_threads(before: set[threading.Thread], timeout: float = 10) -> list[str]:
    """Join the threads started during the run (a process waits for its non-daemon threads at
    exit and kills the others; this one would keep both); the names of those still running."""
    deadline = time.monotonic() + timeout
    for t in set(threading.enumerate()) - before:
        t.join(max(0.0, deadline - time.monotonic()))
    return sorted(t.name for t in set(threading.enumerate()) - before)


def _exit_status(code: object) -> int:
    """What the parent of `sys.exit(code)` sees (Python's handle_system_exit)."""
    if code is None:
        return 0
    if isinstance(code, int):
        return code & 0xFF  # an exit status is one byte
    print(code, file=sys.stderr)
    return 1


def _text(data: bytes) -> str:
    # subprocess.run(text=True): decoded, with universal newlines
    return data.decode("utf-8").replace("\r\n", "\n").replace("\r", "\n")


# ------------------------------------------------------------------ the process's state
@contextmanager
def _environment(env: Mapping[str, str | None] | None) -> Iterator[None]:
    saved = {k: os.environ.get(k) for k in env or {}}
    try:
        for k, v in (env or {}).items():
            _setenv(k, v)
        yield
    finally:
        for k, v in saved.items():
            _setenv(k, v)


def _setenv(key: str, value: str | None) -> None:
    if value is None:
        os.environ.pop(key, None)
    else:
        os.environ[key] = value


@contextmanager
def _cwd(path: str | Path) -> Iterator[None]:
    saved = os.getcwd()
    os.chdir(path)
    try:
        yield
    finally:
        os.chdir(saved)


@contextmanager
def _std_streams(input: str | None) -> Iterator[list[bytes]]:
    """stdin, stdout and stderr as pipes (not terminals); yields [stdout, stderr], filled on
    exit."""
    real_out = sys.__stdout__
    out, err = io.BytesIO(), io.BytesIO()
    saved = sys.stdin, sys.stdout, sys.stderr
    sys.stdin = io.TextIOWrapper(io.BytesIO((input or "").encode()), encoding="utf-8")
    sys.stdout = io.TextIOWrapper(out, encoding="utf-8", write_through=True,
                                  errors=getattr(real_out, "errors", None) or "strict")
    sys.stderr = io.TextIOWrapper(err, encoding="utf-8", write_through=True,
                                  errors="backslashreplace")
    result: list[bytes] = []
    try:
        yield result
    finally:
        for s in (sys.stdout, sys.stderr):
            s.flush()
        result[:] = [out.getvalue(), err.getvalue()]
        sys.stdin, sys.stdout, sys.stderr = saved


@contextmanager
def _fresh_process_state() -> Iterator[None]:
    """Settings, rich consoles, warning filters and logging as a new process has them; put
    back afterwards. Entered once the environment and the streams are in place."""
    from pbxlens import console
    from pbxlens.config import get_settings

    root = logging.getLogger()
    saved_consoles = console.out._default, console.err._default
    saved_log = root.handlers, root.level
    get_settings.cache_clear()
    # consoles made by pbxlens.console's own constructor, now (they decide colours and width)
    console.out._default = console._Routed(stderr=False)._default
    console.err._default = console._Routed(stderr=True)._default
    root.handlers, root.level = [], logging.WARNING  # records reach stderr by lastResort
    try:
        with warnings.catch_warnings():
            warnings.resetwarnings()  # Python's defaults (no -W, no PYTHONWARNINGS)
            warnings.filterwarnings("default", category=DeprecationWarning, module="__main__")
            for category in (DeprecationWarning, PendingDeprecationWarning, ImportWarning,
                             ResourceWarning):
                warnings.simplefilter("ignore", category, append=True)
            warnings.showwarning = _show_warning
            yield
    finally:
        root.handlers, root.level = saved_log
        console.out._default, console.err._default = saved_consoles
        get_settings.cache_clear()


def _show_warning(message, category, filename, lineno, file=None, line=None) -> None:
    (file or sys.stderr).write(warnings.formatwarning(message, category, filename, lineno, line))


def _open_files() -> set[str]:
    """The regular files this process has open (Linux; elsewhere nothing is checked), but for
    the SQLite write-turn files of pbxlens.store.ops: open, unlocked, until the engine is
    garbage (a cycle), harmless to the next process."""
    found = set()
    try:
        fds = os.listdir("/proc/self/fd")
    except OSError:
        return found
    for fd in fds:
        try:
            if stat.S_ISREG(os.stat(f"/proc/self/fd/{fd}").st_mode):
                found.add(os.readlink(f"/proc/self/fd/{fd}"))
        except OSError:
            pass
    return {f for f in found if not f.endswith("-turn")}
