"""Where missed calls and callbacks come from: ONE SQL source for MissedCallEvents and one for
the CDR contacts of a number.

`events_sql()` is the single place that decides which calls become callback requests:

- the CDR (`calls` + `queue_visits` + `call_legs`): incoming calls no person answered (no
  answered extension or outbound-line step; a voicemail does not count, errata "Answered by a
  person"), that went through a queue (setting `require_queue`, default yes: NethVoice's lost
  calls are queue outcomes, anchors §1.3), plus, when `import_checktime` is on, the calls that
  failed a time control (A.3.3: type `checktime`, source `time_control`);
- the dynamic-routing insert endpoint (`dynamic_routing_requests`, A.3.1): type = param2
  (`queue`), queue = param1, time = the CDR start of its unique_id when known, else receipt;
- the Call Center CDR (`queue_calls`): incoming calls none of whose queue visits was
  answered, for the calls the CDR does not hold (when it does, the CDR decides: a call answered
  after leaving the queue is not missed).

One event per (tenant, unique_id): dynamic routing wins over time control over the CDR.

Both functions take the relation of the (tenant, unique_id) keys to (re)build, so an ingest
batch rebuilds only its own calls.
"""

from __future__ import annotations

from pbxlens.missed_calls import settings as ms
from pbxlens.missed_calls.numbers import clean_sql, national_sql

_PERSON = "(l.answer_ts IS NOT NULL AND l.dest_type IN ('local_exten', 'obl'))"
_END = "coalesce(c.end_ts, c.start_ts + to_seconds(c.duration_s))"


def _in(keys: str | None, alias: str) -> str:
    return "" if keys is None else (
        f"SEMI JOIN {keys} k ON k.tenant = {alias}.tenant AND k.unique_id = {alias}.unique_id")


def events_sql(keys: str | None, vals: dict[str, str]) -> str:
    """SELECT of missed_events rows for the calls / requests whose (tenant, unique_id) is in
    the relation `keys` (a table name or a parenthesized SELECT without parameters), or of
    every call when `keys` is None."""
    require_queue = "true" if ms.flag(vals, "require_queue") else "false"
    checktime = "true" if ms.flag(vals, "import_checktime") else "false"
    return f"""
WITH c AS (
  SELECT c.* FROM calls c {_in(keys, 'c')}
  WHERE c.direction = 'incoming'
), lg AS (
  SELECT l.tenant, l.unique_id, l.leg_branch, bool_or({_PERSON}) AS person,
    bool_or(l.dest_type = 'checktime' AND l.checktime_in_hours = false) AS ct_fail
  FROM call_legs l SEMI JOIN c ON c.tenant = l.tenant AND c.unique_id = l.unique_id
    AND c.leg_branch = l.leg_branch
  GROUP BY l.tenant, l.unique_id, l.leg_branch
), qv AS (
  SELECT q.tenant, q.unique_id, q.leg_branch,
    arg_max(coalesce(nullif(q.queue_name, ''), nullif(q.queue_id, '')), q.seq) AS queue
  FROM queue_visits q SEMI JOIN c ON c.tenant = q.tenant AND c.unique_id = q.unique_id
    AND c.leg_branch = q.leg_branch
  GROUP BY q.tenant, q.unique_id, q.leg_branch
), cdr AS (
  SELECT c.tenant, c.unique_id, c.caller, c.called, c.start_ts AS event_ts, qv.queue,
    CASE WHEN {checktime} AND coalesce(lg.ct_fail, false) THEN 'checktime'
         WHEN qv.unique_id IS NOT NULL THEN 'queue' ELSE 'call' END AS type,
    CASE WHEN {checktime} AND coalesce(lg.ct_fail, false) THEN 'time_control'
         ELSE 'cdr' END AS source,
    c.account_code, CAST(NULL AS TEXT) AS servicecode, coalesce(c.caller_anonymous, false) AS anon
  FROM c
  LEFT JOIN lg ON lg.tenant = c.tenant AND lg.unique_id = c.unique_id AND lg.leg_branch = c.leg_branch
  LEFT JOIN qv ON qv.tenant = c.tenant AND qv.unique_id = c.unique_id AND qv.leg_branch = c.leg_branch
  WHERE (NOT coalesce(lg.person, c.status = 'OK')
         AND (NOT {require_queue} OR qv.unique_id IS NOT NULL))
     OR ({checktime} AND coalesce(lg.ct_fail, false))
), dr AS (
  SELECT r.tenant, r.unique_id, r.caller, r.called,
    coalesce(cs.start_ts, r.received_at) AS event_ts, r.param1 AS queue,
    coalesce(nullif(r.param2, ''), 'queue') AS type, 'dynamic_routing' AS source,
    cs.account_code, r.servicecode, false AS anon
  FROM dynamic_routing_requests r {_in(keys, 'r')}
  LEFT JOIN (
    SELECT c.tenant, c.unique_id, min(c.start_ts) AS start_ts, min(c.account_code) AS account_code
    FROM calls c SEMI JOIN dynamic_routing_requests r2
      ON r2.tenant = c.tenant AND r2.unique_id = c.unique_id {_in(keys, 'c')}
    GROUP BY c.tenant, c.unique_id) cs ON cs.tenant = r.tenant AND cs.unique_id = r.unique_id
), cc AS (
  SELECT q.tenant, q.unique_id, arg_min(q.caller, q.enter_ts) AS caller,
    arg_min(q.called, q.enter_ts) AS called, min(q.enter_ts) AS event_ts,
    arg_max(coalesce(nullif(q.queue_name, ''), nullif(q.queue_id, '')), q.enter_ts) AS queue,
    'queue' AS type, 'callcenter' AS source, arg_min(q.account_code, q.enter_ts) AS account_code,
    CAST(NULL AS TEXT) AS servicecode, false AS anon
  FROM queue_calls q {_in(keys, 'q')}
  WHERE q.direction = 'incoming' AND NOT EXISTS (
    SELECT 1 FROM calls c3 WHERE c3.tenant = q.tenant AND c3.unique_id = q.unique_id)
  GROUP BY q.tenant, q.unique_id
  HAVING NOT bool_or(q.answered)
), u AS (
  SELECT *, 0 AS pri FROM dr
  UNION ALL
  SELECT *, CASE WHEN source = 'time_control' THEN 1 ELSE 2 END AS pri FROM cdr
  UNION ALL
  SELECT *, 2 AS pri FROM cc
), n AS (
  SELECT *, {national_sql('cleaned', outbound=False, cleaned=True, bound=True)} AS call_num
  FROM (SELECT *, {clean_sql('caller')} AS cleaned FROM u
        WHERE NOT anon AND lower(coalesce(caller, '')) NOT IN ('anonymous', 'unknown', 'restricted'))
)
SELECT tenant, unique_id, arg_min(call_num, pri) AS call_num, arg_min(caller, pri) AS caller,
  arg_min(called, pri) AS called, arg_min(event_ts, pri) AS event_ts,
  arg_min(queue, pri) AS queue, arg_min(type, pri) AS type, arg_min(source, pri) AS source,
  arg_min(account_code, pri) AS account_code, arg_min(servicecode, pri) AS servicecode
FROM n
WHERE call_num <> ''
GROUP BY tenant, unique_id
"""  # noqa: S608 -- names and SQL fragments from code; values bound


