"""Rating keys: the inputs of a call's rating, computed once when the call is loaded.

A call's cost depends on its tariffs only through (direction, tenant, company, gateway or
outbound configuration, the external number, day) and on its billing profile through
(tenant, line, number). Everything but the day, the billed seconds and the company is a pure
function of the call's own CDR rows, so it is computed here once per call (the obl detail
line, the number cleaned by one regular expression, the line-seizure code stripped, the home
calling code mapped to the national form) and stored as a *key* shared by every call with the
same values: `rating_keys` (kid, tenant, dir, gw, line, num, acc, ext) and `rating_calls`
(call, kid, start, day, year, billed seconds). The company comes from the directory at rating
time, per key (acc/ext are the account and extension the directory resolves, BL-7), so a
directory change needs no recomputation here.

`refresh(con, batch_ids)` keeps both tables for the calls of ingest batches; `rebuild(con)`
recomputes them from every call; the number settings used are recorded, and a change of them
(or a store that never had keys) rebuilds on the next use (`ensure`).
"""

from __future__ import annotations

import duckdb
import phonenumbers

from pbxlens.config import get_settings

KEY_COLS = ("tenant", "dir", "gw", "line", "num", "acc", "ext")
_SCRATCH = ("_rk_new", "_rk_cfg")

# One row per ratable call of {calls} (a table or subquery with the calls columns).
_INPUTS = """
CREATE OR REPLACE TEMP TABLE _rk_new AS
WITH c AS (
  SELECT c.tenant, c.unique_id, c.leg_branch, c.direction, c.start_ts, c.start_local, c.bill_s,
    c.gateway_name, c.answered_by, c.src_peer_name, c.src_extension, c.caller,
    regexp_replace(CASE WHEN c.direction = 'incoming' THEN c.caller ELSE c.called END,
                   '[^0-9+]', '', 'g') AS n0
  FROM {calls} c
  WHERE c.direction IN ('incoming', 'outgoing') AND c.bill_s > 0),
obl AS (
  SELECT l.tenant, l.unique_id, l.leg_branch, arg_max(l.dest_id, l.seq) AS cfg,
    arg_max(l.dest_name, l.seq) AS line
  FROM call_legs l SEMI JOIN (SELECT * FROM c WHERE direction = 'outgoing') o
    ON o.tenant = l.tenant AND o.unique_id = l.unique_id AND o.leg_branch = l.leg_branch
  WHERE l.dest_type = 'obl' GROUP BY l.tenant, l.unique_id, l.leg_branch),
co AS (
  SELECT c.*, c.gateway_name AS gw, c.gateway_name AS line, c.n0 AS n1,
    c.answered_by AS acc, c.answered_by AS ext
  FROM c WHERE c.direction = 'incoming'
  UNION ALL
  SELECT c.*, coalesce(o.cfg, c.gateway_name) AS gw, coalesce(o.line, c.gateway_name) AS line,
    CASE WHEN g.seize <> '' AND starts_with(c.n0, g.seize) THEN substr(c.n0, length(g.seize) + 1)
         ELSE c.n0 END AS n1,
    c.src_peer_name AS acc, coalesce(c.src_extension, c.caller) AS ext
  FROM c CROSS JOIN _rk_cfg g LEFT JOIN obl o ON o.tenant = c.tenant
    AND o.unique_id = c.unique_id AND o.leg_branch = c.leg_branch
  WHERE c.direction = 'outgoing')
SELECT c.tenant, c.unique_id, c.leg_branch,
  CASE WHEN c.direction = 'incoming' THEN 'in' ELSE 'out' END AS dir, c.gw, c.line,
  CASE WHEN starts_with(c.n1, '+' || g.home) THEN substr(c.n1, length(g.home) + 2)
       WHEN starts_with(c.n1, '00' || g.home) THEN substr(c.n1, length(g.home) + 3)
       WHEN starts_with(c.n1, '+') THEN '00' || substr(c.n1, 2) ELSE c.n1 END AS num,
  c.acc, c.ext, c.start_ts, CAST(c.start_local AS DATE) AS day,
  CAST(year(c.start_local) AS SMALLINT) AS yr, CAST(ceil(c.bill_s) AS INTEGER) AS s
FROM co c CROSS JOIN _rk_cfg g"""

