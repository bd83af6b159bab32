"""Alert evaluation: after each snapshot tick (pbxlens.live.hub) every enabled rule
(pbxlens.live.rules) is checked against the snapshot; each alert (a rule and a scope: a queue,
or `agent:<name>`) moves between ok and firing, and every change is kept in `alert_events`
(the history), with its messages queued in the same transaction in the delivery outbox:

- fired: sent, unless in quiet hours (`quiet`) or within the cooldown after the alert's last
  notification (`cooldown`): a flapping alert notifies once per cooldown;
- reminder: a firing alert nobody acknowledged, notified again once the cooldown has passed
  since its last notification (also what sends an alert that fired in quiet hours);
- recovered: sent when its firing was sent (outside quiet hours);
- acknowledged (a person, `acknowledge`): no more reminders for this firing.

Nothing here runs on the intake's path; writes happen only when an alert changes.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from pbxlens import delivery
from pbxlens.config import get_settings
from pbxlens.dashboards.i18n import t
from pbxlens.live import definitions as defs
from pbxlens.live import health
from pbxlens.live.rules import TENANT_WIDE, Rule, list_rules
from pbxlens.reports import definitions as rdefs
from pbxlens.reports import format as fmt
from pbxlens.store import ops, schema

_S, _E, _V = schema.alert_states, schema.alert_events, schema.live_visits


# ----------------------------------------------------------------------------- measuring

def window_sl(conn: sa.Connection, tenant: str, since: datetime) -> dict[str, dict[str, int]]:
    """Per queue, the visits of `tenant` decided (answered or left) since `since`, by class."""
    decided = sa.func.coalesce(_V.c.answered_at, _V.c.exited_at)
    q = (sa.select(_V.c.queue, _V.c.kpi, sa.func.count())
         .where(_V.c.tenant == tenant, _V.c.kpi.is_not(None), decided >= since)
         .group_by(_V.c.queue, _V.c.kpi))
    out: dict[str, dict[str, int]] = {}
    for queue, kpi, n in conn.execute(q):
        out.setdefault(queue, {})[kpi] = int(n)
    return out


def _sl(k: dict[str, int], d) -> float | None:
    fast, late = k.get("sl", 0), k.get("late", 0)
    long_, short = k.get("abandoned", 0), k.get("short", 0)
    return rdefs.service_level(d.variant, fast, fast + late, long_ + short, short,
                               sum(k.values()))


def _queues(rule: Rule, snap: dict) -> list[dict]:
    qs = {q["queue"]: q for q in snap.get("queues", [])}
    if rule.queues:  # a named queue with nothing today still counts (no agent, no calls)
        return [qs.get(q) or {"queue": q, "name": q, "agents": {"logged_in": 0}}
                for q in rule.queues]
    return list(qs.values())


def breaches(rule: Rule, snap: dict, ctx: dict) -> tuple[dict[str, tuple], set[str]]:
    """(scope -> (value, threshold, label) of what breaches now, every scope evaluated)."""
    hit: dict[str, tuple] = {}
    seen: set[str] = set()
    if rule.kind in TENANT_WIDE:
        return health.breaches(rule, ctx), seen
    if rule.kind == "pause_too_long":
        for a in snap.get("agents", []):
            if rule.queues and not set(rule.queues) & set(a["queues"]):
                continue
            scope = f"agent:{a['agent']}"
            seen.add(scope)
            limit = rule.threshold if rule.threshold is not None else \
                defs.pause_limit_min(a["reason"])
            if a["state"] == "paused" and limit is not None and \
                    (a["in_state_s"] or 0) > limit * 60:
                hit[scope] = (a["in_state_s"], limit * 60, a["name"])
        return hit, seen
    for q in _queues(rule, snap):
        scope = q["queue"]
        seen.add(scope)
        v = _queue_value(rule, q, ctx)
        if v is not None:
            hit[scope] = (*v, q["name"])
    return hit, seen


def _queue_value(rule: Rule, q: dict, ctx: dict) -> tuple | None:
    """(value, threshold) when queue `q` breaches `rule`, else None."""
    k, th = rule.kind, rule.threshold
    if k == "waiting_above":
        return (q["waiting"], th) if q.get("waiting", 0) > th else None
    if k == "longest_wait_above":
        return (q["longest_wait_s"], th) if q.get("longest_wait_s", 0) > th else None
    if k == "abandon_rate_above":
        rate = (q.get("today") or {}).get("abandon_rate_pct")
        return (rate, th) if rate is not None and rate > th else None
    if k == "no_agent":
        open_ = ctx["is_open"](rule.tenant, q["queue"])
        return (0, None) if open_ and q["agents"].get("logged_in", 0) == 0 else None
    if k == "sl_below":
        d = ctx["defs"].of(rule.tenant, q["queue"])
        sl = _sl(ctx["window"](rule).get(q["queue"], {}), d)
        target = th if th is not None else d.target_pct
        return (sl, target) if sl is not None and sl < target else None
    return None


# ----------------------------------------------------------------------------- the pass

def evaluate(stores, snaps: dict[str, dict], now: datetime | None = None) -> list[dict]:
    """One pass of every enabled rule over `snaps` (tenant -> snapshot); returns the
    history events written."""
    now = now or datetime.now(UTC)
    with stores.ops_read() as c:
        rules = list_rules(c, enabled_only=True)
        if not rules:
            return []
        states = {(r.rule_id, r.scope): dict(r._mapping) for r in c.execute(
            sa.select(_S).where(_S.c.rule_id.in_([r.id for r in rules])))}
        d = defs.load(c)
    ctx = _context(stores, d, now)  # queries of its own, one at a time
    found = [(r, *breaches(r, snaps.get(r.tenant) or {}, ctx)) for r in rules]
    written: list[dict] = []
    for rule, hit, seen in found:
        written += _step(stores, rule, hit, seen, states, now)
    if written:
        delivery.wake()
    return written


def _context(stores, d: defs.Definitions, now: datetime) -> dict:
    windows: dict[tuple, dict] = {}

    def window(rule: Rule) -> dict:
        key = (rule.tenant, rule.window_min)
        if key not in windows:
            with stores.ops_read() as c:
                windows[key] = window_sl(c, rule.tenant,
                                         now - timedelta(minutes=rule.window_min))
        return windows[key]

    calendars: dict[str, tuple] = {}

    def is_open(tenant: str, queue: str) -> bool:
        from pbxlens.reports import calendars as cal

        if tenant not in calendars:
            assigned = cal.assignments(stores, tenant)
            calendars[tenant] = (assigned, {i: cal.get_calendar(stores, tenant, i)
                                            for i in set(assigned.values())})
        assigned, cals = calendars[tenant]
        cid = assigned.get(queue, assigned.get(""))
        return cals[cid].is_open(now) if cid is not None else defs.is_open(tenant, queue, now)

    return {"window": window, "is_open": is_open, "defs": d, "stores": stores, "now": now}


def _step(stores, rule: Rule, hit: dict, seen: set, states: dict, now: datetime
          ) -> list[dict]:
    cool = timedelta(minutes=rule.cooldown_min)
    quiet = rule.quiet_at(_local_minute(now))
    out = []
    firing = {s for (rid, s), st in states.items() if rid == rule.id and st["firing"]}
    for scope in sorted(set(hit) | (firing - set(hit))):
        st = states.get((rule.id, scope))
        last = st and st["last_notified_at"]
        if scope in hit and not (st and st["firing"]):
            kind = "fired"
            send = "quiet" if quiet else "cooldown" if last and now - last < cool else "sent"
        elif scope in hit:
            if not rule.channels or st["acked_at"] or quiet or \
                    now - (last or st["since"]) < cool:
                continue  # firing, already told (or acknowledged, or quiet): nothing new
            kind, send = "reminder", "sent"
        else:  # recovered (or its queue or agent is no longer watched)
            kind = "recovered"
            send = "sent" if st["notified"] and not quiet else "none"
        if send == "sent" and not rule.channels:
            send = "none"  # a rule that only keeps history
        out.append(_record(stores, rule, scope, kind, send, hit.get(scope), st, now))
    return out


def _record(stores, rule: Rule, scope: str, kind: str, send: str, value: tuple | None,
            st: dict | None, now: datetime) -> dict:
    val, th, label = value or (st and st["value"], rule.threshold, scope)
    message, fields = describe(rule, kind, label, val, th)
    with stores.ops_write() as c:
        eid = c.execute(_E.insert().values(
            rule_id=rule.id, tenant=rule.tenant, scope=scope, kind=kind, at=now,
            value=val, threshold=th, message=message, delivery=send)).inserted_primary_key[0]
        state = {"rule_id": rule.id, "scope": scope, "updated_at": now}
        if kind == "fired":
            state.update(firing=True, since=now, value=val, notified=send == "sent",
                         acked_at=None, acked_by=None)
        elif kind == "reminder":
            state.update(value=val, notified=True)
        else:
            state.update(firing=False, value=val, acked_at=None, acked_by=None)
        if send == "sent":
            state["last_notified_at"] = now
            delivery.enqueue(c, _messages(rule, scope, kind, eid, message, fields))
        ops.upsert(c, _S, state, ["rule_id", "scope"],
                   [k for k in state if k not in ("rule_id", "scope")])
    return {"id": eid, "rule_id": rule.id, "scope": scope, "kind": kind, "delivery": send,
            "value": val, "message": message}


def _local_minute(now: datetime) -> int:
    local = now.astimezone(defs.zone())
    return local.hour * 60 + local.minute


# ----------------------------------------------------------------------------- the words

def _show(kind: str, v, lang: str) -> str:
    if v is None:
        return ""
    if kind in ("sl_below", "abandon_rate_above"):
        return fmt.percent(v, lang=lang)
    if kind in ("longest_wait_above", "pause_too_long", "intake_stalled"):
        return fmt.duration(int(v), lang=lang)
    return fmt.number(v, lang=lang)


def describe(rule: Rule, kind: str, label: str, value, threshold) -> tuple[str, dict]:
    """The alert's sentence and its fields, in the rule's language."""
    lang = rule.lang
    if rule.kind in TENANT_WIDE:
        label = t(f"alert_scope_{label}", lang)
    what = t(f"alert_what_{rule.kind}", lang, scope=label,
             value=_show(rule.kind, value, lang), threshold=_show(rule.kind, threshold, lang))
    text = what if kind != "recovered" else t("alert_recovered_text", lang, scope=label)
    fields = {t("alert_rule", lang): rule.name, t("alert_scope", lang): label,
              t("alert_state", lang): t(f"alert_event_{kind}", lang)}
    if kind != "recovered" and value is not None:
        fields[t("alert_value", lang)] = _show(rule.kind, value, lang)
    return text, fields


def _messages(rule: Rule, scope: str, kind: str, eid: int, text: str, fields: dict
              ) -> list[delivery.Message]:
    lang = rule.lang
    subject = f"[pbxlens] {t(f'alert_event_{kind}', lang)}: {rule.name} · {text}"[:200]
    base = get_settings().public_url.rstrip("/")
    links = ((t("alert_open_live", lang), f"{base}/live"),
             (t("alert_open_history", lang), f"{base}/alerts"))
    return [delivery.Message(channel=ch["kind"], target=ch["target"], subject=subject,
                             body=text, origin=f"alert:{rule.id}", tenant=rule.tenant,
                             style=ch.get("style") or "json", fields=fields, links=links,
                             dedupe_key=f"alert:{eid}:{i}")
            for i, ch in enumerate(rule.channels)]


# ----------------------------------------------------------------------------- people

def acknowledge(stores, tenant: str, rule_id: int, scope: str, by: str,
                now: datetime | None = None) -> bool:
    """Acknowledge a firing alert of `tenant` (no more reminders); False when not firing."""
    now = now or datetime.now(UTC)
    with stores.ops_write() as c:
        r = c.execute(sa.select(schema.alert_rules.c.id).where(
            schema.alert_rules.c.id == rule_id, schema.alert_rules.c.tenant == tenant)).first()
        n = r and c.execute(_S.update().where(
            _S.c.rule_id == rule_id, _S.c.scope == scope, _S.c.firing.is_(True),
            _S.c.acked_at.is_(None)).values(acked_at=now, acked_by=by, updated_at=now)).rowcount
        if not n:
            return False
        c.execute(_E.insert().values(rule_id=rule_id, tenant=tenant, scope=scope,
                                     kind="acknowledged", at=now, message="", delivery="none",
                                     by=by))
    return True


def history(conn: sa.Connection, tenant: str, limit: int = 200) -> list[dict]:
    q = (sa.select(_E, schema.alert_rules.c.name.label("rule"))
         .join(schema.alert_rules, schema.alert_rules.c.id == _E.c.rule_id, isouter=True)
         .where(_E.c.tenant == tenant).order_by(_E.c.id.desc()).limit(limit))
    return [dict(r._mapping) for r in conn.execute(q)]


def firing(conn: sa.Connection, tenant: str) -> list[dict]:
    q = (sa.select(_S, schema.alert_rules.c.name.label("rule"))
         .join(schema.alert_rules, schema.alert_rules.c.id == _S.c.rule_id)
         .where(schema.alert_rules.c.tenant == tenant, _S.c.firing.is_(True))
         .order_by(_S.c.since))
    return [dict(r._mapping) for r in conn.execute(q)]


