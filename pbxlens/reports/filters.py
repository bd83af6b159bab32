"""Report parameters: the date range and the filters every report may declare (spec §0.3)."""

from __future__ import annotations

import calendar
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from pbxlens import PbxlensError
from pbxlens.config import get_settings
from pbxlens.models import vocabulary
from pbxlens.reports.catalog import FILTERS, FilterDef, register_filter

for _f in (
    FilterDef("status", "Status", "Stato",
              doc="CDR call status (OK, CANCELED, NOANSWER, BUSY, FAILED, UNAVAILABLE, FORBIDDEN,"
                  " ??); Italian labels and aliases accepted (C25)."),
    FilterDef("exit_cause", "Exit cause", "Exit Cause",
              doc="The grain's own exit cause (queue visit or operator leg): a PBX code (NCC, "
                  "ATXFER, JOINEMPTY ...) or a report block (TRASFERIMENTO, QUEUE_JOINEMPTY, "
                  "TIMEOUT, ANSWERED ELSEWHERE ...)."),
    FilterDef("queue", "Queue", "Coda", doc="Queue id or name."),
    FilterDef("operator", "Operator", "Operatore", doc="Operator extension."),
    FilterDef("account", "Operator account", "Account Operatore", doc="SIP account id."),
    FilterDef("source", "Source", "Sorgente",
              doc="Caller number contains the text (`*` is a wildcard)."),
    FilterDef("destination", "Destination", "Destinazione",
              doc="Called number contains the text (`*` is a wildcard)."),
    FilterDef("billing_code", "Billing code", "Codice Fatturazione", doc="CDR account_code."),
    FilterDef("gateway", "Gateway name", "Nome gateway", doc="CDR gateway_name."),
    FilterDef("empty_queue", "Show calls in empty queue", "Mostra chiamate in coda vuota",
              multi=False,
              doc="yes/no (sì/no), default no: include queue visits with no queue id and name, "
                  "as a blank-named row (C23). Unrelated to QUEUE_JOINEMPTY."),
):
    register_filter(_f)

_YES = {"yes", "y", "true", "1", "si", "sì", "on"}
_NO = {"no", "n", "false", "0", "off"}


@dataclass
class Params:
    """What a report is asked for. Dates are PBX-local calendar days, both inclusive."""

    date_from: date | None = None
    date_to: date | None = None
    filters: dict[str, list[str]] = field(default_factory=dict)
    lang: str = "en"
    today: date | None = None  # for tests: the default range ends here
    tenant: str | None = None  # None: every tenant (CLI on the store); the web app sets it

    def resolved(self) -> tuple[date, date]:
        """The range; default = the last `default_range_months` month(s) ending today (§0.3)."""
        today = self.today or datetime.now(ZoneInfo(get_settings().timezone)).date()
        months = max(1, get_settings().default_range_months)
        d_to = self.date_to or (today if self.date_from is None else
                                max(today, self.date_from))
        d_from = self.date_from or (_minus_months(d_to, months) + timedelta(days=1))
        if d_from > d_to:
            raise PbxlensError(f"the range is empty: {d_from} is after {d_to}")
        return d_from, d_to

    def flag(self, key: str) -> bool:
        vals = self.filters.get(key) or []
        return bool(vals) and vals[-1].strip().lower() in _YES

    def number(self, key: str, default: int) -> int:
        """A numeric single-value filter (validated by `validate`), else `default`."""
        vals = self.filters.get(key) or []
        return int(vals[-1]) if vals and str(vals[-1]).strip() else default

    def values(self, key: str) -> list[str]:
        return [v for v in self.filters.get(key, []) if v != ""]


def _minus_months(d: date, months: int) -> date:
    y, m = divmod(d.year * 12 + d.month - 1 - months, 12)
    m += 1
    return date(y, m, min(d.day, calendar.monthrange(y, m)[1]))


