"""Agent activity facts (anchor: Wazo agent statistics, anchors.md §2.2).

pbx_events --(queue-member events)--> agent_events --(state machines)--> agent_intervals
--(cut at PBX-local hour borders)--> agent_activity;  agent_legs --> agent_talk (same cut).

Rules (one per line in docs/decisions.md):
- logged in: from an `added` to the next `removed` of the same member and queue; a repeated
  `added` (or `removed`) changes nothing (duplicates); a `removed` with no open login is
  ignored (the log began after the login: its start is unknown, nothing is invented);
- paused: from a `pause` to the next `unpause` or `removed` of that member and queue, clipped
  to the logged-in intervals; a pause without a queue applies to every queue of the member;
  the reason is the starting pause's;
- an interval still open at the last event has end_ts NULL and counts up to "now";
- instants are truncated to whole seconds; ties are ordered by event_id, then key.

Everything runs as SQL over the sets of the members a batch touched (refresh_events) or of
the calls a CDR batch loaded (refresh_talk), in the pipeline's activity step after the batch
commits: the facts of a member are a function of all its events, whichever path (webhook or
file) stored them.

Hour cutting: the zone's offset segments (zoneinfo transitions) are joined to the intervals;
inside a segment of constant offset `off`, local hour borders are the instants t with
(t + off) mod 3600 = 0, so an interval is cut with `range()` over local hour starts. Day and
hour are the local wall clock of each piece: DST-correct (23/25-hour days; the repeated
autumn hour adds both real hours to hour 2), valid for any offset.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import duckdb

from pbxlens.config import get_settings
from pbxlens.ingest.normalize import clamp_years
from pbxlens.models.timezone import base_offset, transitions

FAR = 1 << 40  # seconds: beyond any instant in the store

_ORDER = "ORDER BY ts, event_id NULLS LAST, event_key"


def _first_sql(keys: tuple[str, ...]) -> str:
    """First non-empty params value among keys, unreplaced %PLACEHOLDER%s read as absent."""
    parts = [f"nullif(regexp_replace(trim(params->>'{k}'), '^%[A-Za-z0-9_\\[\\]]+%$', ''), '')"
             for k in keys]
    return f"coalesce({', '.join(parts)})"


def _events_sql(scope: str = "batch_id = ?") -> str:
    from pbxlens.ingest import events as ev

    acc, ext = _first_sql(ev.ACCOUNT_KEYS), _first_sql(ev.EXTEN_KEYS)
    names = ", ".join(f"'{n}'" for n in ev.MEMBER_EVENTS)
    action = "CASE " + " ".join(f"WHEN event_name = '{n}' THEN '{a}'"
                                for n, a in ev.MEMBER_EVENTS.items()) + " END"
    return f"""INSERT INTO agent_events
SELECT tenant, pbx_serial, event_key, event_id, date_trunc('second', event_ts), {action},
  coalesce({acc}, {ext}), {acc}, {ext}, {_first_sql(ev.QUEUE_KEYS)},
  {_first_sql(ev.QUEUE_NAME_KEYS)}, {_first_sql(ev.REASON_KEYS)}, batch_id
FROM pbx_events
WHERE {scope} AND event_name IN ({names}) AND event_ts IS NOT NULL
  AND coalesce({acc}, {ext}) IS NOT NULL
