"""Named simulation scenarios: the PBX layout and every frequency the engine draws from.

`pbxlens generate --scenario NAME`; `generate(..., scenario=NAME)`. A scenario is a frozen
record: `layout` builds the directory (layouts.py), the other fields are the traffic and
behaviour parameters (docs/simulator.md lists them; `parameter_table()` generates that table
and a test keeps the document current).

A multi-tenant scenario names its tenants: each is simulated with its own scenario (a smaller
office, a night service ...) on one PBX, and the exports carry a `tenant` column.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, fields

from pbxlens import PbxlensError

from . import layouts

# local-hour arrival profiles (relative weights)
IN_PROFILE = (0.8, 0.3, 0.15, 0.1, 0.1, 0.15, 0.4, 1.5, 4, 8, 10, 10, 7, 4, 5, 8, 9, 8, 5, 2,
              1.4, 1.2, 1.5, 1.8)
OUT_PROFILE = (0.05, 0.02, 0.01, 0.01, 0.01, 0.02, 0.1, 0.8, 5, 9, 10, 9, 5, 3, 6, 9, 9, 7, 3,
               0.6, 0.3, 0.2, 0.15, 0.1)
INT_PROFILE = (0.05, 0.02, 0.01, 0.01, 0.01, 0.02, 0.1, 0.8, 6, 9, 10, 9, 6, 4, 7, 9, 8, 6, 2,
               0.5, 0.2, 0.15, 0.1, 0.05)
NIGHT_IN_PROFILE = (6, 5, 4, 3, 3, 3, 4, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 6, 7, 8, 8, 8, 7)
OFFICE_WEEK = tuple(f * 7 / 6.0 for f in (1.15, 1.1, 1.1, 1.1, 1.05, 0.3, 0.2))
SERVICE_WEEK = tuple(f * 7 / 8.5 for f in (1.0, 1.0, 1.0, 1.0, 1.1, 1.7, 1.7))


@dataclass(frozen=True)
class Scenario:
    """Every parameter of a simulation. Probabilities are per call unless said otherwise."""

    name: str
    title: str
    layout: Callable  # (seed, scale, scenario) -> Directory
    # arrivals on an average weekday (redials and callbacks come on top); the layout's teams
    # are sized for it and grow in proportion above it
    calls_per_day: int = 2000
    mix: tuple[float, float, float] = (0.5, 0.35, 0.15)  # inbound, outbound, internal
    weekday_factor: tuple[float, ...] = OFFICE_WEEK  # Monday..Sunday
    holiday_factor: float = 0.25
    in_profile: tuple[float, ...] = IN_PROFILE
    out_profile: tuple[float, ...] = OUT_PROFILE
    int_profile: tuple[float, ...] = INT_PROFILE
    night_h24_share: float = 0.6  # night callers who use the 24-hour number
    # ---- callers
    p_anonymous: float = 0.03
    p_known_caller: float = 0.6  # the caller is a returning customer (a pool of numbers)
    caller_pool: int = 4000
    p_patient: float = 0.3  # callers who never hang up while waiting
    patience_mean_s: float = 110.0  # others: 2 s + exponential
    p_redial: float = 0.3  # a caller who was not answered calls again
    redial_s: tuple[int, int] = (60, 1500)
    # ---- queues and operators
    p_work_code: float = 0.25  # answered queue calls tagged with a work code at wrap-up
    p_after_call_work: float = 0.1  # answered queue calls followed by a wrap-up pause
    after_call_work_s: tuple[int, int] = (20, 180)
    autopause_s: tuple[int, int] = (30, 240)  # an auto-paused member resumes after
    pauses_per_shift: tuple[float, ...] = (1, 2, 2, 1)  # weights of 0, 1, 2, 3 pauses
    pause_s: tuple[int, int] = (180, 1500)
    pause_reasons: tuple[tuple[str, float], ...] = (
        ("break", 4), ("lunch", 1), ("training", 1), ("backoffice", 2), ("", 1))
    p_queue_pause: float = 0.75  # a pause on the member's queues (else queue-less)
    p_pickup: float = 0.05  # a ringing direct call picked up by a colleague
    p_park: float = 0.01  # answered direct calls parked and retrieved
    p_fast_transfer: float = 0.015  # answered direct calls moved to the operator's mobile
    p_transfer_fail: float = 0.25  # attended transfers that do not complete
    # ---- missed-call callbacks by the operators (nexus_modules.md A)
    p_callback: float = 0.85  # missed callers the team calls back
    callback_delay_s: tuple[int, int] = (120, 2700)  # during the team's hours
    p_retry: float = 0.65  # after an unsuccessful attempt, another operator tries again
    retry_delay_s: tuple[int, int] = (1200, 7200)
    max_attempts: int = 3
    p_callback_answer: float = 0.6  # the customer answers a callback
    # ---- rarer paths
    p_forbidden_in: float = 0.001  # a call from an unknown inbound line
    p_unknown_end: float = 0.002  # internal calls whose end the PBX could not trace (??)
    p_forbidden_out: float = 0.004  # outbound numbers the routing class forbids
    p_conference: float = 0.03  # internal calls to a conference room
    p_conference_out: float = 0.003  # a conference room dials out to a participant
    p_fax_out: float = 0.004  # outbound faxes
    outage_days: float = 0.15  # days on which a line is down for 30-150 minutes
    burst_days: float = 0.15  # days with an incident: a burst of calls to one number
    burst_calls: tuple[int, int] = (40, 90)
    burst_minutes: tuple[int, int] = (20, 60)
    campaign_share: float = 0.7  # billing-code calls placed through the campaign queue
    notification_days: float = 0.3  # days with a Call Campaign (automated notices) run
    notification_calls: tuple[int, int] = (20, 60)
    call_events: bool = True  # call and queue events in events.jsonl (with "events")
    tenants: tuple[tuple[str, str, str, float], ...] = ()  # (domain, name, scenario, share)


SCENARIOS: dict[str, Scenario] = {}


def register(sc: Scenario) -> Scenario:
    SCENARIOS[sc.name] = sc
    return sc


DEFAULT = "contact-center"

register(Scenario(
    name="contact-center",
    title="A contact center: five inbound queues (sales, customer care, administration, 24-hour "
          "technical support, switchboard), an outbound campaign queue, two ring groups, two "
          "IVRs, three lines; ~40 operators at 2000 calls/day",
    layout=layouts.contact_center,
))

register(Scenario(
    name="small-office",
    title="A small office: a switchboard queue and a sales queue, one ring group, one line, "
          "seven people; no night service",
    layout=layouts.small_office, calls_per_day=150,
    mix=(0.55, 0.33, 0.12), caller_pool=600, p_redial=0.35, p_callback=0.9,
    callback_delay_s=(300, 5400), campaign_share=0.0, notification_days=0.0,
    p_conference=0.05, p_conference_out=0.02, p_fax_out=0.02, p_forbidden_in=0.01,
    p_unknown_end=0.01, p_forbidden_out=0.01, p_park=0.04, p_fast_transfer=0.06,
    p_pickup=0.15, p_transfer_fail=0.6, burst_days=0.3, burst_calls=(15, 35),
    burst_minutes=(10, 30),
))

register(Scenario(
    name="night-weekend",
    title="A night-and-weekend service: a 24-hour emergency queue with an on-call overflow "
          "queue, a weekday office that calls the night's missed callers back the next "
          "morning; traffic peaks at night and at weekends",
    layout=layouts.night_weekend, calls_per_day=600,
    mix=(0.7, 0.2, 0.1), weekday_factor=SERVICE_WEEK, holiday_factor=1.6,
    in_profile=NIGHT_IN_PROFILE, night_h24_share=0.9, caller_pool=1500, p_redial=0.4,
    p_callback=0.95, patience_mean_s=150.0, campaign_share=0.0, notification_days=0.0,
    p_conference=0.03, p_conference_out=0.01, p_fax_out=0.01, p_forbidden_in=0.004,
    p_unknown_end=0.01, p_forbidden_out=0.01, p_park=0.05, p_fast_transfer=0.05,
    p_pickup=0.1,
))

register(Scenario(
    name="multi-tenant",
    title="A provider's multi-tenant PBX (Kalliope4SP): three companies (a contact center, a "
          "small office, a night service) with their own extensions, queues and lines; SIP "
          "accounts carry each tenant's 6-character prefix and every export a tenant column",
    layout=layouts.contact_center, calls_per_day=1500,
    tenants=(("acme.example", "Acme S.p.A.", "contact-center", 0.6),
             ("beta.example", "Beta S.r.l.", "small-office", 0.15),
             ("gamma.example", "Gamma Soccorso", "night-weekend", 0.25)),
))


def get_scenario(name: str | Scenario | None) -> Scenario:
    if isinstance(name, Scenario):
        return name
    sc = SCENARIOS.get(name or DEFAULT)
    if sc is None:
        raise PbxlensError(f"unknown scenario {name!r}; known: {', '.join(SCENARIOS)}")
    return sc


# ------------------------------------------------------------------------- documentation
_DOC_SKIP = ("name", "title", "layout", "tenants")
_NAMED = {IN_PROFILE: "IN_PROFILE", OUT_PROFILE: "OUT_PROFILE", INT_PROFILE: "INT_PROFILE",
          NIGHT_IN_PROFILE: "NIGHT_IN_PROFILE", OFFICE_WEEK: "OFFICE_WEEK",
          SERVICE_WEEK: "SERVICE_WEEK"}


def _fmt(v) -> str:
    if isinstance(v, tuple) and v in _NAMED:
        return f"`{_NAMED[v]}`"
    if isinstance(v, tuple) and v and isinstance(v[0], tuple):
        return ", ".join(f"{a or '(none)'} {b:g}" for a, b in v)
    if isinstance(v, tuple):
        return "(" + ", ".join(f"{x:g}" for x in v) + ")"
    if isinstance(v, float):
        return f"{v:g}"
    return str(v)


def parameter_table() -> str:
    """The Markdown tables of every scenario's parameters (docs/simulator.md): one column per
    single-PBX scenario, then the tenants of the multi-tenant ones, then the named profiles."""
    names = [n for n, sc in SCENARIOS.items() if not sc.tenants]
    rows = ["| parameter | " + " | ".join(f"`{n}`" for n in names) + " |",
            "|---|" + "---|" * len(names)]
    for f in fields(Scenario):
        if f.name not in _DOC_SKIP:
            vals = [_fmt(getattr(SCENARIOS[n], f.name)) for n in names]
            rows.append(f"| `{f.name}` | " + " | ".join(vals) + " |")
    rows += ["", "| provider scenario | tenant domain | name | scenario | share of calls_per_day |",
             "|---|---|---|---|---|"]
    for n, sc in SCENARIOS.items():
        for domain, name, sub, share in sc.tenants:
            rows.append(f"| `{n}` ({sc.calls_per_day} calls/day) | `{domain}` | {name} | "
                        f"`{sub}` | {share:g} |")
    rows += ["", "| profile | values (local hours 0-23, or Monday-Sunday) |", "|---|---|"]
    for v, name in _NAMED.items():
        rows.append(f"| `{name}` | " + " ".join(f"{x:.3g}" for x in v) + " |")
    return "\n".join(rows)
