"""Backup and restore of the store.

A backup is DuckDB's own `EXPORT DATABASE` (schema, sequences and every table as Parquet) taken
inside one read transaction, so it is a consistent snapshot even while the server keeps
writing: the server (through its analytics writer) runs it on its own
connection under its write lock when asked through `POST /api/admin/backup`; without a server
the CLI opens the file itself. `_backup.json` records each table's row count and content
checksum, and the per-(tenant, month) fingerprints retention relies on.

Restore imports the snapshot into a new file and checks every table's count and checksum.
"""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from pbxlens import PbxlensError
from pbxlens.scale import lake as lk
from pbxlens.store import analytics, sql

MANIFEST = "_backup.json"


def _checksums(con: duckdb.DuckDBPyConnection) -> dict[str, dict]:
    names = [r[0] for r in con.execute(
        "SELECT table_name FROM duckdb_tables() WHERE schema_name = 'main' "
        "AND database_name = current_database() AND NOT temporary ORDER BY table_name"
    ).fetchall()]
    out = {}
    for n in names:
        rows, h = con.execute(
            f"SELECT count(*), coalesce(sum(hash(t)), 0) FROM {sql.identifier(n)} t"  # noqa: S608 -- a quoted name
        ).fetchone()
        out[n] = {"rows": int(rows), "checksum": str(h)}
    return out


def partition_fingerprints(con: duckdb.DuckDBPyConnection) -> dict[str, dict[str, str]]:
    """table -> {"tenant/month": fingerprint} for the month-partitioned tables (lake rules)."""
    out: dict[str, dict[str, str]] = {}
    for t in lk.plan(con):
        if not t.month:
            continue
        rows = con.execute(f"SELECT _tenant, month, count(*), sum(_h) FROM ({lk._source(t)}) "  # noqa: S608 -- table names and fragments from the lake plan (our schema)
                           "GROUP BY ALL").fetchall()
        out[t.name] = {f"{tn or ''}/{m}": f"{n}:{h}" for tn, m, n, h in rows}
    return out


def backup(con: duckdb.DuckDBPyConnection, out: str | Path) -> dict:
    """Snapshot the store of `con` into the empty or new folder `out`."""
    out = Path(out)
    if out.exists() and any(out.iterdir()):
        raise PbxlensError(f"{out} is not empty: give a new folder for the backup")
    out.mkdir(parents=True, exist_ok=True)
    con.execute("BEGIN TRANSACTION")  # one snapshot for the export and its checksums
    try:
        # EXPORT takes no bound parameter: the path is quoted by the one helper
        con.execute(f"EXPORT DATABASE {sql.literal(out)} (FORMAT parquet, COMPRESSION zstd)")
        man = {"version": 1, "created": datetime.now(UTC).isoformat(),
               "tables": _checksums(con), "partitions": partition_fingerprints(con)}
    finally:
        con.execute("COMMIT")
    tmp = out / (MANIFEST + ".tmp")
    tmp.write_text(json.dumps(man, indent=1, sort_keys=True), encoding="utf-8")
    os.replace(tmp, out / MANIFEST)
    return man


def server_folder(out: object, store_path: Path) -> Path | None:
    """The folder a backup asked through the server may write: a new folder inside the
    configured backup folder (`backup_dir`, default `backups/` beside the store), given as a
    name or a path there; None for anything else (a path elsewhere, `..`, a symlink out)."""
    from pbxlens.config import get_settings

    if not isinstance(out, str) or not out or "\x00" in out:
        return None
    base = Path(get_settings().backup_dir or Path(store_path).parent / "backups").resolve()
    target = (base / out).resolve()  # an absolute `out` replaces base; symlinks are followed
    if target == base or not target.is_relative_to(base):
        return None
    base.mkdir(parents=True, exist_ok=True)
    return target


def read_manifest(folder: str | Path) -> dict:
    p = Path(folder) / MANIFEST
    if not p.exists():
        raise PbxlensError(f"{folder} is not a pbxlens backup (no {MANIFEST})")
    return json.loads(p.read_text(encoding="utf-8"))


def restore(folder: str | Path, db: str | Path) -> dict:
    """Import the backup in `folder` into the new store file `db`; verify every table."""
    man = read_manifest(folder)
    db = Path(db)
    if db.exists():
        raise PbxlensError(f"{db} exists: restore into a new file")
    db.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(db), config=analytics.new_file_config(db))  # a store's format
    try:
        con.execute(f"IMPORT DATABASE {sql.literal(Path(folder))}")
        got = _checksums(con)
    finally:
        con.close()
    bad = sorted(n for n, v in man["tables"].items() if got.get(n) != v)
    if bad:
        db.unlink(missing_ok=True)
        raise PbxlensError(f"restore check failed for tables: {', '.join(bad)}")
    return got


def request_server_backup(url: str, token: str, out: str | Path, timeout: float = 3600) -> dict:
    """Ask the running server (the store's writer) to take the snapshot."""
    import httpx

    r = httpx.post(url.rstrip("/") + "/api/admin/backup", json={"out": str(out)},
                   headers={"Authorization": f"Bearer {token}"}, timeout=timeout)
    if r.status_code != 200:
        raise PbxlensError(f"the server refused the backup ({r.status_code}): {r.text[:200]}")
    return r.json()
