"""The DuckDB store: open the file, apply numbered migrations, report a held lock in one line."""

from __future__ import annotations

import re
from importlib import resources
from pathlib import Path

import duckdb

from pbxlens import PbxlensError
from pbxlens.config import get_settings

MIGRATIONS_PACKAGE = "pbxlens.models"
_MIGRATION_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")


class StoreLockedError(PbxlensError):
    exit_code = 3


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


def _lock_message(path: Path, exc: Exception) -> str:
    pid = re.search(r"PID (\d+)", str(exc))
    holder = f"process {pid.group(1)}" if pid else "another process"
    return (
        f"the store {path} is held by {holder} (is `pbxlens serve` running?): "
        "stop it, or send data through its HTTP endpoints"
    )


def connect(db: str | Path | None = None, *, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """Open the store, creating it and applying pending migrations when writable."""
    path = resolve_path(db)
    if read_only and not path.exists():
        raise PbxlensError(f"no store at {path}: run `pbxlens ingest` first")
    if not read_only:
        path.parent.mkdir(parents=True, exist_ok=True)
    try:
        con = duckdb.connect(str(path), read_only=read_only)
    except duckdb.IOException as exc:
        if "lock" in str(exc).lower():
            raise StoreLockedError(_lock_message(path, exc)) from None
        raise PbxlensError(f"cannot open the store {path}: {str(exc).splitlines()[0]}") from None
    except duckdb.Error as exc:
        raise PbxlensError(f"cannot open the store {path}: {str(exc).splitlines()[0]}") from None
    con.execute(f"SET TimeZone = '{_tz()}'")
    # Progress is tracked (the CLI polls query_progress() for its bar) but never printed by
    # DuckDB itself: stdout carries JSON for `--json` commands.
    con.execute("SET enable_progress_bar = true")
    con.execute("SET enable_progress_bar_print = false")
    if not read_only:
        migrate(con)
    return con


def _tz() -> str:
    tz = get_settings().timezone
    if not re.fullmatch(r"[A-Za-z0-9_+\-/]+", tz):
        raise PbxlensError(f"invalid timezone setting: {tz!r}")
    return tz


def migrate(con: duckdb.DuckDBPyConnection) -> list[int]:
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
    return applied
