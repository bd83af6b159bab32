"""The PBX of each scenario: teams, queues, ring groups, IVRs, lines and numbers.

Each builder takes (seed, scale, scenario) and returns a `Directory`; teams grow with `scale`
(calls per day over the scenario's own volume, at least 1), as do the lines' channels. The
generator is seeded from the seed alone, so the directory of a seed never depends on the run.
"""

from __future__ import annotations

import random
import string

from . import numbers
from .directory import (
    FIRST_NAMES,
    LAST_NAMES,
    Did,
    Directory,
    Gateway,
    Ivr,
    Operator,
    OutboundConfiguration,
    Queue,
    RingGroup,
)

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
SERVICES = [("*1", "echo", "Test eco", 0.5), ("*70", "vm", "Accesso casella vocale", 0.35),
            ("*501", "fork2mobile", "Attivazione fork to mobile", 0.15)]
OFFICE_HOURS = {"id": "CT1", "name": "Orario ufficio",
                "rules": [{"weekdays": [1, 2, 3, 4, 5], "from": "08:30", "to": "18:00"}],
                "holidays": "IT"}
ADMIN_HOURS = {"id": "CT2", "name": "Orario amministrazione",
               "rules": [{"weekdays": [1, 2, 3, 4, 5], "from": "09:00", "to": "13:00"},
                         {"weekdays": [1, 2, 3, 4, 5], "from": "14:00", "to": "17:30"}],
               "holidays": "IT"}


def sip_prefix(seed: int, tenant: str) -> str:
    """A tenant's 6-character SIP account prefix (pbx_callcenter.md §5; default tenant: none)."""
    rng = random.Random(f"pbxlens-prefix-{seed}-{tenant}")
    return "".join(rng.choice(string.ascii_letters + string.digits) for _ in range(6))


def _operators(rng: random.Random, teams, scale: float, prefix: str = "") -> list[Operator]:
    """teams: (ou index, count, shift). Day teams get ~12 % morning and ~10 % afternoon
    part-timers; the technical team's first two members work nights (`night_ops`)."""
    ops: list[Operator] = []
    used: set[str] = set()
    ext = 201
    for ou_i, count, shift, night_ops in teams:
        ou_id, _ou_name, org = OUS[ou_i]
        cc = {"ORG1": "CC1", "ORG2": "CC2", "ORG3": "CC3"}.get(org, "CC4")
        for k in range(max(1, round(count * scale))):
            while True:
                name = f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"
                if name not in used:
                    used.add(name)
                    break
            e = str(ext)
            ext += 1
            accounts = [(prefix + e, "desk")]
            if rng.random() < 0.5:
                accounts.append((f"{prefix}{e}-app", "app"))
            if rng.random() < 0.2:
                accounts.append((f"{prefix}{e}-hotdesk", "hotdesk"))
            w = {"desk": 0.72, "app": 0.2, "hotdesk": 0.08}
            sh = shift
            if shift == "day":
                r = rng.random()
                sh = "part_am" if r < 0.12 else "part_pm" if r < 0.22 else "day"
            if k < night_ops:
                sh = "night"
            ops.append(Operator(
                extension=e, name=name, organization=org, org_unit=ou_id, cost_center=cc,
                division="DIV1" if rng.random() < 0.6 else "DIV2",
                mobile=numbers.mobile_number(rng), accounts=accounts,
                account_weights=[w[kd] for _a, kd in accounts], outbound_config="", shift=sh,
                ip=f"192.168.{10 + len(ops) // 200}.{20 + len(ops) % 200}", idx=len(ops)))
    return ops


def _lines(rng: random.Random, ops: list[Operator], scale: float, lines,
           own_only: tuple[str, ...] = ()) -> tuple[dict, dict]:
    """lines: (gateway name, channels, numbers, ip, outbound configuration name, share);
    a configuration falls back to the other lines unless its gateway is in `own_only` (a
    site whose routing class has only its own line: BLOCKED when it is busy or down)."""
    scale_ch = max(1.0, scale)
    gws = {}
    for i, (name, ch, nums, ip, _cfg, _share) in enumerate(lines):
        gws[name] = Gateway(name, round(ch * scale_ch), list(nums), ip, i)
    names = list(gws)
    outbound = {}
    for gname, _ch, _n, _ip, cname, _share in lines:
        fb = [gname] + ([] if gname in own_only else [n for n in names if n != gname])
        outbound[cname] = OutboundConfiguration(cname, gname, gws[gname].channel_limit, fb)
    cum = []
    acc = 0.0
    for *_x, cname, share in lines:
        acc += share
        cum.append((acc, cname))
    for o in ops:
        r = rng.random()
        o.outbound_config = next((c for a, c in cum if r < a), cum[-1][1])
        if rng.random() < 0.15:
            o.fork2mobile = True
    n = len(ops)
    for o in ops:  # forwards (direct and group calls)
        r = rng.random()
        if r < 0.1:
            o.cfwd_to = ops[(o.idx + 1) % n].extension
        elif r < 0.13:
            o.ufwd_to = ops[(o.idx + 2) % n].extension
        elif r < 0.21:
            o.cfwd2mobile = True
    return gws, outbound


