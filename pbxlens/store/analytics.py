"""The analytics store: the DuckDB file of loaded and derived facts. Open it, apply the numbered
migrations, report a held lock in one line.

One process writes it (the analytics writer, `pbxlens.store.writer`); any number of cursors of
that process read it while the writer works (DuckDB's MVCC: readers never wait).
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable
from importlib import resources
from pathlib import Path

import duckdb

from pbxlens import PbxlensError
from pbxlens.config import get_settings

MIGRATIONS_PACKAGE = "pbxlens.models"
_MIGRATION_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")


class StoreLockedError(PbxlensError):
    """Another process holds the DuckDB file (exit 3)."""

    exit_code = 3

    def __init__(self, message: str, path: Path | None = None, pid: int | None = None) -> None:
        super().__init__(message)
        self.path = path
        self.pid = pid


def resolve_path(db: str | Path | None = None) -> Path:
    """--db, else PBXLENS_DB / the settings file, else data/pbxlens.duckdb."""
    return Path(db) if db else Path(get_settings().db)


def migrations() -> list[tuple[int, str, str]]:
    """(version, name, sql) for every migration shipped with the package, in order."""
    folder = resources.files(MIGRATIONS_PACKAGE).joinpath("migrations")
    found = []
    for entry in folder.iterdir():
        m = _MIGRATION_NAME.match(entry.name)
        if m:
            found.append((int(m.group(1)), entry.name, entry.read_text(encoding="utf-8")))
    return sorted(found)


def timezone() -> str:
    """The PBX time zone of the settings (validated by zoneinfo when the settings load)."""
    return get_settings().timezone


def _lock_error(path: Path, exc: Exception) -> StoreLockedError:
    m = re.search(r"PID (\d+)", str(exc))
    pid = int(m.group(1)) if m else None
    holder = f"process {pid}" if pid else "another process"
    return StoreLockedError(
        f"the store {path} is held by {holder} (is `pbxlens serve` running?): "
        "stop it, or send data through its HTTP endpoints", path, pid)


def connect(db: str | Path | None = None, *, read_only: bool = False,
            before_migration: Callable[[duckdb.DuckDBPyConnection, int], None] | None = None,
            ) -> duckdb.DuckDBPyConnection:
    """Open the store, creating it and applying pending migrations when writable.
    `before_migration(con, version)` runs before each pending migration (the operations-store
    upgrade copies the rows of tables that a migration is about to drop)."""
    path = resolve_path(db)
    if read_only and not path.exists():
        raise PbxlensError(f"no store at {path}: run `pbxlens ingest` first")
    if not read_only:
        path.parent.mkdir(parents=True, exist_ok=True)
    try:
        con = duckdb.connect(str(path), read_only=read_only, config=new_file_config(path))
    except duckdb.IOException as exc:
        if "lock" in str(exc).lower():
            raise _lock_error(path, exc) from None
        raise PbxlensError(f"cannot open the store {path}: {str(exc).splitlines()[0]}") from None
    except duckdb.Error as exc:
        raise PbxlensError(f"cannot open the store {path}: {str(exc).splitlines()[0]}") from None
    prepare(con)
    if not read_only:
        migrate(con, before=before_migration)
    return con


# A new store file takes v1.5.0's storage format (DuckDB's own default is v0.10.2's, readable
# by every 1.x): the newer string compression (DICT_FSST) writes the ingest's rows with about
# a fifth less CPU into a smaller file. Named, not "latest", so that a DuckDB upgrade does not
# change silently which DuckDB can open new stores (pyproject requires >= 1.5). A file keeps
# the format it was created with; an older store stays readable and keeps its own.
STORAGE_VERSION = "v1.5.0"


def new_file_config(path: Path) -> dict[str, str]:
    """Connection config: the storage format, for a file about to be created only."""
    if str(path) == ":memory:" or path.exists():
        return {}
    return {"storage_compatibility_version": STORAGE_VERSION}


def prepare(con: duckdb.DuckDBPyConnection) -> None:
    """Per-connection settings (TimeZone is per connection: cursors need it too)."""
    con.execute("SET TimeZone = ?", [timezone()])
    # Progress is tracked (the CLI polls query_progress() for its bar) but never printed by
    # DuckDB itself: stdout carries JSON for `--json` commands.
    con.execute("SET enable_progress_bar = true")
    con.execute("SET enable_progress_bar_print = false")


def cursor(con: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyConnection:
    """A new cursor of `con` with the connection settings applied."""
    cur = con.cursor()
    cur.execute("SET TimeZone = ?", [timezone()])
    return cur


def migrate(con: duckdb.DuckDBPyConnection,
            before: Callable[[duckdb.DuckDBPyConnection, int], None] | None = None) -> list[int]:
    """Apply the migrations not yet recorded in schema_migrations; return their versions."""
    con.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations ("
        " version INTEGER PRIMARY KEY, name TEXT NOT NULL,"
        " applied_at TIMESTAMPTZ NOT NULL DEFAULT current_timestamp)"
    )
    done = {r[0] for r in con.execute("SELECT version FROM schema_migrations").fetchall()}
    applied = []
    for version, name, sql in migrations():
        if version in done:
            continue
        if before is not None:
            before(con, version)
        con.execute("BEGIN TRANSACTION")
        try:
            con.execute(sql)
            con.execute(
                "INSERT INTO schema_migrations (version, name) VALUES (?, ?)", [version, name]
            )
            con.execute("COMMIT")
        except Exception:
            con.execute("ROLLBACK")
            raise
        applied.append(version)
    if applied:
        # DuckDB 1.5 cannot replay a WAL holding an ALTER TABLE ADD COLUMN of a table with a
        # sequence default created in the same WAL (0080 on a fresh store): a process killed
        # before the first automatic checkpoint left a store that no longer opened.
        with contextlib.suppress(duckdb.Error):
            con.execute("CHECKPOINT")
    return applied
