"""Runs a report: its build aggregates in SQL, this module turns the aggregated sums into
tables (columns, rows, totals, header strip) from the definition alone."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

import duckdb

from pbxlens.reports import explain
from pbxlens.reports import filters as flt
from pbxlens.reports.catalog import (
    BlockGroups,
    ColumnOut,
    Group,
    Metric,
    Report,
    Result,
    TableOut,
    get,
    order_codes,
)
from pbxlens.reports.guard import Guard, checkpoint

Facts = dict[str, dict[str, float]]  # block -> field -> sum


@dataclass
class RowSpec:
    key: str
    label: str
    level: int = 0
    children: list[str] = field(default_factory=list)  # keys of rows whose sums it adds up
    extra: dict = field(default_factory=dict)


@dataclass
class RawTable:
    """What a build hands back per table: rows in display order and their additive sums."""

    key: str
    title: str
    rows: list[RowSpec]
    facts: dict[str, Facts]  # row key -> block -> field -> sum (leaf rows only)
    charts: list[dict] = field(default_factory=list)
    row_header: str = ""
    # The facts key whose sums make the totals row and header strip, when they are not the
    # sum of the level-0 rows (coincidences: the PBX-wide sweep; peaks do not add up).
    totals_key: str | None = None


def add_facts(into: Facts, other: Facts) -> None:
    for b, fs in other.items():
        tgt = into.setdefault(b, {})
        for f, v in fs.items():
            if f.startswith(("min_", "max_")) and f in tgt:  # extremes roll up as extremes
                tgt[f] = (min if f[:4] == "min_" else max)(tgt[f], v)
            else:
                tgt[f] = tgt.get(f, 0) + (v or 0)


def pct(num: float, den: float) -> float | None:
    if not den:
        return None
    v = Decimal(num) * 100 / Decimal(den)
    return float(v.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


def pct_int(num: float, den: float) -> int | None:
    """A whole percent, rounded half-up (billing's free-limit "(0%)", BL-11)."""
    if not den:
        return None
    return int((Decimal(num) * 100 / Decimal(den)).quantize(Decimal("1"), rounding=ROUND_HALF_UP))


def ratio(num: float, den: float) -> float | None:
    """num / den rounded half-up to 2 decimals (Erlangs); blank when den = 0."""
    if not den:
        return None
    v = Decimal(num) / Decimal(den)
    return float(v.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


def evaluate(facts: Facts, metric: Metric, group_blocks=lambda b: True):
    blocks = [b for b in facts if group_blocks(b) and (metric.blocks is None or metric.blocks(b))]

    def s(f: str) -> float:
        return sum(facts[b].get(f, 0) or 0 for b in blocks)

    if metric.kind == "sum":
        return _sum_value(s(metric.field), metric.unit)
    den = sum(s(f) for f in metric.den)
    if metric.kind == "avg":
        return int(s(metric.field) // den) if den else None  # floored (§0.4)
    if metric.kind == "pct":
        return pct(s(metric.field), den)
    if metric.kind == "pct_int":
        return pct_int(s(metric.field), den)
    if metric.kind == "ratio":
        return ratio(s(metric.field), den)
    if metric.kind == "share":  # evaluated on the totals themselves
        return pct(s(metric.field), s(metric.field))
    raise ValueError(metric.kind)


def _sum_value(v, unit: str):
    """A summed cell: money stays the exact Decimal (never a float, design.md), the rest int."""
    if unit == "money":
        return v if isinstance(v, Decimal) else Decimal(v or 0)
    return int(v)


def expand_layout(defn: Report, present: set[str]) -> list[Group]:
    groups: list[Group] = []
    for item in defn.layout:
        if isinstance(item, Group):
            if item.optional and not any(item.blocks(b) for b in present):
                continue
            groups.append(item)
            continue
        assert isinstance(item, BlockGroups)
        for code in order_codes([b for b in present if item.include(b)], item.order):
            en, it = item.labels.get(code, (code, code))
            groups.append(Group(key=code.lower().replace(" ", "_").replace("?", "unknown"),
                                en=en, it=it, metrics=item.metrics_for(code),
                                blocks=lambda b, c=code: b == c))
    return groups


def build_table(defn: Report, raw: RawTable, lang: str) -> TableOut:
    it = lang == "it"
    row_facts: dict[str, Facts] = {}
    for spec in raw.rows:  # leaves first, then parents (children precede in row_facts lookups)
        if not spec.children:
            row_facts[spec.key] = raw.facts.get(spec.key, {})
    for spec in raw.rows:
        if spec.children:
            acc: Facts = {}
            for ch in spec.children:
                add_facts(acc, row_facts.get(ch, {}))
            row_facts[spec.key] = acc
    totals: Facts = {}
    if raw.totals_key is not None:
        add_facts(totals, raw.facts.get(raw.totals_key, {}))
    else:
        for spec in raw.rows:
            if spec.level == 0:
                add_facts(totals, row_facts[spec.key])
    present = {b for b, fs in totals.items() if fs.get("n", 0)}
    groups = expand_layout(defn, present)
    all_blocks = list(dict.fromkeys(b for f in [*row_facts.values(), totals] for b in f))
    cols: list[tuple[ColumnOut, Group, Metric]] = []
    for g in groups:
        for m in g.metrics:
            key = f"{g.key}.{m.key}" if len(g.metrics) > 1 or m.key != g.key else g.key
            bs = [b for b in all_blocks if g.blocks(b) and (m.blocks is None or m.blocks(b))]
            cols.append((ColumnOut(key=key, label=m.it if it else m.en,
                                   group=g.it if it else g.en, unit=m.unit, group_key=g.key,
                                   kind=m.kind, thousands=m.thousands, field=m.field,
                                   rule=explain.rule(m, order_codes(bs, ()), len(bs) == len(all_blocks),
                                                     defn.source, lang)), g, m))

    values = _compiled(cols, all_blocks, totals)  # totals_key may add blocks

    rows = []
    for i, spec in enumerate(raw.rows):
        if i % 1024 == 0:
            checkpoint()
        r = {"label": spec.label, "level": spec.level, "key": spec.key}
        r.update(spec.extra)
        r.update(values(row_facts[spec.key]))
        rows.append(r)
    tot = {"label": defn.totals_label[1] if it else defn.totals_label[0], "level": "total"}
    tot.update(values(totals))
    summary = {sf.key: evaluate(totals, sf.metric) for sf in defn.summary}
    sfields = [{"key": sf.key, "label": sf.it if it else sf.en, "unit": sf.metric.unit}
               for sf in defn.summary]
    return TableOut(key=raw.key, title=raw.title, columns=[c for c, _g, _m in cols], rows=rows,
                    totals=tot, summary=summary, summary_fields=sfields, charts=raw.charts,
                    row_header=raw.row_header)


def _compiled(cols: list[tuple[ColumnOut, Group, Metric]], blocks: list[str],
              totals: Facts | None = None):
    """`evaluate` for every column at once: each column's block set is resolved once per table
    (not once per cell) and each (blocks, field) sum is computed once per row. A `share`
    column divides by the same sum over the table's totals."""
    plan = []
    for c, g, m in cols:
        bs = tuple(b for b in blocks if g.blocks(b) and (m.blocks is None or m.blocks(b)))
        dens = tuple((bs, f) for f in m.den)
        if m.kind == "share":
            dens = (sum((totals or {}).get(b, {}).get(m.field, 0) or 0 for b in bs),)
        plan.append((c.key, m.kind, (bs, m.field), dens, m.unit))

    def values(facts: Facts) -> dict:
        memo: dict = {}

        def s(key: tuple) -> float:
            v = memo.get(key)
            if v is None:
                bs, f = key
                v = memo[key] = sum((facts[b].get(f, 0) or 0) for b in bs if b in facts)
            return v

        out = {}
        for key, kind, num, dens, unit in plan:
            if kind == "sum":
                out[key] = _sum_value(s(num), unit)
                continue
            if kind == "share":
                out[key] = pct(s(num), dens[0])
                continue
            den = sum(s(d) for d in dens)
            if kind == "avg":
                out[key] = int(s(num) // den) if den else None
            elif kind == "pct":
                out[key] = pct(s(num), den)
            elif kind == "pct_int":
                out[key] = pct_int(s(num), den)
            elif kind == "ratio":
                out[key] = ratio(s(num), den)
            else:
                raise ValueError(kind)
        return out

    return values


def run(con: duckdb.DuckDBPyConnection, report: str | Report, params: flt.Params | None = None,
        guard: Guard | None = None) -> Result:
    """Run `report` (an id of the catalog, or a definition) on the store `con` (a connection
    whose TimeZone is the PBX's), under `guard` when given (range and time limits)."""
    params = params or flt.Params()
    defn = get(report) if isinstance(report, str) else report
    flt.validate(params, defn)
    d_from, d_to = params.resolved()
    lang = params.lang
    guard = guard or Guard()  # no limits
    guard.check_range(defn.id, d_from, d_to)
    with guard.limit(con, defn.id) as watched:
        raws, charts = defn.build(watched, defn, params, d_from, d_to)
        tables = []
        for r in raws:  # the Python side stops at the limit too, between tables
            watched.check()
            tables.append(build_table(defn, r, lang))
        more = defn.explain(watched, defn, params) if defn.explain else []
    shown = {"from": d_from.isoformat(), "to": d_to.isoformat()}
    shown.update({k: v for k, v in sorted(params.filters.items()) if v})
    return Result(report=defn.id, title=defn.title(lang), lang=lang, filters=shown,
                  tables=tables, charts=charts,
                  definitions=[{"term": t, "definition": d}
                               for t, d in (*defn.definitions, *more)])
