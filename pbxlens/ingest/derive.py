"""Derived facts kept beside calls/call_legs, refreshed by the pipeline's derive step after
each batch (pbxlens.pipeline), from the rows of the batch.

Three narrow tables let each report family read ONE table filtered by a day range, with no
join to call_legs, no window function and no time-zone arithmetic at report time:

- ``call_facts``: one row per call (the dashboard's grain), with its start buckets and the
  incoming wait/talk seconds of C5 precomputed;
- ``queue_visits``: one row per CDR detail line of type ``queue`` (spec §0.9 per-visit times
  precomputed as whole seconds, the exit-cause block, the call's start buckets in PBX local
  time — C22);
- ``agent_legs``: one row per operator leg: *received* legs (detail lines of type
  ``local_exten``, with the queue visit they belong to) and *originated candidates* (calls of
  direction outgoing/internal whose src_peer_name is set; the report keeps those whose
  src_peer_name is an operator account, resolved against the directory at report time because
  the directory may be loaded after the CDR).

Everything here depends only on the call and its own path (never on the directory or on
settings), so the rows of a call are a pure function of its calls/call_legs rows: refreshing
the calls of a batch equals a full rebuild.

Ring leg -> queue visit rule (unchanged from the reports): a ``local_exten`` line belongs to the
nearest earlier ``queue`` line of the same call when it starts inside that visit's
[enter, exit] window and has the visit's source number.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import duckdb

from pbxlens.scale import rollups

TABLES = ("call_facts", "queue_visits", "agent_legs", "line_calls")


def _sec(a: str, b: str) -> str:
    """Whole seconds from instant a to b, counted as date_diff('second', a, b) counts them
    (second boundaries crossed), without the calendar arithmetic date_diff does on a
    TIMESTAMPTZ (about 50 times slower). Exact: microsecond epochs fit a double."""
    return (f"CAST(floor(epoch_us({b}) / 1000000) - floor(epoch_us({a}) / 1000000)"
            " AS INTEGER)")


_ANS = "'NCC-AGENT', 'NCC-CALLER', 'NCC', 'ANSWER', 'TRANSFER', 'TRASFERIMENTO'"

_Q_BLOCK = """CASE WHEN l.exit_cause = 'ATXFER' THEN 'TRASFERIMENTO'
           WHEN l.exit_cause = 'JOINEMPTY' THEN 'QUEUE_JOINEMPTY'
           WHEN l.exit_cause = 'ANSWERED_ELSEWHERE' THEN 'ANSWERED ELSEWHERE'
           WHEN l.exit_cause = 'CANCELED_NOWAIT' THEN 'CANCELED NOWAIT'
           WHEN l.exit_cause IS NULL OR l.exit_cause IN ('?', '??') THEN '?'
           ELSE l.exit_cause END"""

_R_BLOCK = """CASE
           WHEN r.exit_cause = 'BLINDXFER' THEN 'TRANSFER'
           WHEN r.exit_cause = 'ATXFER' THEN 'TRASFERIMENTO'
           WHEN r.exit_cause = 'ANSWERED_ELSEWHERE' THEN 'ANSWERED ELSEWHERE'
           WHEN r.exit_cause = 'CANCELED_NOWAIT' THEN 'CANCELED NOWAIT'
           WHEN r.exit_cause = 'NOANSWER' AND r.q_seq IS NOT NULL THEN 'TIMEOUT'
           WHEN r.exit_cause = 'DECLINED' THEN 'REFUSED'
           WHEN r.exit_cause IN ('UFWD', 'CFWD2MOBILE', 'FASTXFER2MOBILE') THEN 'FORWARD'
           WHEN r.exit_cause IS NULL OR r.exit_cause IN ('?', '??') THEN '?'
           ELSE r.exit_cause END"""

_O_BLOCK = """CASE WHEN c.status = 'OK' THEN 'ANSWER' WHEN c.status IN ('?', '??') THEN '?'
           ELSE c.status END"""

# {scope}: a relation with the calls whose derived rows are (re)built.
CALL_FACTS_SQL = f"""INSERT INTO call_facts
SELECT c.tenant, c.unique_id, c.leg_branch,
  CAST(c.start_local AS DATE) AS day, CAST(hour(c.start_local) AS SMALLINT) AS hr,
  CAST(dayofweek(c.start_local) AS SMALLINT) AS dow, c.direction, c.status, c.caller, c.called,
  c.account_code, c.gateway_name, c.duration_s AS dur_s,
  CASE WHEN c.direction = 'incoming' THEN coalesce(
    {_sec('c.start_ts', 'coalesce(c.answer_ts, c.channel_up_ts)')}, c.duration_s)
    ELSE 0 END AS wait_s,
  CASE WHEN c.direction = 'incoming' THEN CAST(floor(c.bill_s) AS INTEGER) ELSE 0 END AS talk_s
