"""The simulated truth: calls and their path lines (legs), independent of any writer.

All instants are UTC epoch **milliseconds** (int). ``None`` = absent.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from .directory import Directory

# Call-Center-style outcome of one presentation of a queue call to an operator
CC_OUTCOMES = ("NCC-AGENT", "NCC-CALLER", "TRANSFER", "ANSWERED_ELSEWHERE", "TIMEOUT", "REFUSED",
               "BUSY", "CANCELED", "UNAVAILABLE", "NOANSWER", "PICKUP", "CFWD", "FORWARD",
               "CONGESTION")
# Call Center exit cause of a queue visit (Leg.cc_cause of `queue` lines)
CC_QUEUE_CAUSES = ("NCC", "TRANSFER", "CANCELED", "CANCELED_NOWAIT", "TIMEOUT", "QUEUE_JOINEMPTY",
                   "FULL", "LEAVEEMPTY", "CLOSED", "QUEUE_CALLBACK", "CCBS",
                   # an agent's campaign call: the line's outcome when the customer is not
                   # reached
                   "BUSY", "UNAVAILABLE", "CONGESTION", "BLOCKED")


class Leg:
    """One detail line of the call path (plus truth-only fields for later writers)."""

    __slots__ = (
        "dtype", "did", "dname", "dnum", "src", "src_anon", "t_enter", "t_enqueue", "t_answer",
        "t_exit", "cause", "answered_by", "msrc", "mdst", "acode", "ct_in",
        # truth-only
        "op", "account", "queue", "visit", "cc_outcome", "welcome_end", "hangup_by",
        "gateway", "ring_order", "cc_cause", "work_code",
    )

    def __init__(self, dtype, did, dname, dnum, src, src_anon, t_enter, t_exit, cause,
                 t_answer=None, answered_by="", t_enqueue=None, msrc="", mdst="", acode="",
                 ct_in=None):
        self.dtype = dtype
        self.did = did
        self.dname = dname
        self.dnum = dnum
        self.src = src
        self.src_anon = src_anon
        self.t_enter = t_enter
        self.t_enqueue = t_enqueue
        self.t_answer = t_answer
        self.t_exit = t_exit
        self.cause = cause
        self.answered_by = answered_by
        self.msrc = msrc
        self.mdst = mdst
        self.acode = acode
        self.ct_in = ct_in
        self.op = None  # operator extension for operator legs
        self.account = ""  # account that answered (operator legs)
        self.queue = None  # queue id when this leg is a presentation of a queue visit
        self.visit = None  # index (in the call's legs) of the queue line it belongs to
        self.cc_outcome = None  # CC operator outcome (see CC_OUTCOMES)
        self.welcome_end = None  # queue lines: end of the welcome message
        self.hangup_by = None  # "agent" / "caller" for answered legs
        self.gateway = None  # obl legs: gateway used
        self.ring_order = None
        self.cc_cause = None  # queue lines: the Call Center CDR exit cause (CC_QUEUE_CAUSES)
        self.work_code = ""  # queue lines: the work code the operator tagged at wrap-up

    def __repr__(self) -> str:  # pragma: no cover - debugging aid
        return (f"Leg({self.dtype} {self.did} {self.t_enter}->{self.t_exit} {self.cause} "
                f"ans={self.answered_by} cc={self.cc_outcome})")


class Call:
    __slots__ = (
        "acode",
        "anonymous",
        "answered_by",
        "called",
        "caller",
        "caller_name",
        "caller_op",
        "campaign",
        "cc_legs",
        "direction",
        "dst_type",
        "gateway",
        "ip_port",
        "legs",
        "peer",
        "seq",
        "src_type",
        "status",
        "t_answer",
        "t_end",
        "t_start",
        "t_up",
        "tenant",
        "unique_id",
        "why",
    )

    def __init__(self):
        self.seq = 0
        self.unique_id = ""
        self.src_type = ""
        self.dst_type = ""
        self.status = ""
        self.t_start = 0
        self.t_up = None
        self.t_answer = None
        self.t_end = 0
        self.answered_by = ""
        self.caller = ""
        self.caller_name = ""
        self.anonymous = 0
        self.called = ""
        self.gateway = ""
        self.acode = ""
        self.peer = ""
        self.ip_port = ""
        self.legs: list[Leg] = []
        self.direction = ""  # "in" / "out" / "internal"
        self.campaign = None
        self.caller_op = None  # extension of the calling operator (out/internal)
        self.tenant = ""  # tenant domain (multi-tenant runs)
        self.why = ""  # what made the call: "", "redial", "callback", "reserve", "notify"...
        # operator presentations the Call Center CDR records but the CDR path does not
        # (the agent of an outbound campaign call): legs with `visit` set
        self.cc_legs: list[Leg] | None = None

    def __repr__(self) -> str:  # pragma: no cover
        return f"Call({self.unique_id} {self.direction} {self.status} legs={len(self.legs)})"


@dataclass
class Truth:
    directory: Directory
    calls: list[Call]
    start: date
    days: int
    seed: int
    tz: str
    stats: dict = field(default_factory=dict)
    ledger: list = field(default_factory=list)  # callbacks.MissedLedger per tenant
    pauses: list = field(default_factory=list)  # engine.Pause records (planned and dynamic)


class CallContext:
    """What the routing steps of one call share: the call, who calls, the gateways it holds and
    when the caller hangs up."""

    __slots__ = ("anon", "call", "caller", "last_gw", "patience", "reserved")

    def __init__(self, call: Call, caller: str, anon: int, reserved: list[str], patience: int):
        self.call = call
        self.caller = caller
        self.anon = anon
        self.reserved = reserved
        self.patience = patience
        self.last_gw = None
