"""R9 and R10, coincidences: how many calls hold a line at the same time.

Exact concurrency at one-second resolution over half-open intervals [answer, end) (C10; with
the `from_start` filter, [start, end): ringing holds a channel too). A sweep over the derived
table `line_calls`, cut into PBX-local days (coincidence_days.py): +1 at each interval's start,
−1 at its end (ends before starts at the same second), bucket boundaries as 0-events, and a
running sum per line and day gives the level of every constant segment; a bucket's peak is the
max level of its segments and its time-weighted average is Σ level × length / bucket length.
The same sweep over all lines at once is the PBX-wide row (the table's totals). Reports over
whole lines (or one line) add up the stored day summaries; other subsets sweep their range.

Beyond Nexus: busy-hour carried traffic (Erlangs = channel-seconds in the busiest clock hour /
3600), the Erlang B channel recommendation at the `grade_of_service` setting (anchors §2.4),
and the seconds spent at ≥ k channels.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from pbxlens import PbxlensError
from pbxlens.config import get_settings
from pbxlens.reports import coincidence_days as days
from pbxlens.reports import common as cm
from pbxlens.reports import erlang
from pbxlens.reports import filters as flt
from pbxlens.reports.catalog import BlockGroups, Built, FilterDef, Group, Report, register_report
from pbxlens.reports.common import M
from pbxlens.reports.engine import RawTable, RowSpec

OUT_CONFIG = FilterDef(
    "out_config", "Gateway configuration", "Configurazione gateway",
    doc="Outbound gateway configuration (the last outbound-line detail line's id).",
    options=flt.DirectoryOptions("SELECT name, name FROM outbound_configurations"
                                 " WHERE tenant = ? ORDER BY name"))
FROM_START = FilterDef(
    "from_start", "Count from call start", "Conta dall'inizio chiamata", multi=False,
    options=flt.YES_NO,
    doc="yes/no, default no: intervals [start, end) instead of [answer, end) (C10).")


@dataclass(frozen=True)
class Lines:
    """What a coincidence report sweeps: the `line_calls` column that names a line, the
    directory table of the lines' channel limits, outgoing calls only or every direction, and
    the filter that picks lines. Calling it builds the report (`build`)."""

    key: str
    limits: str
    outgoing_only: bool
    filter: str

    def __call__(self, con, defn: Report, p: flt.Params, d_from: date, d_to: date) -> Built:
        return build(con, defn, p, d_from, d_to, self)


GATEWAYS = Lines(key="gateway", limits="gateways", outgoing_only=False, filter="gateway")
OUT_CONFIGS = Lines(key="out_config", limits="outbound_configurations", outgoing_only=True,
                    filter="out_config")

ALL = days.ALL  # facts key of the PBX-wide sweep (never a line name)
YELLOW, GREY, BLUE = "#f9a825", "#9e9e9e", "#546e7a"


def _bucket_s() -> int:
    m = get_settings().coincidence_bucket_min
    if m <= 0 or 60 % m:
        raise PbxlensError(f"coincidence_bucket_min must divide 60 (1, 2, 3, 4, 5, 6, 10, 12, "
                           f"15, 20, 30 or 60), got {m}")
    return m * 60


def _epoch(d: date) -> int:
    tz = ZoneInfo(get_settings().timezone)
    return int(datetime.combine(d, time(0), tz).timestamp())


def _limits(con, table: str, p: flt.Params) -> dict[tuple[str, str], int]:
    w = flt.Where()
    if p.tenant is not None:
        w.add("tenant = ?", p.tenant)
    rows = con.execute(f"SELECT tenant, name, coalesce(channel_limit, 0) FROM {table}"  # noqa: S608 -- names and SQL fragments from code; values bound
                       f" WHERE true{w.sql()}", w.args).fetchall()
    return {(t, n): int(lim) for t, n, lim in rows}


def sweep(con, key: str, p: flt.Params, lo: int, hi: int, bucket: int, d_to: date,
          outgoing_only: bool, values: list[str]) -> list[tuple]:
    """Rows (line, b, level, gid, peak, level_s, secs, n, peak_t) of the sweep; line is
    `tenant \\x1f name`, or ALL for the PBX-wide sweep; gid 1 = a bucket b, 2 = the seconds
    at a level. From the day summaries when they can answer (whole lines, or one line), else
    from a sweep of the range partitioned by line and day (coincidence_days.py)."""
    # the summaries' kinds are the two report keys (out_config: outgoing calls only)
    ask = days.Ask(kind=key, from_start=p.flag("from_start"), tenant=p.tenant,
                   values=tuple(values), d_from=_day_of(lo), d_to=d_to, lo=lo, hi=hi,
                   bucket=bucket)
    return days.rows(con, ask)


def _day_of(epoch_s: int) -> date:
    return datetime.fromtimestamp(epoch_s, ZoneInfo(get_settings().timezone)).date()


def build(con, defn: Report, p: flt.Params, d_from: date, d_to: date, lines: Lines) -> Built:
    # Over 80 lines on purpose: one pass turns the sweep's rows into each line's facts, its
    # >= k histogram and its chart; split, the steps would pass the same five maps around.
    key, table, outgoing_only = lines.key, lines.limits, lines.outgoing_only
    values = p.values(lines.filter)
    bucket = _bucket_s()
    gos = get_settings().grade_of_service
    lo, hi = _epoch(d_from), _epoch(d_to + timedelta(days=1))
    range_s = hi - lo
    nb = range_s // bucket
    rows = sweep(con, key, p, lo, hi, bucket, d_to, outgoing_only, values)

    limits = _limits(con, table, p)
    lines = {ln for ln, *_r in rows if ln != ALL}
    lines |= {f"{t}\x1f{n}" for (t, n) in limits if not values or n in values}
    tenants = {ln.split("\x1f", 1)[0] for ln in lines}

    def label(ln: str) -> str:
        t, n = ln.split("\x1f", 1)
        return n if len(tenants) <= 1 else f"{n} ({t})"

    per: dict[str, dict] = {}
    for ln, b, level, gid, peak, level_s, secs, n, peak_t in rows:
        d = per.get(ln)
        if d is None:
            d = per[ln] = {"peak": [0] * nb, "avg_s": [0] * nb, "peak_t": [0] * nb,
                           "hist": {}, "n": 0}
        if gid == 1:  # (line, b)
            if 0 <= b < nb:
                d["peak"][b], d["avg_s"][b] = int(peak or 0), int(level_s or 0)
                d["peak_t"][b] = int(peak_t or 0)
                d["n"] += int(n)
        else:  # (line, level)
            d["hist"][int(level)] = d["hist"].get(int(level), 0) + int(secs or 0)

    def lim(ln: str) -> int:
        if ln == ALL:
            ls = [limits.get(tuple(x.split("\x1f", 1)), 0) for x in lines]
            return sum(ls) if ls and all(ls) else 0
        return limits.get(tuple(ln.split("\x1f", 1)), 0)

    per_hour = 3600 // bucket
    facts: dict[str, dict] = {}
    charts = []
    it = p.lang == "it"
    order = sorted(lines, key=label)
    x: list[str] | None = None
    for ln in [*order, ALL]:
        d = per.get(ln)
        limit = lim(ln)
        f = {"n": 0, "limit": limit, "peak": 0, "peak_at": 0, "level_s": 0, "range_s": range_s,
             "cap_s": limit * range_s, "bh_at": 0, "bh_level_s": 0, "hour_s": 0, "erl_b": 0}
        blocks: dict[str, dict] = {"line": f}
        if d is not None:
            peaks = d["peak"]
            top = max(peaks) if peaks else 0
            hours = [sum(d["avg_s"][h * per_hour:(h + 1) * per_hour])
                     for h in range(nb // per_hour)]
            bh = max(range(len(hours)), key=lambda h: (hours[h], -h)) if hours else 0
            first = next((i for i, v in enumerate(peaks) if v == top), 0)
            f.update(n=d["n"], peak=top, peak_at=d["peak_t"][first] if top else 0,
                     level_s=sum(d["avg_s"]),
                     bh_at=lo + bh * 3600 if hours and hours[bh] else 0,
                     bh_level_s=hours[bh] if hours else 0, hour_s=3600,
                     erl_b=erlang.channels_for(hours[bh] / 3600, gos) if hours else 0)
            acc = 0
            for k in sorted(d["hist"], reverse=True):
                if k <= 0:
                    break
                acc += d["hist"][k]
                blocks[f"≥{k}"] = {"n": acc}
            # every k from 1 to the peak, even when a level was skipped
            for k in range(top, 0, -1):
                blocks.setdefault(f"≥{k}", {"n": blocks.get(f"≥{k + 1}", {"n": 0})["n"]})
            if x is None:  # bucket labels, once for every chart
                tz = ZoneInfo(get_settings().timezone)
                x = [datetime.fromtimestamp(lo + i * bucket, tz).strftime("%d/%m/%Y %H:%M")
                     for i in range(nb)]
            charts.append(_chart(ln, "Tutte le linee" if it and ln == ALL else
                                 "All lines" if ln == ALL else label(ln),
                                 d, limit, x, bucket, nb, f["level_s"], range_s, it))
        facts[ln if ln == ALL else label(ln)] = blocks
    raw = RawTable("lines", defn.table_title[1] if it else defn.table_title[0],
                   [RowSpec(label(ln), label(ln)) for ln in order], facts,
                   row_header="Linea" if it else "Line", totals_key=ALL)
    return [raw], charts


def _color(peak: int, limit: int) -> str:
    if not limit:
        return BLUE
    occ = peak / limit
    return cm.GREEN if occ < 0.75 else cm.ORANGE if occ < 0.9 else cm.RED


def _chart(ln: str, title: str, d: dict, limit: int, x: list[str], bucket: int, nb: int,
           level_s: int, range_s: int, it: bool) -> dict:
    avg_all = round(level_s / range_s, 2) if range_s else 0
    series = [
        {"key": "peak", "label": "picco" if it else "peak", "kind": "line", "color": BLUE,
         "colors": [_color(v, limit) for v in d["peak"]], "data": d["peak"]},
        {"key": "average", "label": "media" if it else "average", "kind": "line",
         "color": GREY, "data": [round(v / bucket, 2) for v in d["avg_s"]]},
        {"key": "range_average", "label": "media del periodo" if it else "range average",
         "kind": "line", "color": YELLOW, "dash": "dash", "data": [avg_all] * nb},
    ]
    if limit:
        series.append({"key": "limit", "label": "canali" if it else "channels", "kind": "line",
                       "color": cm.RED, "dash": "dot", "data": [limit] * nb})
    return {"id": "coincidences_" + ("all" if ln == ALL else ln.split("\x1f", 1)[1]),
            "title": title, "type": "timeseries", "x": x, "series": series,
            "limit": limit}


def _line_group() -> tuple:
    def is_line(b: str) -> bool:
        return b == "line"

    def g(key, en, it_, *ms):
        return Group(key, en, it_, tuple(ms), blocks=is_line, optional=True)

    return (
        g("line", "LINE", "LINEA",
          M("limit", "channels", "canali", field="limit", thousands=False,
            doc="the configured channel limit; blank = none configured (no colour bands)"),
          M("n", "calls", "chiamate", doc="intervals counted (calls of the line in range)")),
        g("peak", "PEAK", "PICCO",
          M("peak", "channels", "canali", field="peak", thousands=False),
          M("pct", "% of channels", "% dei canali", "percent", "pct", "peak", ("limit",)),
          M("at", "first at", "primo alle", "instant", field="peak_at")),
        g("average", "AVERAGE", "MEDIA",
          M("erlang", "channels (E)", "canali (E)", "decimal", "ratio", "level_s",
            ("range_s",), doc="time-weighted mean concurrency over the range, in Erlangs"),
          M("pct", "% occupancy", "% occupazione", "percent", "pct", "level_s", ("cap_s",))),
        g("busy_hour", "BUSY HOUR", "ORA DI PUNTA",
          M("at", "from", "dalle", "instant", field="bh_at"),
          M("erlang", "carried (E)", "traffico (E)", "decimal", "ratio", "bh_level_s",
            ("hour_s",)),
          M("erlang_b", "Erlang B channels", "canali Erlang B", field="erl_b",
            thousands=False,
            doc="smallest N with B(busy-hour traffic, N) <= grade_of_service")),
        BlockGroups(order=tuple(f"≥{k}" for k in range(1, 2000)),
                    metrics_for=lambda c: (M("n", "time", "tempo", "duration"),),
                    include=lambda b: b.startswith("≥"),
                    labels={f"≥{k}": (f"≥ {k} CH", f"≥ {k} CAN") for k in range(1, 2000)},
                    doc="one group per k = 1 ... the peak (≥ k CH): time at ≥ k channels"),
    )


_DEFS = (
    ("interval", "[answer, end) of each call (answer = answer time, else channel up), or "
                 "[start, end) with `from_start=yes`; whole seconds; an interval holds a "
                 "channel from its first second up to, not including, its last (C10)."),
    ("ties", "ends before starts at the same second: a call ending at t and one starting at t "
             "never overlap; a call with start = end holds nothing."),
    ("bucket", "chart buckets of `coincidence_bucket_min` minutes (default 15) from local "
               "midnight: peak = max concurrency in the bucket, average = time-weighted "
               "mean (Erlangs)."),
    ("colours", "each point against the line's channel limit: green < 75 %, orange 75-90 %, "
                "red >= 90 %; no limit configured: no bands; dashed yellow = the range "
                "average."),
    ("busy hour", "the clock hour with the most channel-seconds; carried traffic = "
                  "channel-seconds / 3600 (Erlangs), a lower bound of the offered traffic "
                  "when calls were blocked."),
    ("Erlang B", "smallest N with B(A, N) <= `grade_of_service` (default 0.01), A = busy-hour "
                 "carried traffic (anchors §2.4)."),
    ("≥ k", "seconds during which at least k channels were busy."),
    ("Totals", "the PBX-wide sweep (all lines of the report at once): its channels are the sum "
               "of the limits when every line has one."),
)

register_report(Report(
    id="cdr.coincidences", en="Coincidences", it="Voip Report Cdr Contemporaneita",
    source="CDR call intervals", build=GATEWAYS,
    tables_doc="one row and one chart per gateway (line), every direction; totals = the "
               "PBX-wide concurrency",
    filters=(flt.GATEWAY, FROM_START),
    layout=_line_group(),
    charts_doc="`coincidences_<gateway>` and `coincidences_all`: per bucket the peak (points "
               "coloured by occupancy), the time-weighted average, the range average (dashed "
               "yellow) and the channel limit.",
    definitions=_DEFS,
    totals_label=("All lines", "Tutte le linee"),
    table_title=("Concurrent calls per line", "Chiamate contemporanee per linea"),
    engines=("duckdb",),  # the sweep is DuckDB SQL (decisions.md)
))

register_report(Report(
    id="cdr.coincidences_out", en="Coincidences out",
    it="Voip Report Cdr Contemporaneita Uscita",
    source="CDR outgoing call intervals", build=OUT_CONFIGS,
    tables_doc="one row and one chart per outbound gateway configuration, outgoing calls "
               "only; totals = all configurations at once",
    filters=(OUT_CONFIG, FROM_START),
    layout=_line_group(),
    charts_doc="`coincidences_<configuration>` and `coincidences_all`, as cdr.coincidences.",
    definitions=_DEFS,
    totals_label=("All configurations", "Tutte le configurazioni"),
    table_title=("Concurrent outgoing calls per configuration",
                 "Chiamate in uscita contemporanee per configurazione"),
    engines=("duckdb",),  # the sweep is DuckDB SQL (decisions.md)
))
