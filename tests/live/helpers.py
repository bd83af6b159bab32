"""Events as the PBX posts them, and the live state read back, for the live tests."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from pbxlens.ingest.webhook_bodies import parse_events
from pbxlens.live import snapshot

T0 = 1_778_490_000  # 2026-05-11 11:00 (Rome): a Monday in office hours
_ids = iter(range(1, 10**9))


def at(s: float) -> datetime:
    return datetime.fromtimestamp(T0 + s, UTC)


def ev(name: str, s: float, uid: str | None = None, eid: int | None = None, **params) -> dict:
    """One event `s` seconds after T0; queue events default to queue 700 'Sales'."""
    p = dict(params)
    if uid is not None:
        p["unique_id"] = uid
    if name.startswith(("pbx.queue.", "pbx.queuemember.")) and "queue" not in p \
            and not p.pop("all_queues", False):
        p.update(queue="700", queue_name="Sales")
    return {"event_id": eid if eid is not None else next(_ids), "event_name": name,
            "event_timestamp": f"{T0 + s:.3f}", "event_pbx_serial": "S1", "params": p}


def uid(n: int, s: float = 0) -> str:
    """An Asterisk unique id of a call started `s` s after T0 (its day follows its start)."""
    return f"{int(T0 + s)}.{n}"


def post(intake, *events) -> None:
    intake.accept("events", parse_events(json.dumps(list(events)).encode()))


def snap(stores, s: float, tenant: str = "default") -> dict:
    with stores.ops_read() as c:
        return snapshot.compute(c, at(s)).get(tenant) or {"queues": [], "agents": []}


def queue(stores, s: float, q: str = "700") -> dict:
    return next(x for x in snap(stores, s)["queues"] if x["queue"] == q)


def agent(stores, s: float, name: str) -> dict:
    return next(x for x in snap(stores, s)["agents"] if x["agent"] == name)


def login(name: str, s: float, queue: str = "700") -> dict:
    return ev("pbx.queuemember.added", s, member_exten=name, member_account=name,
              queue=queue, queue_name="Sales" if queue == "700" else f"Q{queue}")