def _by_ou(ops: list[Operator]) -> dict[str, list[int]]:
    by: dict[str, list[int]] = {}
    for o in ops:
        by.setdefault(o.org_unit, []).append(o.idx)
    return by


def _members(rng: random.Random, by_ou, ou_list, penalties: bool = True):
    return [(i, rng.choice((0, 0, 0, 1, 2)) if penalties else 0)
            for ou in ou_list for i in by_ou.get(ou, [])]


def _features(ops: list[Operator], by: dict[str, list[int]]) -> None:
    """In a small team the random draws may leave out a feature: the secretaries' first
    forwards unconditionally to the second, someone forwards to the mobile on no answer, the
    first of each ring-group team forks to the mobile."""
    sec = by.get("OU6", [])
    if len(sec) > 1:
        ops[sec[-1]].ufwd_to = ops[sec[0]].extension
        ops[sec[-1]].cfwd_to = None
    ops[by.get("OU1", by.get("OU3", sec))[0]].cfwd2mobile = True
    for ou in ("OU5", "OU6"):
        if by.get(ou):
            ops[by[ou][0]].fork2mobile = True


def _directory(ops, queues, groups, ivrs, gws, outbound, dids, checktimes, **kw) -> Directory:
    d = Directory(ops, queues, groups, ivrs, gws, outbound, dids, list(BILLING_CODES),
                  list(ORGS), list(OUS), list(COST_CENTERS), list(DIVISIONS), checktimes,
                  list(SERVICES), **kw)
    d.by_ext = {o.extension: o for o in ops}
    return d


