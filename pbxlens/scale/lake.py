"""The Parquet lake: the store's tables as Parquet files in a hive layout
(`DIR/<table>/tenant=<t>/month=<YYYY-MM>/data_0.parquet`), readable by DuckDB and Spark.

- Which tables: every table of the store except the web app's own (users, sessions, widgets,
  settings), provenance and quarantine. New fact tables added by other modules are exported
  without touching this module, so their reports run over the lake too.
- Partitions: by tenant when the table has a NOT NULL `tenant` column; by month (PBX local) when
  a time column says which month a row belongs to: `day`, else `start_local`, else the call's
  start through the call key (tenant, unique_id, leg_branch) for rows of a call's path, else
  `start_ts`, else `received_at` (webhook feeds). Other tables (the directory) are partitioned
  by tenant only.
- Incremental and idempotent: a fingerprint (row count and sum of row hashes) per partition is
  kept in `_lake.json`; an export rewrites only the partitions whose fingerprint changed, each
  one written to a staging folder and then swapped in place. Partitions that are no longer in
  the store (retention removed them) stay in the lake: the lake is the archive.
- `_schema/<table>.parquet` (no rows) keeps every table readable when it has no partition yet.
- Rows keep the store's insertion order (by batch, each batch in day order): no sort, which
  would cost more than the whole write on big tables.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import time
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import duckdb

from pbxlens import PbxlensError
from pbxlens.store import sql

MANIFEST = "_lake.json"
SCHEMA_DIR = "_schema"
_SKIP = re.compile(r"^(web_|schema_migrations$|quarantine$|ingest_batches$|pull_watermarks$|"
                   r"pipeline_steps$|replaced_calls$|_)")
_SAFE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@+-]*$")
_IDENT = re.compile(r"^[a-z_][a-z0-9_]*$")


@dataclass
class LakeTable:
    name: str
    columns: list[tuple[str, str]]  # (name, DuckDB type) in store order
    tenant: bool  # partitioned by tenant
    month: str | None  # SQL month of a row of `t` (joins `c` = calls when it says so)
    join_calls: bool = False

    @property
    def partition_cols(self) -> list[str]:
        return (["tenant"] if self.tenant else []) + (["month"] if self.month else [])


@dataclass
class ExportStats:
    tables: int = 0
    partitions_seen: int = 0
    partitions_written: int = 0
    rows_written: int = 0
    seconds: float = 0.0
    written: list[str] = field(default_factory=list)


def plan(con: duckdb.DuckDBPyConnection) -> list[LakeTable]:
    """The tables to export and how each is partitioned, from the store's own catalog."""
    rows = con.execute("""
        SELECT table_name, column_name, data_type, is_nullable
        FROM duckdb_columns() WHERE schema_name = 'main' AND database_name = current_database()
          AND NOT internal
        ORDER BY table_name, column_index""").fetchall()
    kinds = dict(con.execute("""SELECT table_name, 'table' FROM duckdb_tables()
        WHERE schema_name = 'main' AND database_name = current_database()""").fetchall())
    cols: dict[str, list[tuple[str, str, bool]]] = {}
    for t, c, ty, nullable in rows:
        if t in kinds and not _SKIP.match(t):
            cols.setdefault(t, []).append((c, ty, nullable))
    out = []
    for t, cs in cols.items():
        if not _IDENT.match(t) or any(not _IDENT.match(c) for c, _ty, _n in cs):
            continue  # quoted or odd names are not ours to export
        by = {c: (ty, nullable) for c, ty, nullable in cs}
        tenant = "tenant" in by and not by["tenant"][1]
        month, join = None, False
        if "month" in by:
            month = None  # a column already named month would clash with the partition key
        elif by.get("day", ("",))[0] == "DATE":
            month = "strftime(t.day, '%Y-%m')"
        elif "start_local" in by:
            month = "strftime(t.start_local, '%Y-%m')"
        elif t != "calls" and {"tenant", "unique_id", "leg_branch"} <= set(by) and "calls" in cols:
            month, join = "strftime(c.start_local, '%Y-%m')", True
        elif by.get("start_ts", ("",))[0].startswith("TIMESTAMP"):
            month = "strftime(t.start_ts, '%Y-%m')"
        elif by.get("received_at", ("",))[0].startswith("TIMESTAMP"):  # webhook feeds
            month = "strftime(t.received_at, '%Y-%m')"
        out.append(LakeTable(t, [(c, ty) for c, ty, _n in cs], tenant, month, join))
    return sorted(out, key=lambda x: x.name)


