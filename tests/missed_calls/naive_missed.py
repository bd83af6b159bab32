"""An independent, row-by-row recomputation of the A.9 state machine for the differential
tests: every item of a number processed in time order (attempts and closers at their end,
missed calls at their time), exactly as the rules read."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal


@dataclass
class Req:
    num: str
    first_call: datetime
    last_call: datetime
    num_calls: int = 1
    num_recalled: int = 0
    last_recalled: datetime | None = None
    closure: str | None = None
    closed_at: datetime | None = None


@dataclass
class Item:
    kind: str            # missed | inbound | outbound | flush
    num: str
    start: datetime
    end: datetime
    status: str = "OK"
    bill: Decimal = Decimal(0)
    person: bool = True
    extra: dict = field(default_factory=dict)


def run(items: list[Item], thr: Decimal = Decimal(5)) -> list[Req]:
    def key(i: Item):
        t = i.start if i.kind == "missed" else i.end
        order = {"outbound": 0, "inbound": 1, "flush": 1, "missed": 2}[i.kind]
        return (t, order)

    out: list[Req] = []
    open_: dict[str, Req] = {}
    for i in sorted(items, key=key):
        r = open_.get(i.num)
        if i.kind == "missed":
            if r is None:
                r = open_[i.num] = Req(i.num, i.start, i.start)
                out.append(r)
            else:
                r.num_calls += 1
                r.last_call = max(r.last_call, i.start)
            continue
        if r is None or not i.start > r.first_call:
            continue  # no open request, or a call from before it (R11)
        ok = i.status == "OK" and i.bill > thr
        if i.kind == "flush":
            r.closure, r.closed_at = "forced_closure", i.end
        elif i.kind == "inbound" and ok and i.person:
            r.closure, r.closed_at = "served_inbound", i.end
        elif i.kind == "outbound" and ok:
            r.closure, r.closed_at = "handled_with_callback", i.end
        elif i.kind == "outbound":
            r.num_recalled += 1
            r.last_recalled = max(r.last_recalled or i.start, i.start)
        if r.closure:
            del open_[i.num]
    return out