def contact_center(seed: int, scale: float, sc, *, tenant: str = "default",
                   tenant_name: str = "Default", prefix: str = "") -> Directory:
    rng = random.Random(f"pbxlens-directory-{seed}" if tenant == "default"
                        else f"pbxlens-directory-{seed}-{tenant}")
    teams = ((0, 10, "day", 0), (1, 3, "day", 0), (2, 12, "day", 0), (3, 6, "day", 2),
             (4, 4, "day", 0), (5, 3, "manager", 0))
    ops = _operators(rng, teams, scale, prefix)
    gws, outbound = _lines(rng, ops, scale, (
        ("GW-Milano", 30, ("0287654300", "0287654390", "0287654311", "0287654399"),
         "10.10.0.1:5060", "Uscita-Milano", 0.7),
        ("GW-Roma", 10, ("0698765400",), "10.10.0.2:5060", "Uscita-Roma", 0.2),
        ("GW-Bergamo", 4, ("035245600",), "10.10.0.3:5060", "Uscita-Bergamo", 0.1)),
        own_only=("GW-Bergamo",))
    by = _by_ou(ops)

    def vm(ou: str, k: int = 0) -> str:
        return ops[by[ou][k]].extension

    queues = {
        "700": Queue("700", "Vendite", "ringall", 180, "CT1", _members(rng, by, ["OU1"]), (4, 8),
                     overflow_to="704", p_overflow=0.6, voicemail_ext=vm("OU1"),
                     talk_mean_s=200, max_len=8),
        "701": Queue("701", "Assistenza Clienti", "rrmemory", 300, "CT1",
                     _members(rng, by, ["OU3"]), (6, 12), voicemail_ext=vm("OU3"),
                     talk_mean_s=240, p_voicemail=0.6, announce_s=(2, 6), max_len=10,
                     p_dre=0.5, transfers=(("703", 0.03),), p_reserve=0.012),
        "702": Queue("702", "Amministrazione", "linear", 240, "CT2",
                     _members(rng, by, ["OU5"], False), (5, 9), voicemail_ext=vm("OU5"),
                     talk_mean_s=150, max_len=4, autopause=True),
        "703": Queue("703", "Supporto Tecnico H24", "leastrecent", 300, None,
                     _members(rng, by, ["OU4"]), (8, 14), voicemail_ext=vm("OU4", -1),
                     talk_mean_s=300, p_voicemail=0.7, announce_s=(2, 5), max_len=6,
                     autopause=True, p_reserve=0.012, overflow_to="701", p_overflow=0.5),
        "704": Queue("704", "Centralino", "random", 120, "CT1",
                     _members(rng, by, ["OU6"]) + [(i, 2) for i in by["OU1"][:3]]
                     + [(i, 1) for i in by["OU3"][:2]], (3, 6), voicemail_ext=vm("OU6"),
                     talk_mean_s=90, max_len=3, transfers=(("700", 0.08), ("701", 0.08))),
        "705": Queue("705", "Campagne Outbound", "ringall", 60, None,
                     _members(rng, by, ["OU1", "OU2"], False), (0, 0), talk_mean_s=90,
                     outbound=True),
    }
    for i in by["OU3"][:3]:  # cross-members: operators serve several queues
        queues["703"].members.append((i, 2))
    _features(ops, by)
    groups = {
        "600": RingGroup("600", "Amministrazione", [by["OU5"][:2], by["OU5"][2:]],
                         checktime="CT1", voicemail_ext=vm("OU5")),
        "601": RingGroup("601", "Marketing", [by["OU2"]], ring_s=25, checktime="CT1",
                         voicemail_ext=vm("OU2")),
    }
    ivrs = {
        "1": Ivr("1", "IVR Principale", [(0.42, "queue", "700"), (0.38, "queue", "701"),
                                        (0.1, "queue", "702"), (0.1, "queue", "704")]),
        "2": Ivr("2", "IVR Bergamo", [(0.55, "queue", "701"), (0.25, "callg", "601"),
                                     (0.2, "local_exten", vm("OU6"))]),
    }
    dids = [
        Did("0287654300", "GW-Milano", "CT1", "ivr", "1", 0.55),
        Did("0287654390", "GW-Milano", None, "queue", "703", 0.12),
        Did("0287654311", "GW-Milano", "CT1", "local_exten", "", 0.1),  # direct dial (DDI)
        Did("0698765400", "GW-Roma", "CT1", "callg", "600", 0.13),
        Did("035245600", "GW-Bergamo", "CT1", "ivr", "2", 0.10),
        Did("0287654399", "GW-Milano", None, "fax", "fax1", 0.004),
    ]
    return _directory(ops, queues, groups, ivrs, gws, outbound, dids,
                      {"CT1": OFFICE_HOURS, "CT2": ADMIN_HOURS}, tenant=tenant,
                      tenant_name=tenant_name,
                      conferences=[("9001", "Sala riunioni"), ("9002", "Conference clienti")])


def small_office(seed: int, scale: float, sc, *, tenant: str = "default",
                 tenant_name: str = "Default", prefix: str = "") -> Directory:
    rng = random.Random(f"pbxlens-directory-small-{seed}-{tenant}")
    teams = ((0, 3, "day", 0), (4, 2, "day", 0), (5, 2, "manager", 0))
    ops = _operators(rng, teams, scale, prefix)
    gws, outbound = _lines(rng, ops, scale, (
        ("GW-Ufficio", 8, ("0516540000", "0516540011", "0516540022", "0516540033",
                           "0516540099"), "10.20.0.1:5060", "Uscita-Ufficio", 1.0),))
    by = _by_ou(ops)
    queues = {
        "704": Queue("704", "Centralino", "ringall", 90, "CT1",
                     _members(rng, by, ["OU6"], False) + [(i, 1) for i in by["OU1"]], (3, 5),
                     voicemail_ext=ops[by["OU6"][0]].extension, talk_mean_s=90, max_len=2,
                     p_voicemail=0.7, transfers=(("700", 0.1),), p_reserve=0.1),
        "700": Queue("700", "Vendite", "rrmemory", 120, "CT2", _members(rng, by, ["OU1"]),
                     (3, 6), overflow_to="704", p_overflow=0.5,
                     voicemail_ext=ops[by["OU1"][0]].extension, talk_mean_s=180, max_len=2,
                     announce_s=(1, 3), autopause=True, p_reserve=0.15),
    }
    groups = {"600": RingGroup("600", "Amministrazione", [by["OU5"]], checktime="CT1",
                               voicemail_ext=ops[by["OU5"][0]].extension)}
    ivrs = {"1": Ivr("1", "IVR Ufficio", [(0.5, "queue", "700"), (0.3, "queue", "704"),
                                          (0.2, "callg", "600")])}
    dids = [Did("0516540000", "GW-Ufficio", "CT1", "ivr", "1", 0.76),
            Did("0516540011", "GW-Ufficio", "CT1", "local_exten", "", 0.1),
            Did("0516540022", "GW-Ufficio", "CT1", "callg", "600", 0.06),
            Did("0516540033", "GW-Ufficio", "CT1", "queue", "704", 0.08),
            Did("0516540099", "GW-Ufficio", None, "fax", "fax1", 0.01)]
    _features(ops, by)
    return _directory(ops, queues, groups, ivrs, gws, outbound, dids,
                      {"CT1": OFFICE_HOURS, "CT2": ADMIN_HOURS},
                      tenant=tenant, tenant_name=tenant_name, ddi_prefix="0516540",
                      conferences=[("9001", "Sala riunioni")])


