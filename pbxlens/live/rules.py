"""Alert rules: what they watch, their validation and their storage (`alert_rules`).

Kinds and the unit of `threshold`:
- `sl_below`: a queue's service level over the last `window_min` minutes below `threshold` %
  (None: the queue's own target, reports/definitions.py);
- `waiting_above`: calls waiting in a queue above `threshold`;
- `longest_wait_above`: a queue's longest current wait above `threshold` seconds;
- `abandon_rate_above`: a queue's abandon rate today above `threshold` %;
- `pause_too_long`: an agent paused longer than `threshold` minutes (None: the reason's limit,
  setting `pause_limits_min`);
- `no_agent`: no agent logged in to a queue while it is open (its calendar, else the setting
  `opening_hours`);
- `intake_stalled`: nothing new for more than `threshold` minutes (None: 15) while the tenant
  is open (its default calendar, else `opening_hours`), per source: `events` (the PBX's
  webhook events, the operations store's inbox) and `cdr` (CDR batches and the PBX pull, the
  analytics store); a source that never delivered anything is not watched;
- `unrated_above`: more than `threshold` (None: 0) ratable calls of the tenant started in the
  last `window_min` minutes match no tariff (billing.unrated).

A rule has a scope (its tenant and `queues`, [] = every queue), a cooldown (minutes between two
notifications of one alert; an unacknowledged firing alert is reminded after it), quiet hours
(`HH:MM-HH:MM` local: recorded, not sent) and channels (`email` addresses, `webhook` URLs with
a style json | slack | teams), delivered through the delivery outbox (pbxlens.delivery).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime

import sqlalchemy as sa

from pbxlens import PbxlensError
from pbxlens.delivery.outbox import clean_address, clean_url
from pbxlens.delivery.payloads import STYLES
from pbxlens.store import schema

KINDS = ("sl_below", "waiting_above", "longest_wait_above", "abandon_rate_above",
         "pause_too_long", "no_agent", "intake_stalled", "unrated_above")
TENANT_WIDE = frozenset({"intake_stalled", "unrated_above"})  # scopes are not queues
NEEDS_THRESHOLD = frozenset({"waiting_above", "longest_wait_above", "abandon_rate_above"})
_QUIET = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")
_R = schema.alert_rules


class AlertError(PbxlensError):
    status = 400


@dataclass(frozen=True)
class Rule:
    id: int
    tenant: str
    name: str
    kind: str
    queues: list[str] = field(default_factory=list)
    threshold: float | None = None
    window_min: int = 60
    cooldown_min: int = 15
    quiet_start: str | None = None
    quiet_end: str | None = None
    channels: list[dict] = field(default_factory=list)
    lang: str = "it"
    enabled: bool = True

    def quiet_at(self, local_minute: int) -> bool:
        """Whether `local_minute` (minutes from local midnight) falls in the quiet hours; the
        span may cross midnight.

        Example:
            >>> r = Rule(1, "t", "n", "no_agent", quiet_start="22:00", quiet_end="07:00")
            >>> r.quiet_at(23 * 60), r.quiet_at(6 * 60 + 59), r.quiet_at(7 * 60)
            (True, True, False)
        """
        if not self.quiet_start or not self.quiet_end:
            return False
        a, b = _minute(self.quiet_start), _minute(self.quiet_end)
        return a <= local_minute < b if a <= b else local_minute >= a or local_minute < b


def _minute(hhmm: str) -> int:
    h, m = hhmm.split(":")
    return int(h) * 60 + int(m)


def clean_channels(channels) -> list[dict]:
    """`[{"kind": "email", "target": ...}, {"kind": "webhook", "target": URL, "style": ...}]`
    checked and normalized."""
    out = []
    for ch in channels or ():
        kind = ch.get("kind")
        if kind == "email":
            out.append({"kind": "email", "target": clean_address(ch.get("target", ""))})
        elif kind == "webhook":
            style = ch.get("style") or "json"
            if style not in STYLES:
                raise AlertError(f"unknown webhook style {style!r}; one of {', '.join(STYLES)}",
                                 key="alert_err_style", value=style, allowed=", ".join(STYLES))
            out.append({"kind": "webhook", "target": clean_url(ch.get("target", "")),
                        "style": style})
        else:
            raise AlertError(f"a channel is email or webhook, not {kind!r}", key="alert_err_channel",
                             value=kind)
    return out


def validate(kind: str, threshold: float | None, window_min: int, cooldown_min: int,
             quiet: tuple[str | None, str | None]) -> None:
    if kind not in KINDS:
        raise AlertError(f"unknown alert kind {kind!r}; one of {', '.join(KINDS)}",
                         key="alert_err_kind", value=kind)
    if kind in NEEDS_THRESHOLD and threshold is None:
        raise AlertError(f"a {kind} rule needs a threshold", key="alert_err_threshold_needed")
    if threshold is not None and threshold < 0:
        raise AlertError("the threshold is not negative", key="alert_err_threshold_negative")
    if not 1 <= int(window_min) <= 24 * 60 or not 0 <= int(cooldown_min) <= 24 * 60:
        raise AlertError("window and cooldown are minutes within a day", key="alert_err_minutes")
    if any(q is not None for q in quiet) and not all(q and _QUIET.match(q) for q in quiet):
        raise AlertError("quiet hours are two times HH:MM (from, to)", key="alert_err_quiet")


def save_rule(stores, tenant: str, name: str, kind: str, *, queues=(), threshold=None,
              window_min: int = 60, cooldown_min: int = 15, quiet: tuple = (None, None),
              channels=(), lang: str = "it", enabled: bool = True, by: str | None = None,
              rule_id: int | None = None) -> Rule:
    """Create (or with `rule_id` replace) a rule of `tenant`."""
    name = (name or "").strip()
    if not name:
        raise AlertError("a rule needs a name", key="alert_err_name")
    threshold = None if threshold in (None, "") else float(threshold)
    validate(kind, threshold, window_min, cooldown_min, tuple(quiet))
    row = {"tenant": tenant, "name": name, "kind": kind,
           "queues": json.dumps(sorted({str(q) for q in queues or ()})),
           "threshold": threshold, "window_min": int(window_min),
           "cooldown_min": int(cooldown_min), "quiet_start": quiet[0], "quiet_end": quiet[1],
           "channels": json.dumps(clean_channels(channels)),
           "lang": "en" if lang == "en" else "it", "enabled": bool(enabled)}
    with stores.ops_write() as c:
        if rule_id is None:
            rule_id = c.execute(_R.insert().values(**row, created_by=by,
                                                   created_at=datetime.now(UTC))
                                ).inserted_primary_key[0]
        elif not c.execute(_R.update().where(_R.c.id == rule_id, _R.c.tenant == tenant)
                           .values(**row)).rowcount:
            raise AlertError(f"no alert rule {rule_id}")
    return get_rule(stores, tenant, int(rule_id))


def _rule(r) -> Rule:
    return Rule(r.id, r.tenant, r.name, r.kind, json.loads(r.queues or "[]"), r.threshold,
                r.window_min, r.cooldown_min, r.quiet_start, r.quiet_end,
                json.loads(r.channels or "[]"), r.lang, bool(r.enabled))


def get_rule(stores, tenant: str, rule_id: int) -> Rule:
    with stores.ops_read() as c:
        r = c.execute(sa.select(_R).where(_R.c.id == rule_id, _R.c.tenant == tenant)).first()
    if r is None:
        raise AlertError(f"no alert rule {rule_id}")
    return _rule(r)


def list_rules(conn: sa.Connection, tenant: str | None = None, *, enabled_only: bool = False
               ) -> list[Rule]:
    q = sa.select(_R).order_by(_R.c.id)
    if tenant is not None:
        q = q.where(_R.c.tenant == tenant)
    if enabled_only:
        q = q.where(_R.c.enabled.is_(True))
    return [_rule(r) for r in conn.execute(q)]


def delete_rule(stores, tenant: str, rule_id: int) -> bool:
    with stores.ops_write() as c:
        n = c.execute(_R.delete().where(_R.c.id == rule_id, _R.c.tenant == tenant)).rowcount
        c.execute(schema.alert_states.delete().where(schema.alert_states.c.rule_id == rule_id))
    return bool(n)


def set_enabled(stores, tenant: str, rule_id: int, enabled: bool) -> bool:
    """Switch a rule of `tenant` on or off (off: its firing alerts are left as they are and
    recover at its next evaluation once on again)."""
    with stores.ops_write() as c:
        return bool(c.execute(_R.update().where(_R.c.id == rule_id, _R.c.tenant == tenant)
                              .values(enabled=bool(enabled))).rowcount)
