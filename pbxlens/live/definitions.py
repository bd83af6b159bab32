"""The few definitions the live state and the alerts read per queue: the service level
(threshold, target, variant, short-abandon cutoff), opening hours and pause limits.

The service level is the queue's own definition (`reports/definitions.py`, the operations
store's `queue_definitions`, keyed by queue id as the live state keys queues), else the
settings (`service_level_s`, `service_level_target_pct`, `service_level_variant`,
`short_abandon_s`); a batch of the intake and a snapshot load them once (`load`). Opening hours
come from the queue's calendar where one is assigned (the alerts), else `opening_hours`.
"""

from __future__ import annotations

import re
from datetime import datetime
from functools import lru_cache
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from pbxlens.config import get_settings
from pbxlens.reports import definitions as rdefs
from pbxlens.reports.definitions import QueueDefinition
from pbxlens.store import direct, schema

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
ServiceLevel = QueueDefinition  # threshold_s, target_pct, variant, short_abandon_s


class Definitions:
    """The service-level definitions of every queue that has one, and the default."""

    def __init__(self, rows: dict[tuple[str, str], QueueDefinition] | None = None) -> None:
        self.rows = rows or {}
        self.default = rdefs.default()

    def of(self, tenant: str, queue: str) -> QueueDefinition:
        return self.rows.get((tenant, queue)) or self.default


_ALL = sa.select(schema.queue_definitions)


def load(conn: sa.Connection) -> Definitions:
    """The definitions as the operations store holds them now (one small query)."""
    return Definitions({(r["tenant"], r["qkey"]): QueueDefinition(
        r["qkey"], r["sl_threshold_s"], r["sl_target_pct"], r["sl_variant"],
        r["short_abandon_s"], custom=True) for r in direct.rows(conn, _ALL)})


class Lazy:
    """`load(conn)` on the first `of()`: an intake commit whose events end no visit (a call
    entering a queue, ringing) reads no definition (one statement fewer per webhook)."""

    def __init__(self, conn: sa.Connection) -> None:
        self._conn = conn
        self._loaded: Definitions | None = None

    def of(self, tenant: str, queue: str) -> QueueDefinition:
        if self._loaded is None:
            self._loaded = load(self._conn)
        return self._loaded.of(tenant, queue)


def service_level(tenant: str, queue: str, d: Definitions | None = None) -> QueueDefinition:
    return (d or Definitions()).of(tenant, queue)


def zone() -> ZoneInfo:
    return ZoneInfo(get_settings().timezone)


@lru_cache(maxsize=16)
def parse_opening_hours(text: str) -> dict[int, tuple[tuple[int, int], ...]]:
    """`"mon-fri 08:00-18:00; sat 09:00-13:00"` -> weekday (0 = Monday) -> (start, end)
    minutes of the day. Several ranges per day: `"mon-fri 08:00-12:30,14:00-18:00"`.

    Example:
        >>> parse_opening_hours("mon-tue 08:00-12:00,14:00-18:00; sat 09:00-13:00")[5]
        ((540, 780),)
        >>> parse_opening_hours("")
        {}
    """
    out: dict[int, list[tuple[int, int]]] = {}
    for part in filter(None, (p.strip() for p in text.split(";"))):
        m = re.fullmatch(r"([a-z]{3})(?:-([a-z]{3}))?\s+(.+)", part.lower())
        if not m or m.group(1) not in DAYS or (m.group(2) and m.group(2) not in DAYS):
            raise ValueError(f"opening hours: cannot read {part!r} (e.g. mon-fri 08:00-18:00)")
        a = DAYS.index(m.group(1))
        b = DAYS.index(m.group(2)) if m.group(2) else a
        ranges = []
        for r in m.group(3).split(","):
            t = re.fullmatch(r"\s*(\d\d):(\d\d)-(\d\d):(\d\d)\s*", r)
            if not t:
                raise ValueError(f"opening hours: cannot read the range {r.strip()!r}")
            h1, m1, h2, m2 = (int(x) for x in t.groups())
            ranges.append((h1 * 60 + m1, h2 * 60 + m2))
        for d in range(a, b + 1):
            out.setdefault(d, []).extend(ranges)
    return {d: tuple(v) for d, v in out.items()}


def is_open(tenant: str, queue: str, when: datetime) -> bool:
    """Whether `queue` is open at `when` (an aware instant), by the opening hours."""
    local = when.astimezone(zone())
    minute = local.hour * 60 + local.minute
    return any(a <= minute < b
               for a, b in parse_opening_hours(get_settings().opening_hours).get(local.weekday(),
                                                                                 ()))


@lru_cache(maxsize=16)
def _pause_limits(text: str) -> dict[str, int]:
    out = {}
    for item in filter(None, (p.strip() for p in text.split(","))):
        k, _, v = item.partition("=")
        out[k.strip().lower()] = int(v)
    return out


def pause_limit_min(reason: str | None) -> int | None:
    """Minutes a pause with `reason` may last (the `*` entry for any other reason).

    Example:
        >>> _pause_limits("break=15,*=30")["*"]
        30
    """
    limits = _pause_limits(get_settings().pause_limits_min)
    return limits.get((reason or "").lower(), limits.get("*"))
