"""R1, the CDR dashboard: call grain, by direction (incoming / outgoing / internal) and status,
over days, hours and weekdays (one SQL query with GROUPING SETS)."""

from __future__ import annotations

from datetime import date

from pbxlens.models import vocabulary
from pbxlens.reports import calendars, drilldown, scaffold
from pbxlens.reports import common as cm
from pbxlens.reports import filters as flt
from pbxlens.reports import format as fmt
from pbxlens.reports.catalog import Built, Group, Report, SummaryField, register_report
from pbxlens.reports.common import M

FIELDS = ("n", "dur", "wait", "talk")
DIRS = ("incoming", "outgoing", "internal")

# Reads the derived table call_facts (one row per call; start buckets in PBX local time, C22,
# and the C5 wait/talk seconds precomputed at ingest by pbxlens.ingest.derive). The calls of
# the range are summed per (day, hour, direction, status) first, then rolled up.
SQL = """
WITH g AS (
  SELECT c.day, c.hr, c.direction, c.status, count(*) AS n, sum(c.dur_s) AS dur,
    sum(c.wait_s) AS wait, sum(c.talk_s) AS talk
  FROM call_facts c
  WHERE c.day >= CAST(? AS DATE) AND c.day <= CAST(? AS DATE) {where}
  GROUP BY c.day, c.hr, c.direction, c.status
), b AS (
  SELECT day, hr, dayofweek(day) AS dow, direction || '|' || status AS block, n, dur, wait, talk
  FROM g
)
SELECT day, hr, dow, block, GROUPING(day, hr, dow) AS gid, sum(n) AS n, sum(dur) AS dur,
  sum(wait) AS wait, sum(talk) AS talk
FROM b
GROUP BY GROUPING SETS ((day, block), (hr, block), (dow, block))
"""


def _dir(d: str):
    return lambda b: b.split("|", 1)[0] == d


def _ok(b: str) -> bool:
    return b.endswith("|OK")


def _ko(b: str) -> bool:
    return not b.endswith("|OK")


def _and(*preds):
    return lambda b: all(p(b) for p in preds)


def call_where(p: flt.Params, d_from: date, d_to: date) -> flt.Where:
    """The filters on `call_facts c` (the report and its drill-down's list share them)."""
    w = flt.Where()
    flt.call_filters(w, p)
    calendars.hours_where(w, p, calendars.Clock("c"), d_from, d_to)
    return w


def query(p: flt.Params, d_from: date, d_to: date) -> tuple[str, list]:
    w = call_where(p, d_from, d_to)
    return SQL.format(where=w.sql()), [d_from.isoformat(), d_to.isoformat(), *w.args]


def facts_query(p: flt.Params, d_from: date, d_to: date) -> tuple[str, list]:
    """The calls behind the cells (drill-down): the same filters, block = direction|status."""
    w = call_where(p, d_from, d_to)
    return ("SELECT c.tenant, c.unique_id, c.leg_branch, c.day, c.hr, dayofweek(c.day) AS dow,"  # noqa: S608 -- names and SQL fragments from code; values bound
            " c.direction || '|' || c.status AS block FROM call_facts c"
            f" WHERE c.day >= CAST(? AS DATE) AND c.day <= CAST(? AS DATE) {w.sql()}",
            [d_from.isoformat(), d_to.isoformat(), *w.args])


FACTS = drilldown.Facts(facts_query, row={"daily": "day", "hourly": "hr", "weekly": "dow"})


def build(con, defn: Report, p: flt.Params, d_from: date, d_to: date) -> Built:
    """cdr.dashboard: the day, hour and weekday tables of the calls, by direction and status."""
    sets = cm.GroupingSets(("day", "hr", "dow"), cm.records(con, *query(p, d_from, d_to)))
    facts = {"day": cm.facts_by(sets.of("day"), cm.by_day, FIELDS),
             "hr": cm.facts_by(sets.of("hr"), cm.by_hour, FIELDS),
             "dow": cm.facts_by(sets.of("dow"), lambda r: str(r["dow"]), FIELDS)}
    return (scaffold.day_hour_weekday_tables(facts, d_from, d_to, p.lang),
            _charts(facts, cm.days_between(d_from, d_to), p.lang))


