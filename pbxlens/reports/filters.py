"""Report parameters (spec §0.3): the date range, the filters every report may declare with the
choices the web page offers for them, and the SQL pieces that bind their values."""

from __future__ import annotations

import calendar
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from pbxlens import PbxlensError
from pbxlens.config import get_settings
from pbxlens.models import vocabulary
from pbxlens.reports.catalog import FilterDef

if TYPE_CHECKING:
    from pbxlens.reports.catalog import Report

# ----------------------------------------------------------------------------- choices


@dataclass(frozen=True)
class DirectoryOptions:
    """A filter's choices from the tenant's directory: `sql` selects (value, label) pairs with
    one `?`, the tenant."""

    sql: str

    def __call__(self, con, tenant: str | None, lang: str) -> list[dict]:
        return [{"value": v, "label": label}
                for v, label in con.execute(self.sql, [tenant]).fetchall()]


@dataclass(frozen=True)
class FixedOptions:
    """Choices that do not depend on the store: (value, English label, Italian label)."""

    choices: tuple[tuple[str, str, str], ...]

    def __call__(self, con, tenant: str | None, lang: str) -> list[dict]:
        return [{"value": v, "label": it if lang == "it" else en} for v, en, it in self.choices]


YES_NO = FixedOptions((("no", "No", "No"), ("yes", "Yes", "Sì")))


def status_options(con, tenant: str | None, lang: str) -> list[dict]:
    return [{"value": s.code, "label": s.it if lang == "it" else s.en}
            for s in vocabulary.STATUSES]


def exit_cause_options(con, tenant: str | None, lang: str) -> list[dict]:
    return [{"value": s.code, "label": f"{s.code} – {s.it if lang == 'it' else s.en}"}
            for s in vocabulary.EXIT_CAUSES]


# ----------------------------------------------------------------------------- shared filters

STATUS = FilterDef(
    "status", "Status", "Stato", options=status_options,
    doc="CDR call status (OK, CANCELED, NOANSWER, BUSY, FAILED, UNAVAILABLE, FORBIDDEN, ??); "
        "Italian labels and aliases accepted (C25).")
EXIT_CAUSE = FilterDef(
    "exit_cause", "Exit cause", "Exit Cause", options=exit_cause_options,
    doc="The grain's own exit cause (queue visit or operator leg): a PBX code (NCC, ATXFER, "
        "JOINEMPTY ...) or a report block (TRASFERIMENTO, QUEUE_JOINEMPTY, TIMEOUT, ANSWERED "
        "ELSEWHERE ...).")
QUEUE = FilterDef(
    "queue", "Queue", "Coda", doc="Queue id or name.",
    options=DirectoryOptions("SELECT id, coalesce(name, id) || ' (' || id || ')' FROM queues"
                             " WHERE tenant = ? ORDER BY 2"))
OPERATOR = FilterDef(
    "operator", "Operator", "Operatore", doc="Operator extension.",
    options=DirectoryOptions("SELECT extension, extension || coalesce(' (' || name || ')', '')"
                             " FROM operators WHERE tenant = ? ORDER BY extension"))
ACCOUNT = FilterDef(
    "account", "Operator account", "Account Operatore", doc="SIP account id.",
    options=DirectoryOptions("SELECT account, account || ' · ' || extension FROM accounts"
                             " WHERE tenant = ? ORDER BY account"))
SOURCE = FilterDef("source", "Source", "Sorgente",
                   doc="Caller number contains the text (`*` is a wildcard).")
DESTINATION = FilterDef("destination", "Destination", "Destinazione",
                        doc="Called number contains the text (`*` is a wildcard).")
BILLING_CODE = FilterDef(
    "billing_code", "Billing code", "Codice Fatturazione", doc="CDR account_code.",
    options=DirectoryOptions("SELECT code, code || coalesce(' – ' || description, '')"
                             " FROM billing_codes WHERE tenant = ? ORDER BY code"))
GATEWAY = FilterDef(
    "gateway", "Gateway name", "Nome gateway", doc="CDR gateway_name.",
    options=DirectoryOptions("SELECT name, name FROM gateways WHERE tenant = ? ORDER BY name"))
EMPTY_QUEUE = FilterDef(
    "empty_queue", "Show calls in empty queue", "Mostra chiamate in coda vuota", multi=False,
    options=YES_NO,
    doc="yes/no (sì/no), default no: include queue visits with no queue id and name, as a "
        "blank-named row (C23). Unrelated to QUEUE_JOINEMPTY.")

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
        d_from = self.date_from or (minus_months(d_to, months) + timedelta(days=1))
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


def minus_months(d: date, months: int) -> date:
    """The same day `months` months earlier (the last day of a shorter month).

    Example:
        >>> minus_months(date(2026, 3, 31), 1)
        datetime.date(2026, 2, 28)
    """
    y, m = divmod(d.year * 12 + d.month - 1 - months, 12)
    m += 1
    return date(y, m, min(d.day, calendar.monthrange(y, m)[1]))


def _filter_of(report: Report, key: str) -> FilterDef:
    try:
        return report.filter(key)
    except KeyError:
        raise PbxlensError(f"unknown filter {key!r} for {report.id}; "
                           f"known: {', '.join(report.filter_keys)}") from None


def parse_filters(items: list[str], report: Report) -> dict[str, list]:
    """`key=v1,v2` items (repeatable) -> {key: [values]}; unknown keys raise PbxlensError."""
    out: dict[str, list[str]] = {}
    for item in items:
        if "=" not in item:
            raise PbxlensError(f"--filter {item!r}: expected key=value")
        k, v = item.split("=", 1)
        f = _filter_of(report, k.strip().lower().replace("-", "_"))
        vals = [x.strip() for x in v.split(",")] if f.multi else [v.strip()]
        _check_single(f, vals[0])
        out.setdefault(f.key, []).extend(x for x in vals if x)
    return out


def _check_single(f: FilterDef, v: str) -> None:
    if f.multi:
        return
    if f.numeric:
        if not (v.strip().isdigit() and 1 <= int(v) <= 1440):
            raise PbxlensError(f"--filter {f.key}: expected a whole number from 1 to 1440, "
                               f"got {v!r}")
    elif v.strip().lower() not in _YES | _NO:
        raise PbxlensError(f"--filter {f.key}: expected yes or no, got {v!r}")


def validate(params: Params, report: Report) -> None:
    """Every filter of `params` is one of the report's, with a well-formed value."""
    for k, vals in params.filters.items():
        f = _filter_of(report, k)
        if vals:
            _check_single(f, vals[-1])


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
