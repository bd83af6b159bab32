"""The CLI while `pbxlens serve` runs: the server holds the DuckDB file, so a command that needs
it is run by that server, in its process, on its stores, and prints the same output and exits
with the same code as it would alone.

- The server announces itself in `<store>.server.json` beside the DuckDB file (its pid, a
  loopback URL and a random token), a file only the user who started it can read (mode 0600);
  it removes the file when it stops.
- A command marked `@forwardable(...)` looks for that file first. When a live server answers,
  the command's parameters (paths made absolute on the client's side) go to
  `POST /api/local/cli` with the token; the server runs the same function with output captured
  (`pbxlens.console.capture`) and answers stdout, stderr and the exit code.
- Inside the server, `open_stores()` / `open_analytics()` give the command the server's own
  stores instead of opening the files. Commands that change facts either submit writer jobs
  themselves (mode "jobs") or run while the writer is paused (mode "exclusive").
"""

from __future__ import annotations

import base64
import contextvars
import functools
import hmac
import json
import os
import secrets
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb

from pbxlens import PbxlensError
from pbxlens.store import analytics

if TYPE_CHECKING:
    from pbxlens.store import Stores

PATH = "/api/local/cli"
TOKEN_HEADER = "X-Pbxlens-Local-Token"  # noqa: S105 (a header name)
MODES = ("read", "jobs", "exclusive")
REGISTRY: dict[str, tuple[Callable, str]] = {}


@dataclass(frozen=True)
class _InServer:
    stores: Stores
    cursor: duckdb.DuckDBPyConnection | None  # the exclusive cursor, in mode "exclusive"


_SERVER: contextvars.ContextVar[_InServer | None] = contextvars.ContextVar("pbxlens_server",
                                                                           default=None)


# ------------------------------------------------------------------------ the server file
def server_file(db: str | Path | None) -> Path:
    path = analytics.resolve_path(db).absolute()
    return path.with_name(path.name + ".server.json")