_SAME_KEY = " AND ".join(f"r.{c} IS NOT DISTINCT FROM n.{c}" for c in KEY_COLS)
_NEW_KEYS = f"""
INSERT INTO rating_keys
SELECT nextval('rating_key_seq'), {", ".join(KEY_COLS)} FROM (
  SELECT DISTINCT {", ".join(KEY_COLS)} FROM _rk_new) n
WHERE NOT EXISTS (SELECT 1 FROM rating_keys r WHERE {_SAME_KEY})"""  # noqa: S608 -- names and SQL fragments from code; values bound
_NEW_CALLS = f"""
INSERT INTO rating_calls
SELECT n.tenant, n.unique_id, n.leg_branch, r.kid, n.start_ts, n.day, n.yr, n.s
FROM _rk_new n JOIN rating_keys r ON {_SAME_KEY}
ORDER BY n.day, n.start_ts"""  # noqa: S608 -- names and SQL fragments from code; values bound


def settings() -> tuple[str, str]:
    """(line-seizure code, home calling code): the number settings keys depend on."""
    s = get_settings()
    home = str(phonenumbers.country_code_for_region(s.default_region) or 39)
    return s.line_prefix or "", home


def current(con: duckdb.DuckDBPyConnection) -> bool:
    row = con.execute("SELECT seize, home FROM rating_keys_meta").fetchone()
    return row is not None and tuple(row) == settings()


def ensure(con: duckdb.DuckDBPyConnection) -> None:
    """Build the keys when the store has none, or has them for other number settings."""
    if not current(con):
        rebuild(con)


def _prepare(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("CREATE OR REPLACE TEMP TABLE _rk_cfg AS SELECT CAST(? AS TEXT) AS seize, "
                "CAST(? AS TEXT) AS home", list(settings()))


def rebuild(con: duckdb.DuckDBPyConnection) -> None:
    """Recompute every key and every ratable call's row from calls / call_legs (the keys get
    new ids: the stored tariff choices per key go too; the next rating stores them again)."""
    _prepare(con)
    for t in ("rating_calls", "rating_keys", "rating_keys_meta", "rating_choices"):
        con.execute(f"DELETE FROM {t}")  # noqa: S608 -- names and SQL fragments from code; values bound
    con.execute(_INPUTS.format(calls="calls"))
    con.execute(_NEW_KEYS)
    con.execute(_NEW_CALLS)
    con.execute("INSERT INTO rating_keys_meta (seize, home) VALUES (?, ?)", list(settings()))
    _drop(con)


def refresh(con: duckdb.DuckDBPyConnection, batch_ids: int | list[int]) -> None:
    """Recompute the rows of the calls these ingest batches inserted or replaced (a replaced
    call keeps its key when its inputs did not change; a call no longer ratable loses its
    row). The pipeline's rating step, before it rates the batches."""
    if not current(con):
        rebuild(con)
        return
    ids = [int(batch_ids)] if isinstance(batch_ids, int) else [int(b) for b in batch_ids]
    _prepare(con)
    con.execute("CREATE OR REPLACE TEMP TABLE _rk_batch AS SELECT DISTINCT tenant, unique_id, "
                "leg_branch FROM calls WHERE list_contains(?, batch_id)", [ids])
    con.execute("""DELETE FROM rating_calls r USING _rk_batch b WHERE r.tenant = b.tenant
        AND r.unique_id = b.unique_id AND r.leg_branch = b.leg_branch""")
    calls = ("(SELECT c.* FROM calls c SEMI JOIN _rk_batch b ON b.tenant = c.tenant "
             "AND b.unique_id = c.unique_id AND b.leg_branch = c.leg_branch)")
    con.execute(_INPUTS.format(calls=calls))
    con.execute(_NEW_KEYS)
    con.execute(_NEW_CALLS)
    con.execute("DROP TABLE IF EXISTS _rk_batch")
    _drop(con)


def _drop(con: duckdb.DuckDBPyConnection) -> None:
    for t in _SCRATCH:
        con.execute(f"DROP TABLE IF EXISTS {t}")
