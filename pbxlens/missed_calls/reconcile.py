"""The callback-request state machine of nexus_modules.md A.9 as set-based DuckDB SQL.

Per (tenant, number) the requests are a pure function of three streams, so rebuilding a
number from them gives the same states however often data is replayed:

- missed calls (``missed_events``, from ``sources.events_sql``);
- closers: answered inbound calls by a person with bill_secs > `success_min_billsec` (R7),
  successful outbound callbacks (R5), and flushes (R8, ``missed_flushes``), each placed at its
  end (R11: calls are processed in order of end time);
- outbound attempts (``missed_contacts`` kind outbound) for the counters (R6).

Segmentation: order a number's missed calls and closers by time (a closer first on a tie).
The missed calls between two consecutive closers form one request (R1/R2); the closer after
them closes it (R5/R7/R8); later missed calls open the next one (R9); closers with no open
request are ignored (R11). A closer that started before its request's first call does not
count (R11): it is dropped and the number is segmented again (a fixpoint that converges in one
or two rounds on real data, since it needs a call from a number overlapping its own missed call).

An attempt belongs to the request open when it ended and that existed before it started
(start > first_call, end <= closed_at). Unsuccessful attempts count in ``num_recalled`` and set
``last_recalled`` (R6). Each attempt is kept in ``missed_attempts`` for the reports.

Incremental: an ingest batch rebuilds the events and contacts of its own calls and dynamic-
routing rows, then the requests of every number those rows had or have. The same code with
every key and every number is the full rebuild.

Every run notes the numbers it rebuilt in the connection's temp table `_mc_touched` (a row of
NULLs after a full rebuild): `pbxlens.missed_calls.sync.push` on the same connection carries
those requests to the operations store, where operators work on them.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from decimal import Decimal

import duckdb

from pbxlens.missed_calls import settings as ms
from pbxlens.missed_calls.sources import contacts_sql, events_sql

SCRATCH = ("_mc_keys", "_mc_nums", "_mc_ev", "_mc_cl", "_mc_bad", "_mc_seg", "_mc_req")
TOUCHED = "_mc_touched"
MAX_ROUNDS = 50


def _threshold(vals: dict[str, str]) -> str:
    return str(Decimal(vals["success_min_billsec"]))  # validated digits: safe to inline


TABLES = ("missed_events", "missed_contacts", "missed_requests", "missed_attempts")


def on_batches(con: duckdb.DuckDBPyConnection, batch_ids: Sequence[int]) -> dict[str, int]:
    """Reconcile after ingest batches (CDR or Call Center CDR files, webhook group commits):
    the calls, queue calls and dynamic-routing rows they inserted or replaced. The pipeline's
    reconcile step, after the derive step (it reads queue_visits)."""
    lo, hi = min(batch_ids), max(batch_ids)
    con.execute("""CREATE OR REPLACE TEMP TABLE _mc_keys AS
        SELECT DISTINCT tenant, unique_id FROM calls WHERE batch_id BETWEEN $lo AND $hi
        UNION SELECT tenant, unique_id FROM queue_calls WHERE batch_id BETWEEN $lo AND $hi
        UNION SELECT tenant, unique_id FROM dynamic_routing_requests
        WHERE batch_id BETWEEN $lo AND $hi""", {"lo": lo, "hi": hi})
    return _refresh(con, scoped=True)


def for_keys(con: duckdb.DuckDBPyConnection, keys: list[tuple[str, str]]) -> dict[str, int]:
    """Reconcile these (tenant, unique_id) keys (tests, webhooks)."""
    con.execute("CREATE OR REPLACE TEMP TABLE _mc_keys (tenant TEXT, unique_id TEXT)")
    if keys:
        con.executemany("INSERT INTO _mc_keys VALUES (?, ?)", keys)
    return _refresh(con, scoped=True)


def rebuild_all(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """Rebuild everything (after a settings change, or to check that incremental == full)."""
    return _refresh(con, scoped=False)


def rebuild_numbers(con: duckdb.DuckDBPyConnection, nums: list[tuple[str, str]]) -> dict[str, int]:
    """Rebuild the requests of these (tenant, call_num) after a flush."""
    con.execute("CREATE OR REPLACE TEMP TABLE _mc_nums (tenant TEXT, call_num TEXT)")
    if nums:
        con.executemany("INSERT INTO _mc_nums VALUES (?, ?)", nums)
    return _requests(con, ms.load_copy(con), scoped=True)


def touched_table(con: duckdb.DuckDBPyConnection) -> str:
    """The temp table of rebuilt numbers on `con` (created when missing)."""
    con.execute(f"CREATE TEMP TABLE IF NOT EXISTS {TOUCHED} (tenant TEXT, call_num TEXT)")
    return TOUCHED


def _refresh(con: duckdb.DuckDBPyConnection, *, scoped: bool) -> dict[str, int]:
    t0 = time.perf_counter()
    vals = ms.load_copy(con)
    if scoped:
        con.execute("""CREATE OR REPLACE TEMP TABLE _mc_nums AS
            SELECT tenant, call_num FROM missed_events x
            SEMI JOIN _mc_keys k ON k.tenant = x.tenant AND k.unique_id = x.unique_id
            UNION SELECT tenant, call_num FROM missed_contacts x
            SEMI JOIN _mc_keys k ON k.tenant = x.tenant AND k.unique_id = x.unique_id""")
        for t in ("missed_events", "missed_contacts"):
            con.execute(f"DELETE FROM {t} USING _mc_keys k "  # noqa: S608 -- names and SQL fragments from code; values bound
                        f"WHERE {t}.tenant = k.tenant AND {t}.unique_id = k.unique_id")
    else:
        for t in ("missed_events", "missed_contacts", "missed_requests", "missed_attempts"):
            con.execute(f"DELETE FROM {t}")  # noqa: S608 -- names and SQL fragments from code; values bound
    keys = "_mc_keys" if scoped else None
    con.execute(f"INSERT INTO missed_events BY NAME {events_sql(keys, vals)}")
    con.execute(f"INSERT INTO missed_contacts BY NAME {contacts_sql(keys)}")
    if scoped:
        con.execute("""INSERT INTO _mc_nums
            SELECT tenant, call_num FROM missed_events x
            SEMI JOIN _mc_keys k ON k.tenant = x.tenant AND k.unique_id = x.unique_id
            UNION SELECT tenant, call_num FROM missed_contacts x
            SEMI JOIN _mc_keys k ON k.tenant = x.tenant AND k.unique_id = x.unique_id""")
        con.execute("CREATE OR REPLACE TEMP TABLE _mc_nums AS SELECT DISTINCT * FROM _mc_nums")
    out = _requests(con, vals, scoped=scoped)
    out["seconds"] = round(time.perf_counter() - t0, 3)
    return out


def _requests(con: duckdb.DuckDBPyConnection, vals: dict[str, str], *, scoped: bool) -> dict[str, int]:
    thr = _threshold(vals)

    def nums(alias: str) -> str:
        return (f"SEMI JOIN _mc_nums s ON s.tenant = {alias}.tenant AND s.call_num = {alias}.call_num"
                if scoped else "")

    con.execute(f"CREATE OR REPLACE TEMP TABLE _mc_ev AS SELECT x.* FROM missed_events x {nums('x')}")  # noqa: S608 -- names and SQL fragments from code; values bound
    # Closers of numbers that have missed calls (others can close nothing).
    con.execute(f"""CREATE OR REPLACE TEMP TABLE _mc_cl AS