def _series(by_slot: dict, slots: list[str], field: str) -> list[dict]:
    def ser(pred):
        return [int(sum(v.get(field, 0) for b, v in by_slot.get(s, {}).items() if pred(b)))
                for s in slots]
    return [{"key": "total", "label": "total", "color": cm.ORANGE, "kind": "column",
             "data": ser(lambda b: True)},
            {"key": "answered", "label": "answered", "color": cm.GREEN, "kind": "line",
             "data": ser(_ok)},
            {"key": "unanswered", "label": "unanswered", "color": cm.RED, "kind": "line",
             "data": ser(_ko)}]


def _charts(facts: dict, days: list[date], lang: str) -> list[dict]:
    it = lang == "it"
    dk = [d.isoformat() for d in days]
    dx = [fmt.day_label(d) for d in days]
    hk = [str(h) for h in range(24)]
    wk = [str(i) for i in range(7)]
    charts = [
        {"id": "daily_calls", "title": "Chiamate per giorno" if it else "Calls per day",
         "type": "combo", "x": dx, "series": _series(facts["day"], dk, "n")},
        {"id": "daily_duration", "title": "Durata per giorno (s)" if it else "Duration per day (s)",
         "type": "combo", "x": dx, "series": _series(facts["day"], dk, "dur")},
        {"id": "hourly_calls", "title": "Chiamate per ora" if it else "Calls by hour",
         "type": "combo", "x": scaffold.hour_x(), "series": _series(facts["hr"], hk, "n")},
        {"id": "hourly_duration", "title": "Durata per ora (s)" if it else "Duration by hour (s)",
         "type": "combo", "x": scaffold.hour_x(), "series": _series(facts["hr"], hk, "dur")},
        {"id": "weekday_calls", "title": "Chiamate per giorno della settimana" if it else
         "Calls by weekday", "type": "combo", "x": scaffold.weekday_x(lang),
         "series": _series(facts["dow"], wk, "n")},
        {"id": "weekday_duration", "title": "Durata per giorno della settimana (s)" if it else
         "Duration by weekday (s)", "type": "combo", "x": scaffold.weekday_x(lang),
         "series": _series(facts["dow"], wk, "dur")},
    ]
    # pies (and the stacked band, same data): per direction, answered + unanswered by status
    tot: dict[str, int] = {}
    for fs in facts["dow"].values():
        for b, v in fs.items():
            tot[b] = tot.get(b, 0) + int(v.get("n", 0))
    order = [s.code for s in vocabulary.STATUSES]
    for d in DIRS:
        present = sorted({b.split("|", 1)[1] for b in tot if b.startswith(d + "|")},
                         key=lambda s: (order.index(s) if s in order else 99, s))
        labels = [vocabulary.label("status", s, lang) if s in order else s for s in present]
        data = [tot.get(f"{d}|{s}", 0) for s in present]
        charts.append({"id": f"pie_{d}", "title": (dict(incoming="Ingresso", outgoing="Uscita",
                                                    internal="Interna")[d]
                                               if it else d.capitalize()),
                       "type": "pie", "x": labels, "codes": present,
                       "series": [{"key": "n", "label": "quantity", "data": data}]})
    return charts


_H = "duration_h"  # the dashboard tables show cumulative hours (§0.4)