ON CONFLICT DO NOTHING"""  # noqa: S608 -- names and SQL fragments from code; values bound


# The members touched by the batch: `aff` (tenant, member).
INTERVALS_SQL = f"""INSERT INTO agent_intervals
WITH ev AS (
  SELECT e.*, coalesce(e.queue_id, e.queue_name) AS qkey
  FROM agent_events e JOIN aff USING (tenant, member)
), mq AS (
  SELECT tenant, member, qkey, max(queue_id) AS queue_id, max(queue_name) AS queue_name,
    max(member_account) AS member_account, max(member_exten) AS member_exten
  FROM ev WHERE qkey IS NOT NULL GROUP BY ALL
), qe AS (
  SELECT tenant, member, qkey, ts, event_id, event_key, action, reason FROM ev
  WHERE qkey IS NOT NULL
  UNION ALL  -- a pause/unpause without a queue: every queue of the member
  SELECT ev.tenant, ev.member, mq.qkey, ev.ts, ev.event_id, ev.event_key, ev.action, ev.reason
  FROM ev JOIN mq USING (tenant, member) WHERE ev.qkey IS NULL
), lg AS (
  SELECT *, lag(action) OVER (PARTITION BY tenant, member, qkey {_ORDER}) AS prev
  FROM qe WHERE action IN ('added', 'removed')
), lt AS (  -- state changes only: duplicates and a removal with no login drop out
  SELECT *, lead(ts) OVER (PARTITION BY tenant, member, qkey {_ORDER}) AS nxt
  FROM lg WHERE (action = 'added' AND coalesce(prev, 'removed') = 'removed')
     OR (action = 'removed' AND prev = 'added')
), li AS (
  SELECT tenant, member, qkey, ts AS s, coalesce(nxt, 'infinity'::TIMESTAMPTZ) AS e
  FROM lt WHERE action = 'added'
), pg AS (
  SELECT *, lag(action = 'pause') OVER (PARTITION BY tenant, member, qkey {_ORDER}) AS prev_p
  FROM qe WHERE action IN ('pause', 'unpause', 'removed')
), pt AS (
  SELECT *, lead(ts) OVER (PARTITION BY tenant, member, qkey {_ORDER}) AS nxt
  FROM pg WHERE (action = 'pause' AND NOT coalesce(prev_p, false))
     OR (action <> 'pause' AND prev_p)
), pi AS (
  SELECT tenant, member, qkey, ts AS s, coalesce(nxt, 'infinity'::TIMESTAMPTZ) AS e,
    coalesce(reason, '') AS reason
  FROM pt WHERE action = 'pause'
), iv AS (
  SELECT tenant, member, qkey, 'logged' AS kind, '' AS reason, s, e FROM li
  UNION ALL
  SELECT p.tenant, p.member, p.qkey, 'paused', p.reason, greatest(p.s, l.s), least(p.e, l.e)
  FROM pi p JOIN li l USING (tenant, member, qkey)
  WHERE greatest(p.s, l.s) < least(p.e, l.e)
)
SELECT iv.tenant, iv.member, mq.member_account, mq.member_exten, iv.qkey, mq.queue_id,
  mq.queue_name, iv.kind, iv.reason, iv.s, nullif(iv.e, 'infinity'::TIMESTAMPTZ)
FROM iv JOIN mq USING (tenant, member, qkey)
WHERE iv.e > iv.s
"""  # noqa: S608 -- names and SQL fragments from code; values bound


def segments_sql(tz: str, year_from: int, year_to: int) -> str:
    """VALUES (lo, hi, off): epoch-second ranges of constant UTC offset `off`."""
    steps = transitions(tz, year_from, year_to)
    bounds = [-FAR] + [int(t.utc.replace(tzinfo=UTC).timestamp()) for t in steps] + [FAR]
    offs = [base_offset(tz, year_from)] + [t.after for t in steps]
    rows = ", ".join(f"({bounds[i]}, {bounds[i + 1]}, {offs[i]})" for i in range(len(offs)))
    return f"(VALUES {rows}) AS seg(lo, hi, off)"


def split_sql(rel: str, cols: str, tz: str, year_from: int, year_to: int) -> str:
    """Pieces of the intervals of `rel` (columns `cols`, s_ep, e_ep in epoch seconds) cut at
    PBX-local hour borders: `cols`, day, hr, secs, starts."""
    return f"""
SELECT {cols}, CAST(make_timestamp(lh * 1000000) AS DATE) AS day,
  CAST(hour(make_timestamp(lh * 1000000)) AS SMALLINT) AS hr,
  CAST(least(b, lh - off + 3600) - greatest(a, lh - off) AS INTEGER) AS secs,
  CAST(greatest(a, lh - off) = s_ep AS INTEGER) AS starts