FROM {{scope}} c
ORDER BY day, unique_id, leg_branch
"""  # noqa: S608 -- names and SQL fragments from code; values bound

QUEUE_VISITS_SQL = f"""INSERT INTO queue_visits
WITH v AS (
  SELECT l.tenant, l.unique_id, l.leg_branch, l.seq, c.start_local, c.status,
    l.dest_id, l.dest_name, l.exit_cause, {_Q_BLOCK} AS block,
    nullif(l.answered_by, '') AS account,
    l.enter_ts, coalesce(l.enqueue_ts, l.enter_ts) AS enq_ts, l.answer_ts, l.exit_ts
  FROM {{scope}} c
  JOIN {{legs}} l ON l.tenant = c.tenant AND l.unique_id = c.unique_id
    AND l.leg_branch = c.leg_branch
  WHERE l.dest_type = 'queue'
), a AS (
  SELECT *, block IN ({_ANS}) AS ans, coalesce({_sec('enter_ts', 'exit_ts')}, 0) AS tot
  FROM v
)
SELECT tenant, unique_id, leg_branch, seq,
  CAST(start_local AS DATE) AS day, CAST(hour(start_local) AS SMALLINT) AS hr,
  CAST(dayofweek(start_local) AS SMALLINT) AS dow, status,
  coalesce(nullif(dest_id, ''), nullif(dest_name, ''), '') AS qkey,
  dest_id AS queue_id, dest_name AS queue_name,
  coalesce(nullif(dest_id, ''), nullif(dest_name, '')) IS NULL AS empty_queue,
  exit_cause, block, ans AS answered, account,
  coalesce({_sec('enter_ts', 'enq_ts')}, 0) AS queuing_s,
  CASE WHEN ans THEN coalesce({_sec('enq_ts', 'answer_ts')}, 0) ELSE 0 END AS resp_s,
  CASE WHEN ans THEN coalesce({_sec('answer_ts', 'exit_ts')}, 0) ELSE 0 END AS talk_s,
  tot AS tot_s,
  CASE WHEN ans THEN tot ELSE 0 END AS dur_s,
  CASE WHEN ans THEN 0 ELSE tot END AS wait_s,
  CASE WHEN ans THEN coalesce({_sec('enter_ts', 'answer_ts')}, 0) ELSE 0 END AS asa_s
