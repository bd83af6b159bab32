"""Retention: remove facts older than `retention_months` (default 25: the current month plus
24, as the PBX keeps), but only what is safe elsewhere.

A (tenant, month) is removed from the store only when, for EVERY month-partitioned table
(calls, call_legs, derived tables, rollups, rated costs ...), the store's partition has the same
fingerprint (row count and content hash) in the lake (exported first when a lake is configured)
or in one of the given backups. Anything not proven to be elsewhere stays.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import duckdb

from pbxlens.config import get_settings
from pbxlens.scale import backup as bk
from pbxlens.scale import lake as lk


@dataclass
class RetentionResult:
    cutoff: str  # first month kept, YYYY-MM
    removed: list[str] = field(default_factory=list)  # tenant/month removed
    kept_unsafe: list[str] = field(default_factory=list)  # old but not in a lake or backup
    rows_deleted: int = 0


def cutoff_month(today: date, months: int) -> date:
    y, m = divmod(today.year * 12 + today.month - 1 - (max(1, months) - 1), 12)
    return date(y, m + 1, 1)


def apply(con: duckdb.DuckDBPyConnection, *, months: int | None = None,
          lake: str | Path | None = None, backups: list[str | Path] = (),
          today: date | None = None, dry_run: bool = False) -> RetentionResult:
    months = months or get_settings().retention_months
    lake = lake or (get_settings().lake or None)
    first = cutoff_month(today or date.today(), months)
    res = RetentionResult(cutoff=first.strftime("%Y-%m"))
    if lake and not dry_run:  # export the old months first: the lake is their archive
        lk.export(con, lake, d_to=date.fromordinal(first.toordinal() - 1))
    store = bk.partition_fingerprints(con)
    safe: list[dict[str, dict[str, str]]] = []
    if lake and Path(lake, lk.MANIFEST).exists():
        man = lk.read_manifest(Path(lake))["tables"]
        safe.append({t: {f"{p.get('tenant') or ''}/{p.get('month')}": p["fingerprint"]
                         for p in e.get("partitions", {}).values()} for t, e in man.items()})
    for b in backups:
        safe.append(bk.read_manifest(b).get("partitions", {}))
    old = sorted({k for parts in store.values() for k in parts if k.split("/")[1] < res.cutoff})
    plans = {t.name: t for t in lk.plan(con) if t.month}
    for key in old:
        ok = all(any(s.get(t, {}).get(key) == fp for s in safe)
                 for t, parts in store.items() for k, fp in parts.items() if k == key)
        (res.removed if ok else res.kept_unsafe).append(key)
    if dry_run or not res.removed:
        return res
    con.execute("BEGIN TRANSACTION")
    try:
        for key in res.removed:
            tenant, month = key.split("/")
            # rows of a call's path first (their month comes from the call), calls last
            for t in sorted(plans.values(), key=lambda t: (not t.join_calls, t.name == "calls")):
                if key not in store.get(t.name, {}):
                    continue
                res.rows_deleted += _delete(con, t, tenant, month)
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise
    return res


def _delete(con: duckdb.DuckDBPyConnection, t: lk.LakeTable, tenant: str, month: str) -> int:
    ten = "t.tenant = ? AND " if t.tenant else ""
    args = [tenant] if t.tenant else []
    if t.join_calls:
        sql = (f"DELETE FROM {t.name} t USING calls c WHERE c.tenant = t.tenant "  # noqa: S608 -- names and SQL fragments from code; values bound
               f"AND c.unique_id = t.unique_id AND c.leg_branch = t.leg_branch AND {ten}"
               f"{t.month} = ?")
    else:
        sql = f"DELETE FROM {t.name} t WHERE {ten}coalesce({t.month}, '0000-00') = ?"  # noqa: S608 -- names and SQL fragments from code; values bound
    return int(con.execute(sql, [*args, month]).fetchone()[0])
