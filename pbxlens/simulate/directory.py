"""The synthetic PBX: operators, accounts, queues, ring groups, IVRs, checktimes, gateways..."""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from . import numbers

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
    shift: str  # "day", "part_am", "part_pm", "night", "manager"
    fork2mobile: bool = False
    cfwd_to: str | None = None  # conditional forward target extension (ring groups)
    ufwd_to: str | None = None  # unconditional forward target extension (rare)
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
    welcome_s: tuple[float, float]  # welcome message length range
    ring_timeout_s: int = 15
    retry_s: int = 5
    wrapup_s: tuple[float, float] = (5.0, 20.0)
    overflow_to: str | None = None  # queue id on max-wait timeout
    p_overflow: float = 0.0
    p_voicemail: float = 0.5  # on timeout/joinempty (when not overflowing)
    voicemail_ext: str = ""
    talk_mean_s: float = 180.0


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
    kind: str  # "ivr", "queue", "callg", "local_exten"
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

    def to_json(self, timezone: str) -> dict:
        t = TENANT
        return {
            "pbxlens_directory": 1,
            "generated_by": "pbxlens simulate",
            "timezone": timezone,
            "tenants": [{"domain": t, "name": "Default"}],
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


ORGS = (("ORG1", "COMMERCIALE"), ("ORG2", "SERVIZI CLIENTI"), ("ORG3", "AMMINISTRAZIONE"),
        ("ORG4", "DIREZIONE"))
OUS = (("OU1", "Vendite", "ORG1"), ("OU2", "Marketing", "ORG1"), ("OU3", "Assistenza", "ORG2"),
       ("OU4", "Supporto Tecnico", "ORG2"), ("OU5", "Contabilità", "ORG3"),
       ("OU6", "Segreteria", "ORG4"))
COST_CENTERS = (("CC1", "Centro di costo Vendite"), ("CC2", "Centro di costo Assistenza"),
                ("CC3", "Centro di costo Amministrazione"), ("CC4", "Centro di costo Generale"))
DIVISIONS = (("DIV1", "Divisione Nord"), ("DIV2", "Divisione Centro-Sud"))
BILLING_CODES = (("9999", "Campagna autunno"), ("1001", "Campagna primavera"),
                 ("2002", "Recupero crediti"), ("3003", "Sondaggio soddisfazione"))

# (ou index, count, shift mix)
_TEAMS = (
    (0, 10, "day"), (1, 3, "day"), (2, 12, "day"), (3, 6, "day"), (4, 4, "day"), (5, 3, "manager"),
)


def build_directory(seed: int, scale: float = 1.0) -> Directory:
    rng = random.Random(f"pbxlens-directory-{seed}")
    ops: list[Operator] = []
    used_names: set[str] = set()
    ext = 201
    for ou_i, count, shift in _TEAMS:
        ou_id, _ou_name, org = OUS[ou_i]
        cc = {"ORG1": "CC1", "ORG2": "CC2", "ORG3": "CC3"}.get(org, "CC4")
        n = max(1, round(count * scale))
        for k in range(n):
            while True:
                name = f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"
                if name not in used_names:
                    used_names.add(name)
                    break
            e = str(ext)
            ext += 1
            accounts = [(e, "desk")]
            if rng.random() < 0.5:
                accounts.append((f"{e}-app", "app"))
            if rng.random() < 0.2:
                accounts.append((f"{e}-hotdesk", "hotdesk"))
            w = {"desk": 0.72, "app": 0.2, "hotdesk": 0.08}
            sh = shift
            if shift == "day":
                r = rng.random()
                sh = "part_am" if r < 0.12 else "part_pm" if r < 0.22 else "day"
            # the technical-support team has two night operators
            if ou_id == "OU4" and k < 2:
                sh = "night"
            ops.append(Operator(
                extension=e, name=name, organization=org, org_unit=ou_id, cost_center=cc,
                division="DIV1" if rng.random() < 0.6 else "DIV2",
                mobile=numbers.mobile_number(rng), accounts=accounts,
                account_weights=[w[kd] for _a, kd in accounts],
                outbound_config="", shift=sh, ip=f"192.168.{10 + len(ops) // 200}.{20 + len(ops) % 200}",
                idx=len(ops)))
    by_ou: dict[str, list[int]] = {}
    for o in ops:
        by_ou.setdefault(o.org_unit, []).append(o.idx)

    # gateways / lines
    scale_ch = max(1.0, scale)
    gws = [
        Gateway("GW-Milano", round(30 * scale_ch), ["0287654300", "0287654390", "0287654311"],
                "10.10.0.1:5060"),
        Gateway("GW-Roma", round(10 * scale_ch), ["0698765400"], "10.10.0.2:5060"),
        Gateway("GW-Bergamo", round(4 * scale_ch), ["035245600"], "10.10.0.3:5060"),
    ]
    for i, g in enumerate(gws):
        g.idx = i
    gateways = {g.name: g for g in gws}
    names = [g.name for g in gws]
    outbound = {}
    for cname, gname in (("Uscita-Milano", "GW-Milano"), ("Uscita-Roma", "GW-Roma"),
                         ("Uscita-Bergamo", "GW-Bergamo")):
        fb = [gname] + [n for n in names if n != gname]
        outbound[cname] = OutboundConfiguration(cname, gname, gateways[gname].channel_limit, fb)
    for o in ops:
        r = rng.random()
        o.outbound_config = ("Uscita-Milano" if r < 0.7 else
                             "Uscita-Roma" if r < 0.9 else "Uscita-Bergamo")
        if rng.random() < 0.15:
            o.fork2mobile = True
    # forwards (used on direct and group calls)
    for o in ops:
        r = rng.random()
        if r < 0.1:
            o.cfwd_to = ops[(o.idx + 1) % len(ops)].extension
        elif r < 0.13:
            o.ufwd_to = ops[(o.idx + 2) % len(ops)].extension

    def members(ou_list, pen_rng=True):
        out = []
        for ou in ou_list:
            for i in by_ou.get(ou, []):
                out.append((i, rng.choice((0, 0, 0, 1, 2)) if pen_rng else 0))
        return out

    queues = {
        "700": Queue("700", "Vendite", "ringall", 180, "CT1", members(["OU1"]), (4, 8),
                     overflow_to="704", p_overflow=0.6, voicemail_ext=ops[by_ou["OU1"][0]].extension,
                     talk_mean_s=200),
        "701": Queue("701", "Assistenza Clienti", "rrmemory", 300, "CT1", members(["OU3"]),
                     (6, 12), voicemail_ext=ops[by_ou["OU3"][0]].extension, talk_mean_s=240,
                     p_voicemail=0.6),
        "702": Queue("702", "Amministrazione", "linear", 240, "CT1", members(["OU5"], False),
                     (5, 9), voicemail_ext=ops[by_ou["OU5"][0]].extension, talk_mean_s=150),
        "703": Queue("703", "Supporto Tecnico H24", "leastrecent", 300, None,
                     members(["OU4"]), (8, 14), voicemail_ext=ops[by_ou["OU4"][-1]].extension,
                     talk_mean_s=300, p_voicemail=0.7),
        "704": Queue("704", "Centralino", "random", 120, "CT1",
                     members(["OU6"]) + [(i, 2) for i in by_ou["OU1"][:3]] +
                     [(i, 1) for i in by_ou["OU3"][:2]],
                     (3, 6), voicemail_ext=ops[by_ou["OU6"][0]].extension, talk_mean_s=90),
    }
    # add some cross-members so operators serve several queues
    for i in by_ou["OU3"][:3]:
        queues["703"].members.append((i, 2))
    ring_groups = {
        "600": RingGroup("600", "Amministrazione", [by_ou["OU5"][:2], by_ou["OU5"][2:]],
                         checktime="CT1", voicemail_ext=ops[by_ou["OU5"][0]].extension),
        "601": RingGroup("601", "Marketing", [by_ou["OU2"]], ring_s=25, checktime="CT1",
                         voicemail_ext=ops[by_ou["OU2"][0]].extension),
    }
    ivrs = {
        "1": Ivr("1", "IVR Principale", [(0.42, "queue", "700"), (0.38, "queue", "701"),
                                        (0.1, "queue", "702"), (0.1, "queue", "704")]),
        "2": Ivr("2", "IVR Bergamo", [(0.55, "queue", "701"), (0.25, "callg", "601"),
                                     (0.2, "local_exten", ops[by_ou["OU6"][0]].extension)]),
    }
    checktimes = {
        "CT1": {"id": "CT1", "name": "Orario ufficio",
                "rules": [{"weekdays": [1, 2, 3, 4, 5], "from": "08:30", "to": "18:00"}],
                "holidays": "IT"},
    }
    dids = [
        Did("0287654300", "GW-Milano", "CT1", "ivr", "1", 0.55),
        Did("0287654390", "GW-Milano", None, "queue", "703", 0.12),
        Did("0287654311", "GW-Milano", "CT1", "local_exten", "", 0.1),  # direct dial (DDI)
        Did("0698765400", "GW-Roma", "CT1", "callg", "600", 0.13),
        Did("035245600", "GW-Bergamo", "CT1", "ivr", "2", 0.10),
    ]
    services = [
        ("*1", "echo", "Test eco", 0.5),
        ("*70", "vm", "Accesso casella vocale", 0.35),
        ("*501", "fork2mobile", "Attivazione fork to mobile", 0.15),
    ]
    d = Directory(ops, queues, ring_groups, ivrs, gateways, outbound, dids,
                  list(BILLING_CODES), list(ORGS), list(OUS), list(COST_CENTERS), list(DIVISIONS),
                  checktimes, services)
    d.by_ext = {o.extension: o for o in ops}
    return d