def announce(db: str | Path, port: int, host: str = "127.0.0.1") -> tuple[Path, str]:
    """Write the server file (mode 0600, written whole then renamed) and return it with the
    token. A server on every address is reached on the loopback one."""
    token = secrets.token_urlsafe(32)
    if host in ("", "0.0.0.0", "::", "localhost"):  # noqa: S104 (compared, not bound)
        host = "127.0.0.1"
    target = server_file(db)
    tmp = target.with_name(f".{target.name}.{os.getpid()}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        url = f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"
        json.dump({"pid": os.getpid(), "url": url, "token": token}, fh)
    os.replace(tmp, target)
    return target, token


def withdraw(path: Path, token: str) -> None:
    """Remove the server file, unless another server has replaced it since."""
    try:
        if json.loads(path.read_text()).get("token") == token:
            path.unlink()
    except (OSError, ValueError):
        pass


@dataclass(frozen=True)
class Link:
    url: str
    token: str
    pid: int


def find(db: str | Path | None) -> Link | None:
    """The running server of this store, if any (a file whose process is gone is ignored)."""
    path = server_file(db)
    try:
        d = json.loads(path.read_text())
        pid, url, token = int(d["pid"]), str(d["url"]), str(d["token"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if pid == os.getpid():
        return None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    except PermissionError:
        pass  # alive, another user's: its file would not have been readable anyway
    return Link(url, token, pid)


# ----------------------------------------------------------------------- the client side
def _encode(value: Any) -> Any:
    if isinstance(value, Path):
        return {"$path": str(value.absolute())}
    if isinstance(value, date):
        return {"$date": value.isoformat()}
    if isinstance(value, list | tuple):
        return [_encode(v) for v in value]
    if value is None or isinstance(value, str | int | float | bool):
        return value
    raise TypeError(f"cannot forward a {type(value).__name__} parameter")


def _decode(value: Any) -> Any:
    if isinstance(value, dict) and "$path" in value:
        return Path(value["$path"])
    if isinstance(value, dict) and "$date" in value:
        return date.fromisoformat(value["$date"])
    if isinstance(value, list):
        return [_decode(v) for v in value]
    return value


def forward(link: Link, command: str, kwargs: dict) -> int:
    """Run `command` in the server; print its output here; return its exit code."""
    import shutil
    import sys

    import httpx

    body = {"command": command, "kwargs": {k: _encode(v) for k, v in kwargs.items()},
            "width": shutil.get_terminal_size((80, 24)).columns if sys.stdout.isatty() else 80,
            "terminal": sys.stdout.isatty()}
    try:
        # no read timeout: an ingest through the server takes as long as the file needs
        r = httpx.post(link.url + PATH, json=body, headers={TOKEN_HEADER: link.token},
                       timeout=httpx.Timeout(10.0, read=None))
    except httpx.HTTPError as exc:
        raise PbxlensError(f"the server of this store (process {link.pid}) does not answer at "
                           f"{link.url}: {exc}") from None
    if r.status_code != 200:
        raise PbxlensError(f"the server of this store refused the command ({r.status_code}): "
                           f"{r.text[:200]}")
    d = r.json()
    sys.stdout.buffer.write(base64.b64decode(d["stdout"]))
    sys.stdout.flush()
    sys.stderr.buffer.write(base64.b64decode(d["stderr"]))
    sys.stderr.flush()
    return int(d["exit_code"])


def forwardable(mode: str) -> Callable[[Callable], Callable]:
    """Mark a CLI command as one a running server can run for it (`mode`: read | jobs |
    exclusive). The function must take the store as a `db` parameter."""
    if mode not in MODES:
        raise ValueError(f"unknown mode {mode!r}")

    def deco(fn: Callable) -> Callable:
        name = f"{fn.__module__}:{fn.__qualname__}"
        REGISTRY[name] = (fn, mode)

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            if _SERVER.get() is None and not args:
                link = find(kwargs.get("db"))
                if link is not None:
                    raise SystemExit(forward(link, name, kwargs))
            return fn(*args, **kwargs)

        return wrapper

    return deco


# ------------------------------------------------------------------ inside the command
@contextmanager
def open_stores(db: str | Path | None = None, *, read_only: bool = False) -> Iterator[Stores]:
    """The server's stores when the command runs in the server, else the files opened (and
    closed afterwards)."""
    here = _SERVER.get()
    if here is not None:
        yield here.stores
        return
    from pbxlens.store import Stores

    stores = Stores(db, read_only=read_only)
    try:
        yield stores
    finally:
        stores.close()


def open_analytics(db: str | Path | None = None, *, read_only: bool = False
                   ) -> duckdb.DuckDBPyConnection:
    """A DuckDB connection for a command: in the server a cursor of its connection (the
    writer's exclusive one for "exclusive" commands), else the file itself. Close it after."""
    here = _SERVER.get()
    if here is None:
        return analytics.connect(db, read_only=read_only)
    if here.cursor is not None:
        return here.cursor.cursor()
    return analytics.cursor(here.stores.con)


def in_server() -> bool:
    return _SERVER.get() is not None


# --------------------------------------------------------------------- the server side
def token_ok(expected: str, given: str | None) -> bool:
    return bool(given) and hmac.compare_digest(expected.encode(), given.encode())


def execute(stores: Stores, body: dict) -> dict:
    """Run one forwarded command on `stores` and return its output and exit code."""
    import typer

    from pbxlens import console

    name = body.get("command")
    if name not in REGISTRY:
        return {"stdout": "", "stderr": base64.b64encode(
            f"error: {name!r} cannot run through the server\n".encode()).decode(), "exit_code": 2}
    fn, mode = REGISTRY[name]
    kwargs = {k: _decode(v) for k, v in (body.get("kwargs") or {}).items()}
    code = 0
    with console.capture(width=int(body.get("width") or 80),
                         terminal=bool(body.get("terminal"))) as cap, \
            _writer_mode(stores, mode) as cur:
        token = _SERVER.set(_InServer(stores, cur))
        try:
            fn(**kwargs)
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        except typer.Exit as exc:
            code = exc.exit_code
        except PbxlensError as exc:
            console.err.print(f"[red]error:[/red] {exc}", highlight=False, soft_wrap=True)
            code = exc.exit_code
        except Exception:  # what the CLI alone would print as a traceback
            cap.stderr.write(traceback.format_exc())
            code = 1
        finally:
            _SERVER.reset(token)
    return {"stdout": base64.b64encode(cap.stdout.getvalue().encode()).decode(),
            "stderr": base64.b64encode(cap.stderr.getvalue().encode()).decode(),
            "exit_code": code}


@contextmanager
def _writer_mode(stores: Stores, mode: str) -> Iterator[duckdb.DuckDBPyConnection | None]:
    if mode == "exclusive":
        with stores.writer.exclusive() as cur:
            yield cur
    else:
        yield None