SELECT row_number() OVER () AS cid, * FROM (  -- cid: identity within this run only
  SELECT x.tenant, x.call_num, x.unique_id AS ref,
    CASE WHEN x.kind = 'inbound' THEN 'served_inbound' ELSE 'handled_with_callback' END AS closure,
    x.start_ts, x.end_ts AS key_ts
  FROM missed_contacts x
  SEMI JOIN (SELECT DISTINCT tenant, call_num FROM _mc_ev) e
    ON e.tenant = x.tenant AND e.call_num = x.call_num
  WHERE x.status = 'OK' AND x.bill_s > {thr} AND (x.kind = 'outbound' OR x.person)
  UNION ALL
  SELECT f.tenant, f.call_num, f.flushed_by, 'forced_closure', f.flushed_at, f.flushed_at
  FROM missed_flushes f {nums('f')})""")  # noqa: S608 -- names and SQL fragments from code; values bound
    _segment(con)
    _group_requests(con)
    _clear_and_note(con, scoped=scoped)
    n = _insert_requests(con, thr)
    drop_scratch(con)
    return {"requests": int(n)}


def _segment(con: duckdb.DuckDBPyConnection) -> None:
    """`_mc_seg`: each number's missed calls and closers in one time-ordered stream, cut into
    gaps by the closers; a closer that started before its gap's first call cannot close it
    and is dropped (`_mc_bad`), until no such closer is left."""
    con.execute("CREATE OR REPLACE TEMP TABLE _mc_bad (cid BIGINT)")
    # One stream per number, no joins: DuckDB plans joins of transaction-local temp tables
    # badly (no statistics), and reconcile runs inside the ingest batch's transaction.
    for _round in range(MAX_ROUNDS):
        con.execute("""CREATE OR REPLACE TEMP TABLE _mc_seg AS
WITH s AS (
  SELECT tenant, call_num, event_ts AS t, 0 AS is_close, unique_id AS ref,
    CAST(NULL AS BIGINT) AS cid, CAST(NULL AS TIMESTAMPTZ) AS start_ts, CAST(NULL AS TEXT) AS closure,
    queue, type, source, account_code
  FROM _mc_ev
  UNION ALL
  SELECT tenant, call_num, key_ts, 1, ref, cid, start_ts, closure, NULL, NULL, NULL, NULL
  FROM _mc_cl c WHERE NOT EXISTS (SELECT 1 FROM _mc_bad b WHERE b.cid = c.cid)
), g AS (
  SELECT *, sum(is_close) OVER (PARTITION BY tenant, call_num ORDER BY t, is_close DESC, ref
                                ROWS UNBOUNDED PRECEDING) - is_close AS gap
  FROM s
)
SELECT *, min(CASE WHEN is_close = 0 THEN t END) OVER (PARTITION BY tenant, call_num, gap)
  AS gap_first