def parse_filters(items: list[str], allowed: tuple[str, ...], report_id: str) -> dict[str, list]:
    """`key=v1,v2` items (repeatable) -> {key: [values]}; unknown keys raise PbxlensError."""
    out: dict[str, list[str]] = {}
    for item in items:
        if "=" not in item:
            raise PbxlensError(f"--filter {item!r}: expected key=value")
        k, v = item.split("=", 1)
        k = k.strip().lower().replace("-", "_")
        if k not in allowed:
            raise PbxlensError(f"unknown filter {k!r} for {report_id}; "
                               f"known: {', '.join(allowed)}")
        vals = [x.strip() for x in v.split(",")] if FILTERS[k].multi else [v.strip()]
        _check_single(k, vals[0])
        out.setdefault(k, []).extend(x for x in vals if x)
    return out


def _check_single(k: str, v: str) -> None:
    f = FILTERS[k]
    if f.multi:
        return
    if f.numeric:
        if not (v.strip().isdigit() and 1 <= int(v) <= 1440):
            raise PbxlensError(f"--filter {k}: expected a whole number from 1 to 1440, "
                               f"got {v!r}")
    elif v.strip().lower() not in _YES | _NO:
        raise PbxlensError(f"--filter {k}: expected yes or no, got {v!r}")


def validate(params: Params, allowed: tuple[str, ...], report_id: str) -> None:
    for k, vals in params.filters.items():
        if k not in allowed:
            raise PbxlensError(f"unknown filter {k!r} for {report_id}; "
                               f"known: {', '.join(allowed)}")
        if vals:
            _check_single(k, vals[-1])


def bounds(d_from: date, d_to: date) -> tuple[str, str]:
    """[from 00:00, to+1 00:00) in the PBX timezone as ISO strings with offsets (C29)."""
    tz = ZoneInfo(get_settings().timezone)
    lo = datetime.combine(d_from, time(0), tz)
    hi = datetime.combine(d_to + timedelta(days=1), time(0), tz)
    return lo.isoformat(sep=" "), hi.isoformat(sep=" ")


# ----------------------------------------------------------------------------- SQL pieces


class Where:
    """Accumulates parameterized predicates (values are always bound, never interpolated)."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.args: list = []

    def add(self, sql: str, *args) -> None:
        self.parts.append(sql)
        self.args.extend(args)

    def any_of(self, exprs: list[str], values: list[str]) -> None:
        if not values:
            return
        ph = ", ".join("?" for _ in values)
        self.add("(" + " OR ".join(f"{e} IN ({ph})" for e in exprs) + ")",
                 *[v for _e in exprs for v in values])

    def contains(self, expr: str, values: list[str]) -> None:
        if not values:
            return
        pats = []
        for v in values:
            v = v.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_").replace("*", "%")
            pats.append(v if "%" in v and v.startswith("%") else f"%{v}%")
        self.add("(" + " OR ".join(f"{expr} LIKE ? ESCAPE '\\'" for _ in pats) + ")", *pats)

    def sql(self, lead: str = "AND") -> str:
        return "".join(f" {lead} {p}" for p in self.parts)


def status_codes(values: list[str]) -> list[str]:
    return [vocabulary.normalize("status", v) or v for v in values]


def cause_codes(values: list[str]) -> list[str]:
    """Both the normalized PBX code and the report block spelling of each value."""
    out: list[str] = []
    for v in values:
        out.append(vocabulary.normalize("exit_cause", v) or v)
        out.append(v.strip().upper().replace("_", " ") if v.strip().upper() in (
            "ANSWERED_ELSEWHERE", "CANCELED_NOWAIT") else v.strip().upper())
    return list(dict.fromkeys(out))


def call_filters(w: Where, p: Params, alias: str = "c") -> None:
    """Filters on the call header: tenant, status, source, destination, billing code, gateway."""
    if p.tenant is not None:
        w.add(f"{alias}.tenant = ?", p.tenant)
    st = status_codes(p.values("status"))
    if st:
        w.any_of([f"{alias}.status"], st)
    w.contains(f"{alias}.caller", p.values("source"))
    w.contains(f"{alias}.called", p.values("destination"))
    w.any_of([f"{alias}.account_code"], p.values("billing_code"))
    w.any_of([f"{alias}.gateway_name"], p.values("gateway"))
