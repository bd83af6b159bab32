"""The report catalog: what a report is, and the one registry of them.

A `Report` names its source, its filters, its output tables as column groups, and the function
(or query object) that builds it: `report.build(con, report, params, d_from, d_to)` runs the
report's SQL and hands back the rows of its tables with their additive sums (`engine.RawTable`).
A column group sums a set of *blocks* (the build's partition of the facts, e.g. one block per
exit cause) and shows *metrics* over those sums:

- ``sum``   Σ field                                   (quantities, times)
- ``avg``   floor(Σ field / Σ count)  blank when Σ count = 0        (spec §0.4)
- ``pct``   100 · Σ num / Σ den       blank when Σ den = 0
- ``share`` 100 · Σ field / the same Σ over the whole table (its totals row shows 100)

Because every cell is a function of additive sums, a totals row or a header strip is the same
function applied to summed sums: weighted averages come for free (spec §0.5 rule 9, C1).

Reports enter the catalog through `register_report()`, the built-in ones too (importing
`pbxlens.reports` imports their modules, which register them), so a plugin adds a report the
same way. Pages, the CLI, the API, the docs and the exports read only the registered reports
and the `Result` that `engine.run()` returns; nothing is hand-written per report.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pbxlens.reports.engine import RawTable
    from pbxlens.reports.filters import Params

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


def _every_block(_block: str) -> bool:
    return True


@dataclass(frozen=True)
class Group:
    """A column group (a metric family): the top header cell of a two-level header."""

    key: str
    en: str
    it: str
    metrics: tuple[Metric, ...]
    blocks: Callable[[str], bool] = _every_block  # which blocks it sums
    optional: bool = False  # shown only when its blocks hold at least one fact (§0.5 rule 7)


@dataclass(frozen=True)
class BlockGroups:
    """A template that expands into one dynamic Group per block code present in a table, in
    `order` (codes not listed go after them alphabetically, `?` last)."""

    order: tuple[str, ...]
    metrics_for: Callable[[str], tuple[Metric, ...]]
    labels: dict[str, tuple[str, str]] = field(default_factory=dict)  # code -> (en, it)
    include: Callable[[str], bool] = _every_block
    doc: str = ""  # docs: what one group stands for, when the codes are not exit causes


@dataclass(frozen=True)
class SummaryField:
    key: str
    en: str
    it: str
    metric: Metric  # evaluated over all blocks of the table (divides by the table quantity)


# (store connection, tenant or None, language) -> [{"value", "label"}]: a filter's choices
Options = Callable[[Any, "str | None", str], list[dict]]


@dataclass(frozen=True)
class FilterDef:
    """A filter a report accepts: its key (`--filter key=...`, the page control), en/it labels,
    how its values are read, and where the web page's choices come from (`options`; None = a
    free-text box)."""

    key: str
    en: str
    it: str
    multi: bool = True
    doc: str = ""
    numeric: bool = False  # one whole number (e.g. chart slot minutes), not a yes/no flag
    options: Options | None = None

    def label(self, lang: str = "en") -> str:
        return self.it if lang == "it" else self.en


# What a build hands back: the report's tables (rows and their sums) and its charts.
Built = tuple[list["RawTable"], list[dict]]
# (store connection, the report, its parameters, first day, last day) -> Built
Build = Callable[[Any, "Report", "Params", date, date], Built]


@dataclass(frozen=True)
class Report:
    """One report: a declarative definition that holds its own build."""

    id: str
    en: str  # English title
    it: str  # Italian page title
    source: str  # grain, for docs: "CDR call", "CDR queue visit", "operator leg"
    build: Build  # runs the SQL: follow it from the definition to the query
    tables_doc: str  # docs: the tables and rows the build returns
    filters: tuple[FilterDef, ...]
    layout: tuple[Group | BlockGroups, ...]
    summary: tuple[SummaryField, ...] = ()
    charts_doc: str = ""
    definitions: tuple[tuple[str, str], ...] = ()  # (term, definition) for docs and pages
    totals_label: tuple[str, str] = ("Totals", "Totali")
    table_title: tuple[str, str] = ("Calls handled", "Numero chiamate gestite")
    row_pie: tuple[str, str] | None = None  # page: a mini pie of these two columns per row
    engines: tuple[str, ...] = ("duckdb", "spark")  # where its SQL runs (decisions.md)
    # (store connection, the report, its parameters) -> more (term, definition) pairs that
    # depend on the store, e.g. each queue's own service-level definition
    explain: Callable[[Any, Report, Params], list[tuple[str, str]]] | None = None
    # the facts behind its count cells (pbxlens.reports.drilldown.Facts); None = no drill-down
    facts: Any = None

    def title(self, lang: str = "en") -> str:
        return self.it if lang == "it" else self.en

    def text(self, pair: tuple[str, str], lang: str) -> str:
        """The en/it `pair` of this definition (table_title, totals_label) in `lang`."""
        return pair[1] if lang == "it" else pair[0]

    @property
    def filter_keys(self) -> tuple[str, ...]:
        return tuple(f.key for f in self.filters)

    def filter(self, key: str) -> FilterDef:
        for f in self.filters:
            if f.key == key:
                return f
        raise KeyError(key)


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
    rule: str = ""  # how the column's cells are made, in words (pbxlens.reports.explain)
    field: str = "n"  # the summed field of a `sum` column (drill-down: its count cells)

    def public(self) -> dict:
        return {"key": self.key, "label": self.label, "group": self.group, "unit": self.unit,
                "rule": self.rule}


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

_REPORTS: dict[str, Report] = {}


def register_report(report: Report) -> Report:
    """Add `report` to the catalog (ids are unique; the catalog keeps registration order)."""
    if report.id in _REPORTS:
        raise ValueError(f"report {report.id} registered twice")
    keys = report.filter_keys
    if len(set(keys)) != len(keys):
        raise ValueError(f"{report.id}: a filter key is listed twice in {keys}")
    _REPORTS[report.id] = report
    return report


def get(report_id: str) -> Report:
    try:
        return _REPORTS[report_id]
    except KeyError:
        raise KeyError(report_id) from None


def all_reports() -> list[Report]:
    return list(_REPORTS.values())


def all_filters() -> list[FilterDef]:
    """Every filter of the catalog once, in the order reports first use it."""
    seen: dict[int, FilterDef] = {}
    for r in _REPORTS.values():
        for f in r.filters:
            seen.setdefault(id(f), f)
    return list(seen.values())


# ----------------------------------------------------------------------------- helpers


def in_set(codes: Sequence[str]) -> Callable[[str], bool]:
    s = frozenset(codes)
    return lambda b: b in s


def order_codes(present: Sequence[str], order: Sequence[str]) -> list[str]:
    """Spec §0.5 rule 7: the listed order, then unknown codes alphabetically, `?` last.

    Example:
        >>> order_codes(["ZZZ", "?", "NCC", "BUSY"], ("NCC", "BUSY"))
        ['NCC', 'BUSY', 'ZZZ', '?']
    """
    pos = {c: i for i, c in enumerate(order)}
    known = sorted((c for c in present if c in pos), key=pos.__getitem__)
    rest = sorted(c for c in present if c not in pos and c != "?")
    return known + rest + (["?"] if "?" in present and "?" not in pos else [])