def _source(t: LakeTable) -> str:
    cols = ", ".join(f"t.{c}" for c, _ty in t.columns)
    month = f"coalesce({t.month}, '0000-00') AS month" if t.month else "NULL AS month"
    src = f"{t.name} t"
    if t.join_calls:
        src += (" LEFT JOIN calls c ON c.tenant = t.tenant AND c.unique_id = t.unique_id"
                " AND c.leg_branch = t.leg_branch")
    tenant = "t.tenant" if t.tenant else "NULL"
    return f"SELECT {cols}, {tenant} AS _tenant, {month}, hash(t) AS _h FROM {src}"  # noqa: S608 -- table names and fragments from the lake plan (our schema)


def _range_where(t: LakeTable, d_from: date | None, d_to: date | None) -> tuple[str, list]:
    if not t.month or (d_from is None and d_to is None):
        return "", []
    lo = d_from.strftime("%Y-%m") if d_from else "0000-00"
    hi = d_to.strftime("%Y-%m") if d_to else "9999-99"
    return " WHERE month >= ? AND month <= ?", [lo, hi]


def _key(t: LakeTable, tenant: str | None, month: str | None) -> str:
    parts = []
    if t.tenant:
        parts.append(f"tenant={tenant}")
    if t.month:
        parts.append(f"month={month}")
    return "/".join(parts) or "all"


def read_manifest(out: Path) -> dict:
    p = Path(out) / MANIFEST
    if not p.exists():
        return {"version": 1, "tables": {}}
    return json.loads(p.read_text(encoding="utf-8"))


def _write_manifest(out: Path, man: dict) -> None:
    tmp = out / (MANIFEST + ".tmp")
    tmp.write_text(json.dumps(man, indent=1, sort_keys=True), encoding="utf-8")
    os.replace(tmp, out / MANIFEST)


