"""The consistency check: a day's live counters (kept from events) against the same numbers
computed from that day's CDR once it has arrived (`queue_visits`, the queue reports' table),
per tenant and queue. A writer job (it reads DuckDB and writes the result to `live_checks`);
the server runs it for yesterday once a day, `pbxlens live-check` on demand.

Definitions are the queue report's (cdr.queues): offered = queue visits; answered = NCC and
transfers; SL hits = answered within the queue's threshold; abandoned = CANCELED or CANCELED
NOWAIT after at least the queue's short-abandon seconds, short abandons below them; never
queued = QUEUE_JOINEMPTY, FULL, CLOSED.
"""

from __future__ import annotations

import json
import logging
import threading
from datetime import UTC, date, datetime, time, timedelta

import sqlalchemy as sa

from pbxlens.live import definitions as defs
from pbxlens.store import schema

log = logging.getLogger("pbxlens.live")
# The daily check of yesterday runs once the local time passes this (the night's CDR is in).
DAILY_AFTER = time(6, 0)
DAILY_EVERY_S = 600.0
FIELDS = ("offered", "answered", "sl_hit", "abandoned", "short_abandoned", "never_queued",
          "asa_sum_s")

# Each queue's own thresholds (the DuckDB copy of `queue_definitions`), else the settings'.
CDR_SQL = """
SELECT v.tenant, v.qkey,
  count(*) AS offered,
  count(*) FILTER (WHERE answered) AS answered,
  count(*) FILTER (WHERE answered AND asa_s <= coalesce(d.sl_threshold_s, ?)) AS sl_hit,
  count(*) FILTER (WHERE block IN ('CANCELED', 'CANCELED NOWAIT')
                   AND wait_s >= coalesce(d.short_abandon_s, ?)) AS abandoned,
  count(*) FILTER (WHERE block IN ('CANCELED', 'CANCELED NOWAIT')
                   AND wait_s < coalesce(d.short_abandon_s, ?)) AS short_abandoned,
  count(*) FILTER (WHERE block IN ('QUEUE_JOINEMPTY', 'FULL', 'CLOSED')) AS never_queued,
  coalesce(sum(asa_s) FILTER (WHERE answered), 0) AS asa_sum_s
FROM queue_visits v
LEFT JOIN queue_definitions d ON d.tenant = v.tenant AND d.qkey = v.qkey
WHERE v.day = CAST(? AS DATE) AND v.qkey <> ''
GROUP BY ALL
"""


def from_cdr(con, day: date) -> dict[tuple[str, str], dict[str, int]]:
    d = defs.Definitions().default
    t, s = d.threshold_s, d.short_abandon_s
    rows = con.execute(CDR_SQL, [t, s, s, day.isoformat()]).fetchall()
    return {(r[0], r[1]): dict(zip(FIELDS, (int(x) for x in r[2:]), strict=True))
            for r in rows}


def from_live(conn: sa.Connection, day: date) -> dict[tuple[str, str], dict[str, int]]:
    c = schema.live_counters
    rows = conn.execute(sa.select(c).where(c.c.day == day)).mappings()
    return {(r["tenant"], r["queue"]): {f: int(r[f]) for f in FIELDS} for r in rows}


def compare(live: dict, cdr: dict) -> list[dict]:
    """The differences, one per tenant, queue and number.

    Example:
        >>> compare({("t", "700"): {"offered": 3}}, {("t", "700"): {"offered": 4}})
        [{'tenant': 't', 'queue': '700', 'field': 'offered', 'live': 3, 'cdr': 4}]
    """
    out = []
    for key in sorted(set(live) | set(cdr)):
        a, b = live.get(key, {}), cdr.get(key, {})
        for f in FIELDS:
            if a.get(f, 0) != b.get(f, 0):
                out.append({"tenant": key[0], "queue": key[1], "field": f,
                            "live": a.get(f, 0), "cdr": b.get(f, 0)})
    return out


def check_day(con, engine: sa.Engine, day: date) -> dict:
    """Compare `day` and record the result; returns it."""
    cdr = from_cdr(con, day)
    with engine.begin() as conn:
        live = from_live(conn, day)
        diffs = compare(live, cdr)
        result = {"day": day.isoformat(), "ok": not diffs, "queues": len(set(live) | set(cdr)),
                  "differences": diffs}
        conn.execute(schema.live_checks.insert().values(
            day=day, checked_at=datetime.now(UTC), ok=not diffs, queues=result["queues"],
            differences=json.dumps(diffs)))
    return result


def check_job(day: date):
    """The writer job of `check_day`."""
    return lambda ctx: check_day(ctx.con, ctx.ops, day)


def last_checks(conn: sa.Connection, limit: int = 10) -> list[dict]:
    t = schema.live_checks
    rows = conn.execute(sa.select(t).order_by(t.c.id.desc()).limit(limit)).mappings()
    return [{**r, "differences": json.loads(r["differences"])} for r in rows]


def due_day(conn: sa.Connection, now: datetime) -> date | None:
    """Yesterday (PBX-local), when the daily check should run now: past DAILY_AFTER, live
    counters of yesterday exist, and no check of yesterday or a later day is recorded
    (`daily_pass` also waits for the day's CDR)."""
    local = now.astimezone(defs.zone())
    yesterday = local.date() - timedelta(days=1)
    if local.time() < DAILY_AFTER:
        return None
    c, k = schema.live_counters, schema.live_checks
    if conn.execute(sa.select(k.c.id).where(k.c.day >= yesterday).limit(1)).first():
        return None
    if not conn.execute(sa.select(c.c.day).where(c.c.day == yesterday).limit(1)).first():
        return None
    return yesterday


def daily_pass(stores, now: datetime | None = None) -> dict | None:
    """Check yesterday if it is due (`due_day`), as a writer job; its result or None."""
    with stores.ops_read() as c:
        day = due_day(c, now or datetime.now(UTC))
    if day is None:
        return None
    with stores.cursor() as cur:  # the day's CDR not in yet: look again next time
        if not cur.execute("SELECT 1 FROM queue_visits WHERE day = CAST(? AS DATE) LIMIT 1",
                           [day.isoformat()]).fetchone():
            return None
    res = stores.writer.run("live-check", f"live counters of {day}", check_job(day))
    log.info("live check of %s: %s", day, "no difference" if res["ok"]
             else f"{len(res['differences'])} differences")
    return res


def start_daily(stores, stop: threading.Event, interval_s: float = DAILY_EVERY_S
                ) -> threading.Thread:
    """The server's daily consistency check: a look every `interval_s`, a check once a day."""
    from pbxlens.background import start_loop

    return start_loop("pbxlens-live-check", lambda: daily_pass(stores), stop,
                      threading.Event(), interval_s, log)
