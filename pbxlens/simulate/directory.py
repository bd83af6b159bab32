"""The synthetic PBX: operators, accounts, queues, ring groups, IVRs, checktimes, gateways...

The records here are plain data; the scenarios' builders (`layouts.py`) fill them in and
`Directory.to_json` writes them as `directory.json` (one tenant; `merge_json` joins tenants).
"""

from __future__ import annotations

from dataclasses import dataclass, field

TENANT = "default"

FIRST_NAMES = (
    "Mario", "Luca", "Giulia", "Francesca", "Marco", "Alessandro", "Chiara", "Sara", "Andrea",
    "Paolo", "Elena", "Valentina", "Matteo", "Davide", "Federica", "Simone", "Martina", "Stefano",
    "Laura", "Giorgio", "Anna", "Roberto", "Silvia", "Fabio", "Elisa", "Lorenzo", "Marta",
    "Riccardo", "Ilaria", "Nicola", "Alessia", "Giovanni", "Beatrice", "Claudio", "Serena",
    "Emanuele", "Cristina", "Daniele", "Noemi", "Tommaso", "Niccolò", "Lucrezia",
)
LAST_NAMES = (
    "Rossi", "Russo", "Ferrari", "Esposito", "Bianchi", "Romano", "Colombo", "Ricci", "Marino",
    "Greco", "Bruno", "Gallo", "Conti", "De Luca", "Mancini", "Costa", "Giordano", "Rizzo",
    "Lombardi", "Moretti", "Barbieri", "Fontana", "Santoro", "Mariani", "Rinaldi", "Caruso",
    "Ferrara", "Galli", "Martini", "Leone", "Longo", "Gentile", "Martinelli", "Vitale",
    "Lombardo", "Serra", "Coppola", "De Santis", "D'Angelo", "Marchetti", "Parisi", "Villa",
    "Conte", "Ferraro", "Fabbri", "Bianco", "Marini", "Grasso", "Valentini", "Messina",
)


@dataclass(slots=True)
class Operator:
    extension: str
    name: str
    organization: str
    org_unit: str
    cost_center: str
    division: str
    mobile: str
    accounts: list[tuple[str, str]]  # (account, kind)
    account_weights: list[float]
    outbound_config: str
    shift: str  # "day", "part_am", "part_pm", "night", "manager", "weekend"
    fork2mobile: bool = False
    cfwd_to: str | None = None  # conditional forward target extension (ring groups)
    ufwd_to: str | None = None  # unconditional forward target extension (rare)
    cfwd2mobile: bool = False  # forward to the mobile on no answer (direct calls)
    ip: str = ""
    idx: int = 0


@dataclass(slots=True)
class Queue:
    id: str
    name: str
    strategy: str
    max_wait_s: int
    checktime: str | None
    members: list[tuple[int, int]]  # (operator index, penalty)
    welcome_s: tuple[float, float]  # welcome message length range (0, 0 = none)
    ring_timeout_s: int = 15
    retry_s: int = 5
    wrapup_s: tuple[float, float] = (5.0, 20.0)  # rest interval after a queue call
    overflow_to: str | None = None  # queue id on max-wait timeout, full queue or join-empty
    p_overflow: float = 0.0
    p_voicemail: float = 0.5  # on timeout/joinempty (when not overflowing)
    voicemail_ext: str = ""
    talk_mean_s: float = 180.0
    # position / estimated-wait announcement after the welcome message, before enqueue
    announce_s: tuple[float, float] = (0.0, 0.0)
    max_len: int = 0  # callers waiting at most (0 = unlimited); beyond it: FULL
    autopause: bool = False  # a member who refuses or lets a call ring out is paused
    p_dre: float = 0.0  # failover to the missed-calls dynamic routing (dre line)
    # blind transfers by the answering operator to other queues: ((queue id, p), ...)
    transfers: tuple[tuple[str, float], ...] = ()
    outbound: bool = False  # an outbound campaign queue (agents call out through it)
    p_reserve: float = 0.0  # per minute of waiting: the caller asks to be called back


@dataclass(slots=True)
class RingGroup:
    id: str
    name: str
    priorities: list[list[int]]  # operator indexes per priority step
    ring_s: int = 20
    checktime: str | None = None
    voicemail_ext: str = ""


@dataclass(slots=True)
class Ivr:
    id: str
    name: str
    options: list[tuple[float, str, str]]  # (weight, kind, target id)


@dataclass(slots=True)
class Gateway:
    name: str
    channel_limit: int
    numbers: list[str]
    ip: str
    idx: int = 0


