"""Fresh stores for a test as copies of migrated ones, not migrated again for every test.

Migrating a new DuckDB file takes ~0.35 s and a new operations store ~0.6 s on SQLite and
~1.4 s on PostgreSQL (Alembic), against ~0.06 s for copying files and ~0.2 s for a PostgreSQL
database made from a template. The `stores` fixtures ask for both stores of hundreds of tests.

The templates are made once per test process (and per PBXLENS_* environment, in case a setting
ever reaches a migration) by the code under test itself (`analytics.connect`, `ops.upgrade`),
so a copy is exactly what a fresh store becomes. Tests of migrations themselves and of empty
stores do not use this: they open what `ops_url` gives, an empty database.
"""

from __future__ import annotations

import functools
import os
import shutil
import sqlite3
import tempfile
from pathlib import Path

import sqlalchemy as sa


def _settings_key() -> tuple[tuple[str, str], ...]:
    return tuple(sorted((k, v) for k, v in os.environ.items() if k.startswith("PBXLENS_")))


@functools.cache
def _folder() -> Path:
    return Path(tempfile.mkdtemp(prefix="pbxlens-templates-"))


@functools.cache
def _analytics(key: tuple) -> Path:
    from pbxlens.store import analytics

    path = _folder() / f"analytics-{len(os.listdir(_folder()))}.duckdb"
    analytics.connect(path).close()
    return path


@functools.cache
def _sqlite(key: tuple) -> Path:
    from pbxlens.store import ops

    path = _folder() / f"ops-{len(os.listdir(_folder()))}.sqlite"
    engine = ops.create_engine(f"sqlite:///{path}")
    ops.upgrade(engine)
    engine.dispose()
    with sqlite3.connect(path) as c:  # the write-ahead log folded into the file, removed
        c.execute("PRAGMA journal_mode=DELETE")
    return path


@functools.cache
def _postgresql(cluster, key: tuple) -> str:
    from pbxlens.store import ops

    url = cluster.new_database()
    engine = ops.create_engine(url)
    ops.upgrade(engine)
    engine.dispose()
    return sa.engine.make_url(url).database


def analytics(duckdb_path: Path) -> Path:
    """Make `duckdb_path` (not there yet) a migrated, empty analytics store."""
    if duckdb_path.exists():
        raise FileExistsError(f"{duckdb_path}: the analytics store is not empty")
    shutil.copyfile(_analytics(_settings_key()), duckdb_path)
    return duckdb_path


def ops_store(ops_url: str, request) -> str:
    """Make the empty operations store at `ops_url` (the `ops_url` fixture's) a migrated one;
    `request`: the test's, for the PostgreSQL cluster."""
    key = _settings_key()
    url = sa.engine.make_url(ops_url)
    if url.get_backend_name() == "sqlite":
        target = Path(url.database)
        if target.exists():
            raise FileExistsError(f"{target}: the operations store is not empty")
        shutil.copyfile(_sqlite(key), target)
    else:
        cluster = request.getfixturevalue("pg_cluster")
        cluster.recreate(ops_url, template=_postgresql(cluster, key))
    return ops_url


def migrated(duckdb_path: Path, ops_url: str, request) -> None:
    """Both stores migrated and empty: `duckdb_path` (not there yet) and `ops_url`."""
    analytics(duckdb_path)
    ops_store(ops_url, request)