FROM a
ORDER BY day, unique_id, leg_branch, seq
"""  # noqa: S608 -- names and SQL fragments from code; values bound

AGENT_LEGS_SQL = f"""INSERT INTO agent_legs
WITH c AS (
  SELECT * FROM {{scope}}
), l AS (
  -- the path lines alone (the call's fields are joined after the visit lookup: narrower rows)
  SELECT l.tenant, l.unique_id, l.leg_branch, l.seq, l.dest_type, l.dest_id, l.dest_name,
    l.source_num, l.enter_ts, l.answer_ts, l.exit_ts, l.exit_cause, l.answered_by
  FROM {{legs}} l
  WHERE l.dest_type IN ('queue', 'local_exten')
), q AS (
  SELECT *, lead(seq, 1, 2147483647) OVER (PARTITION BY tenant, unique_id, leg_branch
      ORDER BY seq) AS next_q
  FROM l WHERE dest_type = 'queue'
), a AS (
  -- the nearest earlier queue line of the same call: the one before the leg whose next queue
  -- line (if any) comes after it (a hash join on the call; the window runs on queue lines only)
  SELECT w.*, q.seq AS q_seq0, q.dest_id AS q_id0, q.dest_name AS q_name0,
    q.enter_ts AS q_enter0,
    coalesce(w.enter_ts >= q.enter_ts AND w.enter_ts <= q.exit_ts
      AND w.source_num IS NOT DISTINCT FROM q.source_num, false) AS in_visit
  FROM (SELECT * FROM l WHERE dest_type = 'local_exten') w
  LEFT JOIN q ON q.tenant = w.tenant AND q.unique_id = w.unique_id
    AND q.leg_branch = w.leg_branch AND q.seq < w.seq AND w.seq < q.next_q
), r AS (
  SELECT a.* EXCLUDE (q_seq0, q_id0, q_name0, q_enter0, in_visit),
    CASE WHEN in_visit THEN q_seq0 END AS q_seq, CASE WHEN in_visit THEN q_id0 END AS q_id,
    CASE WHEN in_visit THEN q_name0 END AS q_name,
    CASE WHEN in_visit THEN q_enter0 END AS q_enter
  FROM a
), rb AS (
  SELECT r.*, {_R_BLOCK} AS block FROM r
), ra AS (
  SELECT rb.*, block IN ({_ANS}) AS ans FROM rb
), legs AS (
  SELECT r.tenant, r.unique_id, r.leg_branch, r.seq, 'recv' AS kind, c.start_local, c.status,
    c.direction, c.caller, c.called, r.dest_id AS extension, r.dest_name AS op_name,
    CASE WHEN r.ans THEN nullif(r.answered_by, '') END AS account,
    r.q_seq, CASE WHEN r.q_seq IS NOT NULL THEN
      coalesce(nullif(r.q_id, ''), nullif(r.q_name, ''), '') END AS qkey,
    r.q_id AS queue_id, r.q_name AS queue_name, r.exit_cause, r.block,
    r.ans AS answered,
    coalesce({_sec('r.enter_ts', 'coalesce(r.answer_ts, r.exit_ts)')}, 0) AS ring_s,
    CASE WHEN r.ans THEN
      coalesce({_sec('coalesce(r.q_enter, r.enter_ts)', 'r.answer_ts')}, 0) ELSE 0 END AS resp_s,
    CASE WHEN r.ans THEN coalesce({_sec('r.answer_ts', 'r.exit_ts')}, 0)
      ELSE 0 END AS talk_s,
    CASE WHEN r.ans THEN coalesce({_sec('r.answer_ts', 'r.exit_ts')}, 0)
         WHEN r.block IN ('ANSWERED ELSEWHERE', 'REFUSED', 'TIMEOUT') THEN 0
         ELSE coalesce({_sec('r.enter_ts', 'r.exit_ts')}, 0) END AS worked_s
  FROM ra r
  JOIN c ON c.tenant = r.tenant AND c.unique_id = r.unique_id AND c.leg_branch = r.leg_branch
  UNION ALL
  SELECT c.tenant, c.unique_id, c.leg_branch, 0 AS seq, 'orig' AS kind, c.start_local,
    c.status, c.direction, c.caller, c.called, NULL AS extension, NULL AS op_name,
    c.src_peer_name AS account, NULL AS q_seq, NULL AS qkey, NULL AS queue_id,
    NULL AS queue_name, c.status AS exit_cause, {_O_BLOCK} AS block,
    c.status = 'OK' AS answered,
    coalesce({_sec('c.start_ts', 'coalesce(c.answer_ts, c.end_ts)')}, 0) AS ring_s,
    CASE WHEN c.status = 'OK' THEN coalesce({_sec('c.start_ts', 'c.answer_ts')}, 0) ELSE 0 END
      AS resp_s,
    CASE WHEN c.status = 'OK' THEN coalesce({_sec('c.answer_ts', 'c.end_ts')}, 0) ELSE 0 END
      AS talk_s,
    c.duration_s AS worked_s
  FROM c
  WHERE c.src_peer_name IS NOT NULL AND c.direction IN ('outgoing', 'internal')
)
SELECT tenant, unique_id, leg_branch, seq, kind,
  CAST(start_local AS DATE) AS day, CAST(hour(start_local) AS SMALLINT) AS hr,
  CAST(dayofweek(start_local) AS SMALLINT) AS dow, status, direction, caller, called,
  extension, op_name, account, q_seq, qkey, queue_id, queue_name, exit_cause, block, answered,
  CASE
    WHEN kind = 'recv' AND answered AND direction = 'incoming' THEN 'IN'
    WHEN kind = 'recv' AND answered AND direction = 'internal' THEN 'INT'
    WHEN kind = 'orig' AND direction = 'outgoing' AND status = 'OK' THEN 'OUT_OK'
    WHEN kind = 'orig' AND direction = 'outgoing' THEN 'OUT_KO' END AS dir_block,
  ring_s, resp_s, talk_s, worked_s
FROM legs
ORDER BY day, unique_id, leg_branch, seq
"""  # noqa: S608 -- names and SQL fragments from code; values bound

# --- billing codes, groups, checktime, IVR: three more narrow tables (0012) ---------

# Exit cause of an outgoing call's external (obl) line -> report block (as an operator leg's,
# without the queue-only TIMEOUT case).
_B_BLOCK = """CASE
           WHEN o.exit_cause = 'BLINDXFER' THEN 'TRANSFER'
           WHEN o.exit_cause = 'ATXFER' THEN 'TRASFERIMENTO'
           WHEN o.exit_cause = 'ANSWERED_ELSEWHERE' THEN 'ANSWERED ELSEWHERE'
           WHEN o.exit_cause = 'DECLINED' THEN 'REFUSED'
           WHEN o.exit_cause IN ('UFWD', 'CFWD2MOBILE', 'FASTXFER2MOBILE') THEN 'FORWARD'
           WHEN o.exit_cause IN ('?', '??') THEN '?'
           ELSE o.exit_cause END"""

# R6-R8: one row per outgoing call with a billing code (C27). The block is the exit cause of
# the call's last obl line; a call loaded without its path takes NCC when OK, else its status.
BILLING_CALLS_SQL = f"""INSERT INTO billing_calls
WITH c AS (
  SELECT * FROM {{scope}}
  WHERE direction = 'outgoing' AND nullif(account_code, '') IS NOT NULL
), o AS (
  SELECT l.tenant, l.unique_id, l.leg_branch, arg_max(l.exit_cause, l.seq) AS exit_cause
  FROM c JOIN {{legs}} l ON l.tenant = c.tenant AND l.unique_id = c.unique_id
    AND l.leg_branch = c.leg_branch
  WHERE l.dest_type = 'obl'
  GROUP BY l.tenant, l.unique_id, l.leg_branch
)
SELECT c.tenant, c.unique_id, c.leg_branch,
  CAST(c.start_local AS DATE) AS day, CAST(hour(c.start_local) AS SMALLINT) AS hr,
  CAST(dayofweek(c.start_local) AS SMALLINT) AS dow, c.status, c.account_code, c.caller,
  c.called, c.src_peer_name AS account, o.exit_cause,
  CASE WHEN o.exit_cause IS NULL THEN (CASE WHEN c.status = 'OK' THEN 'NCC'
         WHEN c.status IN ('?', '??') THEN '?' ELSE c.status END)
       ELSE {_B_BLOCK} END AS block,
  c.duration_s AS dur_s, CAST(floor(c.bill_s) AS INTEGER) AS bill_s,
  CASE WHEN c.answer_ts IS NULL THEN 0
       ELSE coalesce({_sec('c.answer_ts', 'c.end_ts')}, 0) END AS talk_s,
  CASE WHEN c.answer_ts IS NULL THEN 0
       ELSE coalesce({_sec('c.start_ts', 'c.answer_ts')}, 0) END AS wait_s
FROM c LEFT JOIN o ON o.tenant = c.tenant AND o.unique_id = c.unique_id
  AND o.leg_branch = c.leg_branch
ORDER BY day, c.unique_id, c.leg_branch
"""  # noqa: S608 -- names and SQL fragments from code; values bound

# R11-R13: one row per ring-group visit (detail line `callg`). Its member legs are the
# local_exten/obl lines whose nearest earlier container line (callg, queue, ivr) is this visit
# and that start inside [enter, exit]; CFWD/UFWD/FORK2MOBILE among them are counted (C20).
# Answered = the visit was answered and talked (talk > 0, C21).
GROUP_VISITS_SQL = f"""INSERT INTO group_visits
WITH gc AS (
  -- the calls that visit a group (a small share): only their lines are joined and windowed
  SELECT DISTINCT c.tenant, c.unique_id, c.leg_branch, c.start_local, c.status
  FROM {{scope}} c
  JOIN {{legs}} l ON l.tenant = c.tenant AND l.unique_id = c.unique_id
    AND l.leg_branch = c.leg_branch
  WHERE l.dest_type = 'callg'
), l AS (
  SELECT l.tenant, l.unique_id, l.leg_branch, l.seq, l.dest_type, l.dest_id, l.dest_name,
    l.enter_ts, l.answer_ts, l.exit_ts, l.exit_cause, gc.start_local, gc.status
  FROM gc
  JOIN {{legs}} l ON l.tenant = gc.tenant AND l.unique_id = gc.unique_id
    AND l.leg_branch = gc.leg_branch
  WHERE l.dest_type IN ('callg', 'queue', 'ivr', 'local_exten', 'obl')
), k AS (
  -- container lines (group, queue, IVR) with the next one's seq: a member line belongs to
  -- the container before it whose next container comes after it
  SELECT *, lead(seq, 1, 2147483647) OVER (PARTITION BY tenant, unique_id, leg_branch
      ORDER BY seq) AS next_k
  FROM l WHERE dest_type IN ('callg', 'queue', 'ivr')
), m AS (
  SELECT w.tenant, w.unique_id, w.leg_branch, g.seq AS prev_seq,
    count(*) FILTER (WHERE w.exit_cause = 'CFWD') AS n_cfwd,
    count(*) FILTER (WHERE w.exit_cause = 'UFWD') AS n_ufwd,
    count(*) FILTER (WHERE w.exit_cause = 'FORK2MOBILE') AS n_fork
  FROM l w JOIN k g ON g.tenant = w.tenant AND g.unique_id = w.unique_id
    AND g.leg_branch = w.leg_branch AND g.seq < w.seq AND w.seq < g.next_k
  WHERE g.dest_type = 'callg' AND w.dest_type IN ('local_exten', 'obl')
    AND w.exit_cause IN ('CFWD', 'UFWD', 'FORK2MOBILE')
    AND w.enter_ts >= g.enter_ts AND w.enter_ts <= g.exit_ts
  GROUP BY w.tenant, w.unique_id, w.leg_branch, g.seq
), g AS (
  SELECT l.*, coalesce({_sec('l.answer_ts', 'l.exit_ts')}, 0) AS talk
  FROM l WHERE l.dest_type = 'callg'
)
SELECT g.tenant, g.unique_id, g.leg_branch, g.seq,
  CAST(g.start_local AS DATE) AS day, CAST(hour(g.start_local) AS SMALLINT) AS hr,
  CAST(dayofweek(g.start_local) AS SMALLINT) AS dow, g.status,
  coalesce(nullif(g.dest_id, ''), nullif(g.dest_name, ''), '') AS gkey,
  g.dest_id AS group_id, g.dest_name AS group_name, g.exit_cause,
  g.answer_ts IS NOT NULL AND g.talk > 0 AS answered,
  CASE WHEN g.answer_ts IS NOT NULL AND g.talk > 0 THEN g.talk ELSE 0 END AS talk_s,
  CAST(coalesce(m.n_cfwd, 0) AS INTEGER) AS n_cfwd,
  CAST(coalesce(m.n_ufwd, 0) AS INTEGER) AS n_ufwd,
  CAST(coalesce(m.n_fork, 0) AS INTEGER) AS n_fork
FROM g LEFT JOIN m ON m.tenant = g.tenant AND m.unique_id = g.unique_id
  AND m.leg_branch = g.leg_branch AND m.prev_seq = g.seq
ORDER BY day, g.unique_id, g.leg_branch, g.seq
"""  # noqa: S608 -- names and SQL fragments from code; values bound

# R23/R24: one row per checktime line (OK = in hours: detail_checktime_in_hours, else an exit
# cause other than CLOSED; C11) and per IVR pass. IVR (errata C12): OK = the call reached the
# menu (one row per ivr line; routed = the menu executed a choice, exit cause NCC/OK); FAILED =
# a call addressed to an IVR (header destination type ivr) that never entered one (e.g. closed
# by a time control): one row with seq 0 and no menu, assigned to a menu at report time through
# its called number. Slots use the call start in PBX local time (C22).
GATE_PASSES_SQL = """INSERT INTO gate_passes
WITH c AS (
  SELECT * FROM {scope}
), l AS (
  SELECT l.tenant, l.unique_id, l.leg_branch, l.seq, l.dest_type AS kind, l.dest_id,
    l.dest_name, l.exit_cause, l.checktime_in_hours, c.start_local, c.called
  FROM c JOIN {legs} l ON l.tenant = c.tenant AND l.unique_id = c.unique_id
    AND l.leg_branch = c.leg_branch
  WHERE l.dest_type IN ('checktime', 'ivr')
), p AS (
  SELECT tenant, unique_id, leg_branch, seq, kind, start_local, called,
    coalesce(nullif(dest_id, ''), nullif(dest_name, ''), '') AS gkey, dest_id AS gate_id,
    dest_name AS gate_name, exit_cause,
    CASE WHEN kind = 'ivr' THEN true
         ELSE coalesce(checktime_in_hours, exit_cause IS DISTINCT FROM 'CLOSED') END AS ok,
    kind = 'ivr' AND exit_cause IN ('NCC', 'OK') AS routed
  FROM l
  UNION ALL
  SELECT c.tenant, c.unique_id, c.leg_branch, 0, 'ivr', c.start_local, c.called, NULL, NULL,
    NULL, NULL, false, false
  FROM c
  WHERE c.destination_type = 'ivr' AND NOT EXISTS (
    SELECT 1 FROM l WHERE l.tenant = c.tenant AND l.unique_id = c.unique_id
      AND l.leg_branch = c.leg_branch AND l.kind = 'ivr')
)
SELECT tenant, unique_id, leg_branch, seq, kind,
  CAST(start_local AS DATE) AS day,
  CAST(hour(start_local) * 60 + minute(start_local) AS SMALLINT) AS mod, called, gkey, gate_id,
  gate_name, exit_cause, ok, routed
FROM p
ORDER BY day, unique_id, leg_branch, seq
"""

ISSUE5_TABLES = ("billing_calls", "group_visits", "gate_passes")
_ISSUE5_INSERTS = (BILLING_CALLS_SQL, GROUP_VISITS_SQL, GATE_PASSES_SQL)

# line_calls (coincidences): one row per call that used a line (migration 0013).
LINE_CALLS_SQL = """INSERT INTO line_calls
WITH c AS (
  SELECT * FROM {scope} WHERE nullif(gateway_name, '') IS NOT NULL
), o AS (
  SELECT l.tenant, l.unique_id, l.leg_branch, arg_max(nullif(l.dest_id, ''), l.seq) AS cfg
  FROM c JOIN {legs} l ON l.tenant = c.tenant AND l.unique_id = c.unique_id
    AND l.leg_branch = c.leg_branch
  WHERE l.dest_type = 'obl' AND c.direction = 'outgoing'
  GROUP BY l.tenant, l.unique_id, l.leg_branch
)
SELECT c.tenant, c.unique_id, c.leg_branch, CAST(c.start_local AS DATE) AS day, c.direction,
  c.gateway_name AS gateway,
  CASE WHEN c.direction = 'outgoing' THEN coalesce(o.cfg, c.gateway_name) END AS out_config,
  CAST(floor(epoch(c.start_ts)) AS BIGINT) AS start_s,
  CAST(floor(epoch(coalesce(c.answer_ts, c.channel_up_ts))) AS BIGINT) AS answer_s,
  CAST(floor(epoch(coalesce(c.end_ts, c.start_ts + to_seconds(c.duration_s)))) AS BIGINT)
    AS end_s
FROM c LEFT JOIN o ON o.tenant = c.tenant AND o.unique_id = c.unique_id
  AND o.leg_branch = c.leg_branch
ORDER BY day, start_s
"""

_INSERTS = (CALL_FACTS_SQL, QUEUE_VISITS_SQL, AGENT_LEGS_SQL, *_ISSUE5_INSERTS, LINE_CALLS_SQL)
TABLES = (*TABLES, *ISSUE5_TABLES)

CALLS_PER_SLICE = 2_000_000
_ORDER = re.compile(r"\nORDER BY [^\n]*\n?$")


def backfill_sql(which: int | tuple[str, ...] = 3) -> list[str]:
    """The statements that derive every call in the store: `3` those of migration 0003's three
    tables, `12` those of the codes/groups/gates tables (migration 0012), or the given INSERT statements
    (migration 0013 runs line_calls')."""
    sqls = _INSERTS[:3] if which == 3 else _ISSUE5_INSERTS if which == 12 else which
    return [sql.format(scope="calls", legs="call_legs") for sql in sqls]


def _batch_sql(sql: str, scope: str, legs: str) -> str:
    """An INSERT for some batches: no ORDER BY (the rows come in the order of the calls they
    derive from, which a batch appends in file order, roughly by time)."""
    return _ORDER.sub("\n", sql.format(scope=scope, legs=legs))


def _params(sql: str, values: dict) -> dict:
    return {k: v for k, v in values.items() if f"${k}" in sql}


def refresh(con: duckdb.DuckDBPyConnection, batch_ids: int | Sequence[int]) -> None:
    """Recompute the derived rows of the calls these batches inserted or replaced.

    The calls of the batches are those with `calls.batch_id` in their range (a replaced call
    was deleted and re-inserted with the new batch id). Their paths are the call_legs of the
    same batches, except for a replaced call whose path was kept from an older batch (a
    summary export, or a Master.csv over a queue_log path): those few are looked up by key.
    Derived rows of these calls that exist already (the call was replaced, or the batch is
    derived again) are deleted first; a batch of new calls deletes nothing."""
    ids = [batch_ids] if isinstance(batch_ids, int) else batch_ids
    lo, hi = min(ids), max(ids)
    scope_sql = "(SELECT * FROM calls WHERE batch_id BETWEEN $lo AND $hi{part})"
    n, ulo, uhi = con.execute("SELECT count(*), min(unique_id), max(unique_id) FROM calls"
                              " WHERE batch_id BETWEEN ? AND ?", [lo, hi]).fetchone()
    if not n:
        return
    values = {"lo": lo, "hi": hi, "ulo": ulo, "uhi": uhi}
    _delete_previous(con, values)
    legs = _legs_sql(con, values)
    # A very big scope is derived in slices of whole calls (by unique_id hash), so that the
    # leg joins and windows stay within the ingest memory budget.
    slices = max(1, -(-n // CALLS_PER_SLICE))
    for k in range(slices):
        part = "" if slices == 1 else f" AND hash(unique_id) % {slices} = {k}"
        part_legs = legs if slices == 1 else f"(SELECT * FROM {legs} WHERE true{part})"  # noqa: S608 -- names and SQL fragments from code; values bound
        for sql in _INSERTS:
            text = _batch_sql(sql, scope_sql.format(part=part), part_legs)
            con.execute(text, _params(text, values))


def _delete_previous(con: duckdb.DuckDBPyConnection, values: dict) -> None:
    """Delete the derived rows the calls in scope already have. Bounded by the scope's
    unique_id range (zone maps skip the rest of the history); skipped when call_facts, which
    has a row for every derived call, has none of them."""
    keys = ("(SELECT DISTINCT tenant, unique_id, leg_branch FROM calls"
            " WHERE batch_id BETWEEN $lo AND $hi)")
    bound = "d.unique_id BETWEEN $ulo AND $uhi"
    on = ("d.tenant = b.tenant AND d.unique_id = b.unique_id AND d.leg_branch = b.leg_branch")
    found = con.execute(f"SELECT count(*) FROM call_facts d SEMI JOIN {keys} b ON {on}"  # noqa: S608 -- names and SQL fragments from code; values bound
                        f" WHERE {bound}", values).fetchone()[0]
    if not found:
        return
    for table in TABLES:
        con.execute(f"DELETE FROM {table} d USING {keys} b WHERE {on} AND {bound}", values)  # noqa: S608 -- names and SQL fragments from code; values bound


def _legs_sql(con: duckdb.DuckDBPyConnection, values: dict) -> str:
    """The call_legs relation of the scope: the legs of its batches, plus, when some call of
    the scope was replaced but kept an older path, the legs of those calls."""
    own = "(SELECT * FROM call_legs WHERE batch_id BETWEEN $lo AND $hi)"
    kept = con.execute("""SELECT count(*) FROM replaced_calls r
        JOIN calls c ON c.tenant = r.tenant AND c.unique_id = r.unique_id
          AND c.leg_branch = r.leg_branch AND c.batch_id BETWEEN $lo AND $hi
        WHERE r.batch_id BETWEEN $lo AND $hi AND c.path_len > 0
          AND c.unique_id BETWEEN $ulo AND $uhi""", values).fetchone()[0]
    if not kept:
        return own
    return """(SELECT * FROM call_legs WHERE batch_id BETWEEN $lo AND $hi
      UNION ALL
      SELECT l.* FROM call_legs l
      SEMI JOIN (SELECT tenant, unique_id, leg_branch FROM replaced_calls
                 WHERE batch_id BETWEEN $lo AND $hi) r
        ON r.tenant = l.tenant AND r.unique_id = l.unique_id AND r.leg_branch = l.leg_branch
      WHERE l.batch_id < $lo AND l.unique_id BETWEEN $ulo AND $uhi)"""


def rebuild(con: duckdb.DuckDBPyConnection) -> None:
    """Recompute every derived row from calls/call_legs (repairs; equals refreshing all),
    and the rollups over them."""
    for table in TABLES:
        con.execute(f"DELETE FROM {table}")  # noqa: S608 -- names and SQL fragments from code; values bound
    for sql in backfill_sql(_INSERTS):
        con.execute(sql)
    rollups.rebuild(con)
