"""The report catalog: one declarative definition per report.

A definition names its source (a *family engine* plus the grouping it asks of it), its filters,
and its output tables as column groups. A column group sums a set of *blocks* (the family's
partition of the facts, e.g. one block per exit cause) and shows *metrics* over those sums:

- ``sum``   Σ field                                   (quantities, times)
- ``avg``   floor(Σ field / Σ count)  blank when Σ count = 0        (spec §0.4)
- ``pct``   100 · Σ num / Σ den       blank when Σ den = 0
- ``share`` 100 · Σ field / the same Σ over the whole table (its totals row shows 100)

Because every cell is a function of additive sums, a totals row or a header strip is the same
function applied to summed sums: weighted averages come for free (spec §0.5 rule 9, C1).

Pages, the CLI and the exports read only these definitions and the `Result` that `run()`
returns; nothing is hand-written per report.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

# ----------------------------------------------------------------------------- definitions


@dataclass(frozen=True)
class Metric:
    """One sub-column of a group."""

    key: str
    en: str
    it: str
    unit: str  # count | duration | duration_h | percent | money | decimal | instant
    kind: str = "sum"  # sum | avg | pct | pct_int | ratio (num / den, 2 decimals) | share
    field: str = "n"  # summed field (sum), numerator (avg, pct)
    den: tuple[str, ...] = ("n",)  # avg / pct: denominator fields (summed together)
    blocks: Callable[[str], bool] | None = None  # restrict to some of the group's blocks
    thousands: bool = True  # Italian thousands dot in display (§0.4)
    doc: str = ""


@dataclass(frozen=True)
class Group:
    """A column group (a metric family): the top header cell of a two-level header."""

    key: str
    en: str
    it: str
    metrics: tuple[Metric, ...]
    blocks: Callable[[str], bool] = lambda b: True  # which blocks it sums
    optional: bool = False  # shown only when its blocks hold at least one fact (§0.5 rule 7)


@dataclass(frozen=True)
class BlockGroups:
    """A template that expands into one dynamic Group per block code present in a table, in
    `order` (codes not listed go after them alphabetically, `?` last)."""

    order: tuple[str, ...]
    metrics_for: Callable[[str], tuple[Metric, ...]]
    labels: dict[str, tuple[str, str]] = field(default_factory=dict)  # code -> (en, it)
    include: Callable[[str], bool] = lambda b: True
    doc: str = ""  # docs: what one group stands for, when the codes are not exit causes


@dataclass(frozen=True)
class SummaryField:
    key: str
    en: str
    it: str
    metric: Metric  # evaluated over all blocks of the table (divides by the table quantity)


@dataclass(frozen=True)
class FilterDef:
    key: str
    en: str
    it: str
    multi: bool = True
    doc: str = ""
    numeric: bool = False  # one whole number (e.g. chart slot minutes), not a yes/no flag


@dataclass(frozen=True)
class ReportDef:
    id: str
    en: str  # English title
    it: str  # Italian page title
    source: str  # grain, for docs: "CDR call", "CDR queue visit", "operator leg"
    family: str  # engine module key: dashboard | queue | operator
    grouping: str  # family-specific grouping key
    grouping_doc: str
    filters: tuple[str, ...]
    layout: tuple[Group | BlockGroups, ...]
    summary: tuple[SummaryField, ...] = ()
    charts_doc: str = ""
    definitions: tuple[tuple[str, str], ...] = ()  # (term, definition) for docs and pages
    totals_label: tuple[str, str] = ("Totals", "Totali")
    table_title: tuple[str, str] = ("Calls handled", "Numero chiamate gestite")
    options: dict[str, Any] = field(default_factory=dict)

    def title(self, lang: str = "en") -> str:
        return self.it if lang == "it" else self.en


# ----------------------------------------------------------------------------- results


@dataclass
class ColumnOut:
    key: str
    label: str
    group: str
    unit: str
    group_key: str = ""
    kind: str = "sum"
    thousands: bool = True

    def public(self) -> dict:
        return {"key": self.key, "label": self.label, "group": self.group, "unit": self.unit}


@dataclass
class TableOut:
    key: str
    title: str
    columns: list[ColumnOut]
    rows: list[dict]  # {"label", "level", "key", <column key>: raw value}
    totals: dict
    summary: dict
    summary_fields: list[dict] = field(default_factory=list)
    charts: list[dict] = field(default_factory=list)
    row_header: str = ""


@dataclass
class Result:
    report: str
    title: str
    lang: str
    filters: dict
    tables: list[TableOut]
    charts: list[dict] = field(default_factory=list)
    definitions: list[dict] = field(default_factory=list)


# ----------------------------------------------------------------------------- registry

FILTERS: dict[str, FilterDef] = {}
REPORTS: dict[str, ReportDef] = {}


def register_filter(f: FilterDef) -> FilterDef:
    FILTERS[f.key] = f
    return f


def register(defn: ReportDef) -> ReportDef:
    if defn.id in REPORTS:
        raise ValueError(f"report {defn.id} registered twice")
    unknown = [k for k in defn.filters if k not in FILTERS]
    if unknown:
        raise ValueError(f"{defn.id}: unknown filters {unknown}")
    REPORTS[defn.id] = defn
    return defn


def _load() -> None:
    # the family modules register their definitions on import
    import importlib

    # catalog order: R1, R2/R4/R5, R3/R14/R15, then issue 5: R6-R8, R9/R10, R11-R13,
    # R16/R17/R21/R22, R18/R19/R26/R27, R20/R25, R23/R24; the Call Center: R28-R34, agent
    # activity and feedback (issue 6)
    for mod in ("dashboard", "queue", "operator", "billing_code", "coincidence", "group",
                "organization", "wait", "number", "checktime", "callcenter", "activity",
                "feedback", "missed", "billing"):  # ... missed calls (A.7-8), billing
        importlib.import_module(f"pbxlens.reports.{mod}")


def get(report_id: str) -> ReportDef:
    _load()
    try:
        return REPORTS[report_id]
    except KeyError:
        raise KeyError(report_id) from None


def all_reports() -> list[ReportDef]:
    _load()
    return list(REPORTS.values())


# ----------------------------------------------------------------------------- helpers


def in_set(codes: Sequence[str]) -> Callable[[str], bool]:
    s = frozenset(codes)
    return lambda b: b in s


def order_codes(present: Sequence[str], order: Sequence[str]) -> list[str]:
    """Spec §0.5 rule 7: the listed order, then unknown codes alphabetically, `?` last."""
    pos = {c: i for i, c in enumerate(order)}
    known = sorted((c for c in present if c in pos), key=pos.__getitem__)
    rest = sorted(c for c in present if c not in pos and c != "?")
    return known + rest + (["?"] if "?" in present and "?" not in pos else [])