def export(con: duckdb.DuckDBPyConnection, out: str | Path, d_from: date | None = None,
           d_to: date | None = None, tables: list[str] | None = None) -> ExportStats:
    """Export the store to the lake at `out` (months of [d_from, d_to] when given; the
    directory and other month-less tables always). Returns what was (re)written."""
    t0 = time.perf_counter()
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    (out / SCHEMA_DIR).mkdir(exist_ok=True)
    man = read_manifest(out)
    stats = ExportStats()
    staging = out / f".staging-{os.getpid()}"
    trash = out / f".trash-{os.getpid()}"
    for t in plan(con):
        if tables is not None and t.name not in tables:
            continue
        stats.tables += 1
        entry = man["tables"].setdefault(t.name, {"partitions": {}})
        entry["columns"] = [list(c) for c in t.columns]
        entry["partitioned_by"] = t.partition_cols
        schema_file = sql.literal(out / SCHEMA_DIR / (t.name + ".parquet"))
        con.execute(f"COPY (SELECT * FROM {sql.identifier(t.name)} LIMIT 0) TO "  # noqa: S608 -- quoted name and path
                    f"{schema_file} (FORMAT parquet)")
        where, wargs = _range_where(t, d_from, d_to)
        fps = con.execute(f"""SELECT _tenant, month, count(*) AS n, sum(_h) AS h
            FROM ({_source(t)}){where} GROUP BY ALL""", wargs).fetchall()  # noqa: S608 -- table names and fragments from the lake plan (our schema)
        changed = []
        for tenant, month, n, h in fps:
            if t.tenant and not _SAFE.match(tenant or ""):
                raise PbxlensError(f"tenant {tenant!r} cannot name a lake folder")
            key = _key(t, tenant, month)
            stats.partitions_seen += 1
            fp = f"{n}:{h}"
            old = entry["partitions"].get(key)
            if old and old["fingerprint"] == fp and (out / t.name / key).exists():
                continue
            changed.append((tenant, month, key, n, fp))
        if not changed:
            continue
        tgt = staging / t.name
        shutil.rmtree(tgt, ignore_errors=True)
        tgt.mkdir(parents=True)
        cols = ", ".join(c for c, _ty in t.columns if c != "tenant" or not t.tenant)
        keys = [[(c[0] or "") for c in changed], [(c[1] or "") for c in changed]]
        part = f", PARTITION_BY ({', '.join(t.partition_cols)})" if t.partition_cols else ""
        target = tgt if t.partition_cols else tgt / "all"
        if not t.partition_cols:
            target.mkdir()
            target = target / "data_0.parquet"
        sel = f"SELECT {cols}{', _tenant AS tenant' if t.tenant else ''}"
        sel += ", month" if t.month else ""
        con.execute(f"""COPY ({sel} FROM ({_source(t)}) s
            SEMI JOIN (SELECT unnest(?) AS a, unnest(?) AS b) k
              ON coalesce(s._tenant, '') = k.a AND coalesce(s.month, '') = k.b)
            TO {sql.literal(target)} (FORMAT parquet, COMPRESSION zstd{part})""", keys)
        for tenant, month, key, n, fp in changed:
            src, dst = tgt / key, out / t.name / key
            if not src.exists():
                continue
            dst.parent.mkdir(parents=True, exist_ok=True)
            if dst.exists():
                (trash / t.name / key).parent.mkdir(parents=True, exist_ok=True)
                os.replace(dst, trash / t.name / key)
            os.replace(src, dst)
            entry["partitions"][key] = {"rows": n, "fingerprint": fp, "tenant": tenant,
                                        "month": month}
            stats.partitions_written += 1
            stats.rows_written += n
            stats.written.append(f"{t.name}/{key}")
        _write_manifest(out, man)  # after each table: a crash loses at most one table's work
    shutil.rmtree(staging, ignore_errors=True)
    shutil.rmtree(trash, ignore_errors=True)
    _write_manifest(out, man)
    stats.seconds = time.perf_counter() - t0
    return stats


# ----------------------------------------------------------------------------- reading


def tables(lake: str | Path) -> dict[str, dict]:
    lake = Path(lake)
    man = read_manifest(lake)
    if not man["tables"]:
        raise PbxlensError(f"no lake at {lake}: run `pbxlens export-lake --out {lake}` first")
    return man["tables"]


def files_glob(lake: Path, name: str, entry: dict) -> str | None:
    """The glob of a table's data files, or None when it has no partition yet."""
    if not entry.get("partitions"):
        return None
    depth = max(1, len(entry.get("partitioned_by") or []))
    return (lake / name).as_posix() + "/*" * depth + "/*.parquet"


def open_duckdb(lake: str | Path, tz: str | None = None) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB connection where every lake table is a view with the store's
    column names, order and types: the catalog's SQL runs on it unchanged."""
    from pbxlens.store import analytics

    lake = Path(lake)
    con = duckdb.connect()
    con.execute("SET TimeZone = ?", [tz or analytics.timezone()])
    # The manifest is a file in the lake folder: every name, path and type from it is quoted
    # or checked before it becomes SQL (a view cannot take bound parameters).
    for name, entry in tables(lake).items():
        if not _SAFE.match(name):
            raise PbxlensError(f"the lake manifest names an unusable table {name!r}")
        glob = files_glob(lake, name, entry)
        if glob is None:
            src = f"read_parquet({sql.literal(lake / SCHEMA_DIR / (name + '.parquet'))})"
        else:
            hive = ", ".join(f"{sql.literal(c)}: VARCHAR" for c in entry.get("partitioned_by") or [])
            src = (f"read_parquet({sql.literal(glob)}, hive_partitioning = true"
                   + (f", hive_types = {{{hive}}}" if hive else "") + ", union_by_name = true)")
        cols = ", ".join(f"CAST({sql.identifier(c)} AS {sql.type_name(ty)}) AS {sql.identifier(c)}"
                         for c, ty in entry["columns"])
        con.execute(f"CREATE VIEW {sql.identifier(name)} AS SELECT {cols} FROM {src}")  # noqa: S608 -- quoted/checked names and types
    return con
