"""What the tenant-wide alert rules measure (pbxlens.live.rules `TENANT_WIDE`): how long the
intake has been silent, per source, and how many recent calls no tariff rates.

- `events`: the newest PBX event body the webhook intake committed (the operations store's
  inbox, read by its primary key backwards: no scan);
- `cdr`: the newest CDR batch of the tenant (files, uploads, the PBX pull) or PBX pull pass
  (`pull_watermarks.pulled_at`, which moves even when a pull brings nothing new), in the
  analytics store;
- `billing`: ratable calls of the tenant started in the rule's window with no cost under the
  tariff method (the billing.unrated facts).

The analytics-store measures run on a reading cursor, at most once per `SLOW_EVERY_S` per
tenant and window (the rules are evaluated on every snapshot tick, twice a second).
"""

from __future__ import annotations

import logging
import time
import weakref
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from pbxlens.store import schema

log = logging.getLogger("pbxlens.live")
STALL_DEFAULT_MIN = 15.0
SLOW_EVERY_S = 30.0
_cache: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # stores -> key -> (t, v)


def _cached(stores, key: tuple, fn):
    mine = _cache.setdefault(stores, {})
    hit = mine.get(key)
    if hit is not None and time.monotonic() - hit[0] < SLOW_EVERY_S:
        return hit[1]
    value = fn()
    mine[key] = (time.monotonic(), value)
    return value


def last_event(conn: sa.Connection) -> datetime | None:
    """When the intake last committed a body of PBX events (None: never)."""
    ib = schema.event_inbox
    return conn.execute(sa.select(ib.c.received_at)
                        .where(ib.c.source == "events", ib.c.rows > 0)
                        .order_by(ib.c.id.desc()).limit(1)).scalar()


def last_cdr(cur, tenant: str) -> datetime | None:
    """When a CDR batch of `tenant` was last loaded or the PBX last pulled (None: never)."""
    row = cur.execute(
        "SELECT greatest((SELECT max(finished_at) FROM ingest_batches WHERE tenant = ?"
        "   AND format NOT LIKE 'webhook%' AND format NOT LIKE 'directory%'),"
        " (SELECT max(pulled_at) FROM pull_watermarks))", [tenant]).fetchone()
    return _aware(row[0]) if row else None


def unrated_since(cur, tenant: str, since: datetime, now: datetime) -> int:
    """Ratable calls of `tenant` started from `since` that no tariff rates."""
    from pbxlens.billing import unrated
    from pbxlens.live import definitions as defs

    z = defs.zone()
    where = "AND rc.tenant = ? AND rc.start_ts >= ?"
    sql = f"SELECT count(*) FROM ({unrated.FACTS.format(where=where)})"  # noqa: S608 (no values)
    lo, hi = since.astimezone(z).date(), now.astimezone(z).date()
    return int(cur.execute(sql, [lo.isoformat(), hi.isoformat(), "tariff", "tariff", tenant,
                                 since]).fetchone()[0])


def _aware(v) -> datetime | None:
    if v is None:
        return None
    return v if v.tzinfo else v.replace(tzinfo=UTC)


def _analytics(stores, fn, default):
    try:
        with stores.cursor() as cur:
            return fn(cur)
    except Exception:  # an analytics store without those tables yet: nothing to say
        log.debug("live: analytics measure failed", exc_info=True)
        return default


def breaches(rule, ctx: dict) -> dict[str, tuple]:
    """scope -> (value, threshold, scope) for `rule` (intake_stalled | unrated_above) now."""
    stores, now = ctx["stores"], ctx["now"]
    if rule.kind == "unrated_above":
        since = now - timedelta(minutes=rule.window_min)
        n = _cached(stores, ("unrated", rule.tenant, rule.window_min), lambda: _analytics(
            stores, lambda cur: unrated_since(cur, rule.tenant, since, now), 0))
        th = rule.threshold if rule.threshold is not None else 0
        return {"billing": (n, th, "billing")} if n > th else {}
    if not ctx["is_open"](rule.tenant, ""):
        return {}
    limit_s = 60 * (rule.threshold if rule.threshold is not None else STALL_DEFAULT_MIN)
    with stores.ops_read() as c:
        last = {"events": last_event(c)}
    last["cdr"] = _cached(stores, ("cdr", rule.tenant), lambda: _analytics(
        stores, lambda cur: last_cdr(cur, rule.tenant), None))
    out = {}
    for scope, when in last.items():
        if when is not None and (age := (now - when).total_seconds()) > limit_s:
            out[scope] = (int(age), limit_s, scope)
    return out
