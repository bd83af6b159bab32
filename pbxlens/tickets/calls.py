"""The CDR side of tickets and trace: calls stay in the analytics store (DuckDB `calls`), so the
module reads them here, with a reading cursor, apart from its own rows in the operations store.
A screen that shows both (the trace mask, a ticket with its linked calls) reads the operations
store first, then passes what it found (a number, a list of unique ids) to these functions as
bound parameters, and combines the two small results in Python: never a join across stores.

Rows come back with caller and called masked (last three digits `xxx`) unless `privacy` is set.
"""

from __future__ import annotations

import duckdb

from pbxlens.models import phone
from pbxlens.store.privacy import mask_number

RECENT_LIMIT = 50  # "Chiamate Called tra le ultime 50" (B.11)
MAX_LINKED = 1000
_COLUMNS = """unique_id, strftime(start_local, '%d/%m/%Y %H:%M:%S') AS start, caller, called, status,
       direction, CAST(bill_s AS DOUBLE) AS bill_s"""


def _rows(rel: duckdb.DuckDBPyConnection, privacy: bool) -> list[dict]:
    cols = [d[0] for d in rel.description]
    out = [dict(zip(cols, r, strict=True)) for r in rel.fetchall()]
    if not privacy:
        for r in out:
            r["caller"], r["called"] = mask_number(r["caller"]), mask_number(r["called"])
    return out


def recent(cur: duckdb.DuckDBPyConnection, number: str | None, *, tenant: str = "default",
           privacy: bool = False, limit: int = RECENT_LIMIT) -> list[dict]:
    """The calls from or to `number` (any written form), newest first. The suffix test is a
    cheap pre-filter; the match itself is on the national form, the same rule as everywhere."""
    n = phone.national(number)
    if not n or len(n) < 3:
        return []
    tail = "%" + n[-4:]
    # the inlined expressions hold only the settings' digits, checked by national_sql
    sql = f"""
SELECT {_COLUMNS}
FROM calls
WHERE tenant = ? AND (caller LIKE ? OR called LIKE ?)
  AND ((direction <> 'outgoing' AND {phone.national_sql("caller")} = ?)
       OR {phone.national_sql("called", "direction = 'outgoing'")} = ?)
ORDER BY start_ts DESC, unique_id DESC, leg_branch
LIMIT ?"""  # noqa: S608 -- fixed columns and settings digits; values are bound
    return _rows(cur.execute(sql, [tenant, tail, tail, n, n, limit]), privacy)


def by_unique_ids(cur: duckdb.DuckDBPyConnection, unique_ids: list[str], *, tenant: str = "default",
                  privacy: bool = False) -> list[dict]:
    """The CDR rows of the given calls (a ticket's or a trace's linked calls), oldest first; ids
    the CDR does not hold (yet) are simply absent."""
    ids = sorted({str(u) for u in unique_ids if u})[:MAX_LINKED]
    if not ids:
        return []
    sql = f"""
SELECT {_COLUMNS}
FROM calls
WHERE tenant = ? AND list_contains(?, unique_id)
ORDER BY start_ts, unique_id, leg_branch"""  # noqa: S608 -- fixed columns and settings digits; values are bound
    return _rows(cur.execute(sql, [tenant, ids]), privacy)