FROM (
  SELECT p.*, unnest(range((a + off) // 3600 * 3600, b + off, 3600)) AS lh
  FROM (
    SELECT r.*, greatest(r.s_ep, seg.lo) AS a, least(r.e_ep, seg.hi) AS b, seg.off
    FROM {rel} r JOIN {segments_sql(tz, year_from, year_to)}
      ON r.s_ep < seg.hi AND r.e_ep > seg.lo
    WHERE r.e_ep > r.s_ep
  ) p
) h"""  # noqa: S608 -- names and SQL fragments from code; values bound


_IV_COLS = "tenant, member, member_account, member_exten, qkey, queue_id, queue_name, kind, reason"


def _years(con: duckdb.DuckDBPyConnection, sql: str, args: list | dict) -> tuple[int, int]:
    lo, hi = con.execute(sql, args).fetchone()
    now = datetime.now(UTC).year
    # within the supported years: ingest quarantines instants outside them, and the zone's
    # transitions cannot be computed near year 1 or 9999
    lo, hi = clamp_years(lo or now, hi or now)
    return lo - 1, hi + 1


TABLES = ("agent_events", "agent_intervals", "agent_activity", "agent_talk")


def refresh(con: duckdb.DuckDBPyConnection, batch_ids: int | Sequence[int]) -> None:
    """The activity step: the member events and the CDR calls of these batches."""
    refresh_events(con, batch_ids)
    refresh_talk(con, batch_ids)


def _span(batch_ids: int | Sequence[int]) -> dict[str, int]:
    ids = [batch_ids] if isinstance(batch_ids, int) else batch_ids
    return {"lo": min(ids), "hi": max(ids)}


def refresh_events(con: duckdb.DuckDBPyConnection, batch_ids: int | Sequence[int]) -> int:
    """Turn the batches' queue-member pbx_events into agent_events, then rebuild the intervals
    and hour pieces of every member they touch. Returns the number of agent events added."""
    span = _span(batch_ids)
    con.execute(_events_sql("batch_id BETWEEN $lo AND $hi"), span)
    added = con.execute("SELECT count(*) FROM agent_events WHERE batch_id BETWEEN $lo AND $hi",
                        span).fetchone()[0]
    if not added:
        return 0
    con.execute("CREATE OR REPLACE TEMP TABLE aff AS SELECT DISTINCT tenant, member"
                " FROM agent_events WHERE batch_id BETWEEN $lo AND $hi", span)
    for table in ("agent_intervals", "agent_activity"):
        con.execute(f"DELETE FROM {table} t USING aff"  # noqa: S608 -- names and SQL fragments from code; values bound
                    " WHERE t.tenant = aff.tenant AND t.member = aff.member")
    con.execute(INTERVALS_SQL)
    y0, y1 = _years(con, "SELECT year(min(start_ts)), year(max(end_ts)) FROM agent_intervals"
                    " i JOIN aff USING (tenant, member)", [])
    rel = ("(SELECT i.*, CAST(epoch(start_ts) AS BIGINT) AS s_ep, CAST(epoch(end_ts) AS BIGINT)"
           " AS e_ep FROM agent_intervals i JOIN aff USING (tenant, member)"
           " WHERE end_ts IS NOT NULL)")
    con.execute(f"INSERT INTO agent_activity {split_sql(rel, _IV_COLS, tz(), y0, y1)}")
    con.execute("DROP TABLE aff")
    return int(added)


def open_pieces_sql(year_from: int, year_to: int) -> str:
    """The hour pieces of still-open intervals, from their start to min(now, range end);
    binds (range start, range end) as ISO instants. Same columns as agent_activity."""
    rel = ("(SELECT i.*, CAST(epoch(start_ts) AS BIGINT) AS s_ep,"
           " CAST(epoch(least(now(), CAST(? AS TIMESTAMPTZ))) AS BIGINT) AS e_ep"
           " FROM agent_intervals i WHERE end_ts IS NULL AND start_ts < CAST(? AS TIMESTAMPTZ))")
    return split_sql(rel, _IV_COLS, tz(), year_from, year_to)


TALK_COLS = "tenant, unique_id, leg_branch, seq, extension, account, qkey, queue_id, queue_name"


def refresh_talk(con: duckdb.DuckDBPyConnection, batch_ids: int | Sequence[int]) -> None:
    """Rebuild agent_talk for the calls of CDR batches (after ingest.derive.refresh): the talk
    of each answered queue leg, [answer, answer + talk_s], cut at local hour borders. The
    answer instant is the leg's own (call_legs); a leg with no path line (e.g. one derived
    from another source) falls back to the call's answer, then its start. The rows the calls
    had are deleted first (bounded by their unique_id range, so zone maps skip the rest)."""
    span = _span(batch_ids)
    n, ulo, uhi = con.execute("SELECT count(*), min(unique_id), max(unique_id) FROM calls"
                              " WHERE batch_id BETWEEN $lo AND $hi", span).fetchone()
    if not n:
        return
    span |= {"ulo": ulo, "uhi": uhi}
    con.execute("""DELETE FROM agent_talk d USING (
      SELECT DISTINCT tenant, unique_id, leg_branch FROM calls
      WHERE batch_id BETWEEN $lo AND $hi) b
    WHERE d.tenant = b.tenant AND d.unique_id = b.unique_id AND d.leg_branch = b.leg_branch
      AND d.unique_id BETWEEN $ulo AND $uhi""", span)
    y0, y1 = _years(con, "SELECT year(min(start_ts)), year(max(end_ts)) FROM calls"
                    " WHERE batch_id BETWEEN $lo AND $hi", {"lo": span["lo"], "hi": span["hi"]})
    rel = """(SELECT g.tenant, g.unique_id, g.leg_branch, g.seq, g.extension, g.account, g.qkey,
        g.queue_id, g.queue_name,
        CAST(floor(epoch(coalesce(l.answer_ts, c.answer_ts, c.start_ts))) AS BIGINT) AS s_ep,
        CAST(floor(epoch(coalesce(l.answer_ts, c.answer_ts, c.start_ts))) AS BIGINT)
          + g.talk_s AS e_ep
      FROM (SELECT tenant, unique_id, leg_branch, answer_ts, start_ts FROM calls
            WHERE batch_id BETWEEN $lo AND $hi) c
      JOIN (SELECT * FROM agent_legs WHERE unique_id BETWEEN $ulo AND $uhi
              AND kind = 'recv' AND answered AND qkey IS NOT NULL AND qkey <> ''
              AND talk_s > 0) g USING (tenant, unique_id, leg_branch)
      LEFT JOIN (SELECT * FROM call_legs WHERE unique_id BETWEEN $ulo AND $uhi) l
        ON l.tenant = g.tenant AND l.unique_id = g.unique_id
        AND l.leg_branch = g.leg_branch AND l.seq = g.seq)"""
    con.execute(f"INSERT INTO agent_talk {split_sql(rel, TALK_COLS, tz(), y0, y1)}", span)


def rebuild(con: duckdb.DuckDBPyConnection) -> None:
    """Recompute every activity fact from pbx_events and agent_legs (repairs, and stores
    whose CDR or events were loaded before migration 0010)."""
    for table in ("agent_events", "agent_intervals", "agent_activity", "agent_talk"):
        con.execute(f"DELETE FROM {table}")  # noqa: S608 -- names and SQL fragments from code; values bound
    con.execute(_events_sql("true"))
    con.execute("CREATE OR REPLACE TEMP TABLE aff AS SELECT DISTINCT tenant, member"
                " FROM agent_events")
    con.execute(INTERVALS_SQL)
    y0, y1 = _years(con, "SELECT year(min(start_ts)), year(max(end_ts)) FROM agent_intervals",
                    [])
    rel = ("(SELECT i.*, CAST(epoch(start_ts) AS BIGINT) AS s_ep, CAST(epoch(end_ts) AS BIGINT)"
           " AS e_ep FROM agent_intervals i WHERE end_ts IS NOT NULL)")
    con.execute(f"INSERT INTO agent_activity {split_sql(rel, _IV_COLS, tz(), y0, y1)}")
    con.execute("DROP TABLE aff")
    batches = [b for (b,) in con.execute("SELECT DISTINCT batch_id FROM calls").fetchall()]
    if batches:
        refresh_talk(con, batches)


def tz() -> str:
    return get_settings().timezone