def contacts_sql(keys: str | None) -> str:
    """SELECT of missed_contacts rows: answered inbound calls (with whether a person answered)
    and outbound calls (one row per unique_id and dialled number: a click-to-call's two CDR
    rows count once, errata "Callback attempts")."""
    return f"""
WITH c AS (
  SELECT c.*, {clean_sql("CASE WHEN c.direction = 'incoming' THEN c.caller ELSE c.called END")}
    AS cleaned
  FROM calls c {_in(keys, 'c')}
  WHERE (c.direction = 'incoming' AND c.status = 'OK') OR c.direction = 'outgoing'
), lg AS (
  SELECT l.tenant, l.unique_id, l.leg_branch, bool_or({_PERSON}) AS person
  FROM call_legs l SEMI JOIN c ON c.tenant = l.tenant AND c.unique_id = l.unique_id
    AND c.leg_branch = l.leg_branch AND c.direction = 'incoming'
  GROUP BY l.tenant, l.unique_id, l.leg_branch
), x AS MATERIALIZED (
  -- materialized: else DuckDB pushes `call_num <> ''` into c with the number's expression
  -- (and its regexp) inlined, computing it once more per call (a third of the statement)
  SELECT c.tenant, c.unique_id,
    CASE WHEN c.direction = 'incoming' THEN {national_sql('c.cleaned', False, cleaned=True, bound=True)}
         ELSE {national_sql('c.cleaned', True, cleaned=True, bound=True)} END AS call_num,
    CASE WHEN c.direction = 'incoming' THEN 'inbound' ELSE 'outbound' END AS kind,
    c.start_ts, {_END} AS end_ts, c.status, c.bill_s,
    coalesce(lg.person, true) AS person,
    CASE WHEN c.direction = 'outgoing' THEN coalesce(c.src_extension, c.src_peer_name, c.caller) END
      AS extension
  FROM c LEFT JOIN lg ON lg.tenant = c.tenant AND lg.unique_id = c.unique_id
    AND lg.leg_branch = c.leg_branch
)
SELECT tenant, unique_id, call_num, kind, min(start_ts) AS start_ts, max(end_ts) AS end_ts,
  CASE WHEN bool_or(status = 'OK') THEN 'OK' ELSE min(status) END AS status,
  max(bill_s) AS bill_s, bool_or(person) AS person, min(extension) AS extension
FROM x
WHERE call_num <> ''
GROUP BY tenant, unique_id, call_num, kind
"""  # noqa: S608 -- names and SQL fragments from code; values bound