def night_weekend(seed: int, scale: float, sc, *, tenant: str = "default",
                  tenant_name: str = "Default", prefix: str = "") -> Directory:
    """Technicians on rotating night shifts (and day shifts at weekends and holidays), a
    weekday office team that also calls back the night's missed callers."""
    rng = random.Random(f"pbxlens-directory-night-{seed}-{tenant}")
    teams = ((3, 8, "day", 8), (2, 4, "day", 0), (5, 2, "manager", 0))
    ops = _operators(rng, teams, scale, prefix)
    gws, outbound = _lines(rng, ops, scale, (
        ("GW-Centrale", 16, ("0612340000", "0612340001", "0612340011", "0612340099"),
         "10.30.0.1:5060",
         "Uscita-Centrale", 0.8),
        ("GW-Backup", 6, ("0612349000",), "10.30.0.2:5060", "Uscita-Backup", 0.2)))
    by = _by_ou(ops)
    office = by["OU3"] + by["OU6"]
    queues = {
        "710": Queue("710", "Pronto Intervento H24", "leastrecent", 240, None,
                     _members(rng, by, ["OU4"], False) + [(i, 1) for i in by["OU3"]], (8, 15),
                     overflow_to="711", p_overflow=0.7,
                     voicemail_ext=ops[by["OU4"][0]].extension, talk_mean_s=240,
                     announce_s=(2, 5), max_len=5, autopause=True, p_reserve=0.015,
                     p_dre=0.5),
        "711": Queue("711", "Reperibilità", "ringall", 120, None,
                     [(i, 0) for i in by["OU4"][:4]] + [(i, 1) for i in by["OU6"]], (2, 4),
                     voicemail_ext=ops[by["OU6"][0]].extension, talk_mean_s=200, max_len=3,
                     p_voicemail=0.8),
        "712": Queue("712", "Ufficio Clienti", "rrmemory", 180, "CT1",
                     [(i, 0) for i in office], (5, 9), voicemail_ext=ops[office[0]].extension,
                     talk_mean_s=180, max_len=4, transfers=(("710", 0.05),)),
    }
    groups = {"600": RingGroup("600", "Ufficio", [by["OU6"], by["OU3"]], checktime="CT1",
                               voicemail_ext=ops[by["OU6"][0]].extension)}
    ivrs = {"1": Ivr("1", "IVR Servizio", [(0.7, "queue", "710"), (0.3, "queue", "712")])}
    dids = [Did("0612340000", "GW-Centrale", None, "queue", "710", 0.6),
            Did("0612340001", "GW-Centrale", None, "ivr", "1", 0.15),
            Did("0612340011", "GW-Centrale", "CT1", "local_exten", "", 0.15),
            Did("0612349000", "GW-Backup", "CT1", "callg", "600", 0.1),
            Did("0612340099", "GW-Centrale", None, "fax", "fax1", 0.005)]
    _features(ops, by)
    return _directory(ops, queues, groups, ivrs, gws, outbound, dids, {"CT1": OFFICE_HOURS},
                      tenant=tenant, tenant_name=tenant_name, ddi_prefix="0612340",
                      conferences=[("9001", "Sala operativa")])