@dataclass(slots=True)
class OutboundConfiguration:
    name: str
    gateway: str
    channel_limit: int
    fallback: list[str]  # gateway names tried in order (first = own gateway)


@dataclass(slots=True)
class Did:
    number: str
    gateway: str
    checktime: str | None
    kind: str  # "ivr", "queue", "callg", "local_exten", "fax"
    target: str
    weight: float


@dataclass(slots=True)
class Directory:
    operators: list[Operator]
    queues: dict[str, Queue]
    ring_groups: dict[str, RingGroup]
    ivrs: dict[str, Ivr]
    gateways: dict[str, Gateway]
    outbound: dict[str, OutboundConfiguration]
    dids: list[Did]
    billing_codes: list[tuple[str, str]]
    organizations: list[tuple[str, str]]
    org_units: list[tuple[str, str, str]]
    cost_centers: list[tuple[str, str]]
    divisions: list[tuple[str, str]]
    checktimes: dict[str, dict]
    services: list[tuple[str, str, str, float]] = field(default_factory=list)
    by_ext: dict[str, Operator] = field(default_factory=dict)
    tenant: str = TENANT
    tenant_name: str = "Default"
    conferences: list[tuple[str, str]] = field(default_factory=list)  # (room, name)
    fax: tuple[str, str] = ("fax1", "FAX server")  # (id, name)
    ddi_prefix: str = "0287654"  # direct-dial numbers: this prefix + the extension
    campaign_caller: str = "2222"  # the Call Campaign service's caller number
    # the checktime (by id) of the callback team's working hours
    callback_checktime: str | None = "CT1"

    def to_json(self, timezone: str) -> dict:
        t = self.tenant
        return {
            "pbxlens_directory": 1,
            "generated_by": "pbxlens simulate",
            "timezone": timezone,
            "tenants": [{"domain": t, "name": self.tenant_name}],
            "organizations": [{"tenant": t, "id": i, "name": n} for i, n in self.organizations],
            "org_units": [{"tenant": t, "id": i, "name": n, "organization": o}
                          for i, n, o in self.org_units],
            "cost_centers": [{"tenant": t, "id": i, "name": n} for i, n in self.cost_centers],
            "divisions": [{"tenant": t, "id": i, "name": n} for i, n in self.divisions],
            "operators": [
                {"tenant": t, "extension": o.extension, "name": o.name,
                 "organization": o.organization, "org_unit": o.org_unit,
                 "cost_center": o.cost_center, "division": o.division, "mobile": o.mobile,
                 "accounts": [{"account": a, "kind": k} for a, k in o.accounts]}
                for o in self.operators
            ],
            "queues": [
                {"tenant": t, "id": q.id, "name": q.name, "strategy": q.strategy,
                 "max_wait_s": q.max_wait_s, "checktime": q.checktime,
                 "members": [{"account": self.operators[i].accounts[0][0], "penalty": p}
                             for i, p in q.members]}
                for q in self.queues.values()
            ],
            "ring_groups": [
                {"tenant": t, "id": g.id, "name": g.name,
                 "members": [self.operators[i].extension for pr in g.priorities for i in pr]}
                for g in self.ring_groups.values()
            ],
            "ivrs": [{"tenant": t, "id": v.id, "name": v.name} for v in self.ivrs.values()],
            "checktimes": [dict(tenant=t, **c) for c in self.checktimes.values()],
            "gateways": [
                {"tenant": t, "name": g.name, "kind": "gateway", "channel_limit": g.channel_limit,
                 "numbers": list(g.numbers), "country_code": "39"}
                for g in self.gateways.values()
            ],
            "outbound_configurations": [
                {"tenant": t, "name": c.name, "gateway": c.gateway,
                 "channel_limit": c.channel_limit}
                for c in self.outbound.values()
            ],
            "billing_codes": [{"tenant": t, "code": c, "description": d}
                              for c, d in self.billing_codes],
        }


def merge_json(docs: list[dict]) -> dict:
    """One directory.json for several tenants: the lists of every tenant's document joined."""
    out = dict(docs[0])
    for key, value in docs[0].items():
        if isinstance(value, list):
            out[key] = [x for d in docs for x in d[key]]
    return out


def build_directory(seed: int, scale: float = 1.0, scenario=None) -> Directory:
    """The PBX of a scenario (default: the contact center), sized by `scale`."""
    from .scenarios import get_scenario

    sc = get_scenario(scenario)
    return sc.layout(seed, scale, sc)