FROM g""")
        bad = con.execute("INSERT INTO _mc_bad SELECT cid FROM _mc_seg "
                          "WHERE is_close = 1 AND start_ts <= gap_first").fetchone()[0]
        if not bad:
            break


def _group_requests(con: duckdb.DuckDBPyConnection) -> None:
    """`_mc_req`: one callback request per gap that holds missed calls."""
    con.execute("""CREATE OR REPLACE TEMP TABLE _mc_req AS
WITH r AS (
  SELECT tenant, call_num, gap, min(t) FILTER (WHERE is_close = 0) AS first_call,
    max(t) FILTER (WHERE is_close = 0) AS last_call,
    count(*) FILTER (WHERE is_close = 0) AS num_calls,
    first(ref ORDER BY t, ref) FILTER (WHERE is_close = 0) AS first_uid,
    last(queue ORDER BY t, ref) FILTER (WHERE is_close = 0) AS queue,
    last(type ORDER BY t, ref) FILTER (WHERE is_close = 0) AS type,
    last(source ORDER BY t, ref) FILTER (WHERE is_close = 0) AS source,
    last(account_code ORDER BY t, ref) FILTER (WHERE is_close = 0) AS account_code,
    min(closure) FILTER (WHERE is_close = 1) AS closure,
    min(t) FILTER (WHERE is_close = 1) AS closed_at,
    min(ref) FILTER (WHERE is_close = 1) AS closed_by
  FROM _mc_seg GROUP BY tenant, call_num, gap
)
SELECT *, call_num || '|' || first_uid AS request_key FROM r WHERE num_calls > 0""")


def _insert_requests(con: duckdb.DuckDBPyConnection, thr: str) -> int:
    """The requests of `_mc_req` and their callback attempts into the fact tables; the
    number of requests."""
    con.execute(f"""INSERT INTO missed_attempts
SELECT r.tenant, r.request_key, r.call_num, x.unique_id, x.start_ts, x.end_ts, x.bill_s,
  x.status = 'OK' AND x.bill_s > {thr} AS success, x.extension
FROM _mc_req r
JOIN missed_contacts x ON x.tenant = r.tenant AND x.call_num = r.call_num AND x.kind = 'outbound'
  AND x.start_ts > r.first_call AND (r.closed_at IS NULL OR x.end_ts <= r.closed_at)""")  # noqa: S608 -- names and SQL fragments from code; values bound
    n = con.execute("""INSERT INTO missed_requests
WITH a AS (
  SELECT a.tenant, a.request_key, count(*) FILTER (WHERE NOT a.success) AS num_recalled,
    max(a.start_ts) FILTER (WHERE NOT a.success) AS last_recalled,
    min(a.start_ts) FILTER (WHERE a.success) AS first_success
  FROM missed_attempts a SEMI JOIN _mc_req r ON r.tenant = a.tenant AND r.request_key = a.request_key
  GROUP BY a.tenant, a.request_key
)
SELECT r.tenant, r.request_key, r.call_num, r.first_call, r.last_call,
  CAST(r.first_call AS DATE) AS day, r.num_calls, coalesce(a.num_recalled, 0), a.last_recalled,
  r.queue, r.type, r.source, r.account_code,
  CASE WHEN r.closure IS NULL THEN 'open' ELSE 'closed' END AS state,
  r.closure, r.closed_at, r.closed_by,
  CAST(date_diff('second', r.first_call, a.first_success) AS INTEGER) AS recall_s
FROM _mc_req r LEFT JOIN a ON a.tenant = r.tenant AND a.request_key = r.request_key""").fetchone()[0]
    return int(n)


def _clear_and_note(con: duckdb.DuckDBPyConnection, *, scoped: bool) -> None:
    """Drop the rebuilt numbers' old requests and attempts (a full rebuild emptied them all)
    and note the numbers for `sync.push`."""
    if scoped:
        for t in ("missed_requests", "missed_attempts"):
            con.execute(f"DELETE FROM {t} USING _mc_nums s "  # noqa: S608 -- names and SQL fragments from code; values bound
                        f"WHERE {t}.tenant = s.tenant AND {t}.call_num = s.call_num")
        con.execute(f"INSERT INTO {touched_table(con)} SELECT tenant, call_num FROM _mc_nums")  # noqa: S608 -- names and SQL fragments from code; values bound
    else:
        con.execute(f"INSERT INTO {touched_table(con)} VALUES (NULL, NULL)")  # everything  # noqa: S608 -- names and SQL fragments from code; values bound


def drop_scratch(con: duckdb.DuckDBPyConnection) -> None:
    for t in SCRATCH:
        con.execute(f"DROP TABLE IF EXISTS {t}")