def _dir_group(d: str, en: str, it_: str, full: bool) -> Group:
    ms = [M("answered", "N. answered", "N. RISPOSTE", blocks=_ok, thousands=False),
          M("unanswered", "N. unanswered", "N. NON RISPOSTE", blocks=_ko, thousands=False),
          M("t_total", "T. total", "T. TOTALE", _H, field="dur")]
    if full:
        ms += [M("t_wait", "T. wait", "T. ATTESA", _H, field="wait",
                 doc="Σ (answer, else channel up − start); duration when never answered (C5)"),
               M("t_talk", "T. talk", "T. CONVERSAZIONE", _H, field="talk",
                 doc="Σ floor(bill_secs): talk after media answer (C5)"),
               M("pct_wait", "% wait", "% ATTESA", "percent", "pct", "wait", ("wait", "talk"),
                 doc="T.ATTESA / (T.ATTESA + T.CONVERSAZIONE); blank when both are 0")]
    return Group(d, en, it_, tuple(ms), blocks=_dir(d))


LAYOUT = (
    Group("total", "TOTAL", "TOTALE", (
        M("answered", "answered", "RISPOSTE", blocks=_ok, thousands=False),
        M("unanswered", "unanswered", "NON RISPOSTE", blocks=_ko, thousands=False))),
    _dir_group("incoming", "INCOMING", "INGRESSO", True),
    _dir_group("outgoing", "OUTGOING", "USCITA", False),
    _dir_group("internal", "INTERNAL", "INTERNA", False),
)


def _box(d: str, en: str, it_: str) -> tuple[SummaryField, ...]:
    b = _dir(d)
    return (
        SummaryField(f"{d}.total", f"{en} total", f"{it_} totale", M("n", "", "", blocks=b)),
        SummaryField(f"{d}.answered", f"{en} answered", f"{it_} risposte",
                     M("n", "", "", blocks=_and(b, _ok))),
        SummaryField(f"{d}.unanswered", f"{en} unanswered", f"{it_} non risposte",
                     M("n", "", "", blocks=_and(b, _ko))),
        SummaryField(f"{d}.duration", f"{en} total duration", f"{it_} durata totale",
                     M("d", "", "", "duration", field="dur", blocks=b)),
        SummaryField(f"{d}.avg_duration", f"{en} average duration", f"{it_} durata media",
                     M("a", "", "", "duration", "avg", "dur", blocks=b)),
    )


register_report(Report(
    id="cdr.dashboard", en="CDR dashboard", it="Voip Report Cdr", source="CDR call",
    build=build,
    tables_doc="three tables: every day of the range, 24 hours, 7 weekdays (Sunday first); "
               "columns by direction",
    filters=(flt.STATUS, flt.SOURCE, flt.DESTINATION, flt.BILLING_CODE, flt.GATEWAY,
             calendars.HOURS), facts=FACTS,
    layout=LAYOUT,
    summary=_box("incoming", "Incoming", "Ingresso") + _box("outgoing", "Outgoing", "Uscita")
    + _box("internal", "Internal", "Interna"),
    charts_doc="report charts: `daily_calls`, `daily_duration`, `hourly_calls`, "
               "`hourly_duration`, `weekday_calls`, `weekday_duration` (total column, answered "
               "and unanswered lines) and `pie_incoming|outgoing|internal` (answered and each "
               "unanswered status; the stacked band shows the same series).",
    definitions=(
        ("grain", "One row per CDR call (header), placed by its start time in the PBX timezone."),
        ("answered", "status OK; every other status is unanswered."),
        ("direction", "incoming: source type ibl; outgoing: destination obl or an obl detail "
                      "line; internal: the rest (§0.8)."),
        ("T. TOTALE", "Σ duration (the CDR's own field)."),
        ("T. ATTESA", "incoming only: Σ (answer, else channel up, − start); duration when "
                      "neither exists (C5)."),
        ("T. CONVERSAZIONE", "incoming only: Σ floor(bill_secs) (C5)."),
        ("% ATTESA", "T.ATTESA / (T.ATTESA + T.CONVERSAZIONE), 2 decimals half-up; 100 % when "
                     "talk is 0; blank when both are 0 (errata R1)."),
    )))
