"""Wait and abandonment histograms: R18 (answered queue visits by wait), R19 (answered incoming
calls by wait), R26 (unanswered queue visits by wait before leaving), R27 (unanswered incoming
calls by wait before hanging up).

Buckets of whole seconds (R18 REC): w <= 10 -> 0-10; then ⌈w / 10⌉ up to 111-120; then > 120.
One SQL GROUP BY over a derived table (queue_visits or call_facts) per report.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from pbxlens.reports import calendars, drilldown
from pbxlens.reports import common as cm
from pbxlens.reports import filters as flt
from pbxlens.reports.catalog import Built, FilterDef, Group, Report, register_report
from pbxlens.reports.common import M
from pbxlens.reports.engine import RawTable, RowSpec

ABANDON_ONLY = FilterDef(
    "abandon_only", "Caller abandonment only", "Solo abbandoni del chiamante", multi=False,
    options=flt.YES_NO,
    doc="yes/no, default no: count only CANCELED (and CANCELED NOWAIT) instead of every "
        "unanswered visit or call (errata C9).")

BUCKETS = ("0-10", "11-20", "21-30", "31-40", "41-50", "51-60", "61-70", "71-80", "81-90",
           "91-100", "101-110", "111-120", "> 120")
ALL = "\x1fall"

_BUCKET = ("CASE WHEN w <= 10 THEN 0 WHEN w > 120 THEN 12 "
           "ELSE CAST(ceil(w / 10.0) AS INTEGER) - 1 END")

# grain -> (relation with column w, its predicates)
_QUEUE = """SELECT {cols}{w} AS w FROM queue_visits v
  LEFT JOIN queues q ON q.tenant = v.tenant AND q.id = v.queue_id
  WHERE v.day >= CAST(? AS DATE) AND v.day <= CAST(? AS DATE) {where}"""
_CALL = """SELECT {cols}{w} AS w FROM call_facts c
  WHERE c.day >= CAST(? AS DATE) AND c.day <= CAST(? AS DATE) AND c.direction = 'incoming'
  {where}"""

SQL = "SELECT {bucket} AS b, count(*) AS n FROM ({inner}) x GROUP BY b"


@dataclass(frozen=True)
class WaitHistogram:
    """A histogram of waits: of queue visits (`queue`) or of incoming calls, answered or not.
    Calling it builds the report."""

    queue: bool
    answered: bool

    def query(self, p: flt.Params, d_from: date, d_to: date) -> tuple[str, list]:
        inner, args = self.inner(p, d_from, d_to)
        return SQL.format(bucket=_BUCKET, inner=inner), args

    def facts(self, p: flt.Params, d_from: date, d_to: date) -> tuple[str, list]:
        """The visits or calls behind the cells (drill-down): the same relation, each with its
        bucket's label (one block, `all`)."""
        inner, args = self.inner(p, d_from, d_to, facts=True)
        labels = ", ".join(f"'{b}'" for b in BUCKETS)
        return (f"SELECT x.*, list_extract([{labels}], {_BUCKET} + 1) AS bucket, "  # noqa: S608 -- names and SQL fragments from code; values bound
                f"'all' AS block FROM ({inner}) x", args)

    def inner(self, p: flt.Params, d_from: date, d_to: date, *, facts: bool = False
              ) -> tuple[str, list]:
        """The relation of waits `w` (with the fact's keys when `facts`) and its arguments."""
        a = "v" if self.queue else "c"
        cols = f"{a}.tenant, {a}.unique_id, {a}.leg_branch, " if facts else ""
        w = flt.Where()
        if self.queue:
            if p.tenant is not None:
                w.add("v.tenant = ?", p.tenant)
            w.add("v.answered" if self.answered else "NOT v.answered")
            if not p.flag("empty_queue"):
                w.add("v.qkey <> ''")
            qs = p.values("queue")
            if qs:
                w.any_of(["v.qkey",
                          "coalesce(q.name, nullif(v.queue_name, ''), v.queue_id, '')"], qs)
            if not self.answered and p.flag("abandon_only"):
                w.add("v.block IN ('CANCELED', 'CANCELED NOWAIT')")
            calendars.hours_where(w, p, calendars.Clock("v", qkey="v.qkey"), d_from, d_to)
            # answered: answer - enter (= detail_waiting_time); unanswered: exit - enter (§0.9)
            inner = _QUEUE.format(w="v.asa_s" if self.answered else "v.wait_s", where=w.sql(),
                                  cols=cols)
        else:
            if p.tenant is not None:
                w.add("c.tenant = ?", p.tenant)
            w.add("c.status = 'OK'" if self.answered else "c.status <> 'OK'")
            if not self.answered and p.flag("abandon_only"):
                w.add("c.status = 'CANCELED'")
            calendars.hours_where(w, p, calendars.Clock("c"), d_from, d_to)
            # answered: (answer, else channel up) - start (C5, as R1); unanswered: the CDR's
            # own duration = end - start (design.md: durations from the CDR's fields)
            inner = _CALL.format(w="c.wait_s" if self.answered else "c.dur_s", where=w.sql(),
                                 cols=cols)
        return inner, [d_from.isoformat(), d_to.isoformat(), *w.args]

    def __call__(self, con, defn: Report, p: flt.Params, d_from: date, d_to: date) -> Built:
        counts = [0] * len(BUCKETS)
        for b, n in con.execute(*self.query(p, d_from, d_to)).fetchall():
            counts[int(b)] += int(n)
        total = sum(counts)
        # every row carries the table's total as the percentage's denominator; the totals row
        # is the whole table (100 %), not a sum of rows
        facts = {BUCKETS[i]: {"all": {"n": counts[i], "den": total}}
                 for i in range(len(BUCKETS))}
        facts[ALL] = {"all": {"n": total, "den": total}}
        raw = RawTable("waits", defn.text(defn.table_title, p.lang),
                       [RowSpec(b, b) for b in BUCKETS], facts,
                       row_header=cm.tr(p.lang, "Wait (seconds)", "Attesa (secondi)"),
                       totals_key=ALL)
        chart = {"id": "histogram", "title": defn.title(p.lang), "type": "combo",
                 "x": list(BUCKETS), "series": [
                     {"key": "quantity", "label": "quantity", "color": cm.ORANGE,
                      "kind": "column", "data": counts}]}
        return [raw], [chart]


LAYOUT = (Group("calls", "CALLS", "CHIAMATE", (
    M("n", "QTY", "QTA", thousands=False),
    M("pct", "PERC", "PERC", "percent", "pct", "n", ("den",),
      doc="quantity / total, 2 decimals half-up"),
)),)

_DEFS_BUCKETS = ("buckets", "whole seconds: w <= 10 in 0-10, then ⌈w / 10⌉ tens up to 111-120, "
                            "then > 120; the totals row is TOTALE (100 %).")


def _def(rid, en, it_, source, build, filters, title, tables_doc, measure):
    register_report(Report(
        id=rid, en=en, it=it_, source=source, build=build, tables_doc=tables_doc,
        filters=(*filters, calendars.HOURS), layout=LAYOUT,
        facts=drilldown.Facts(build.facts, row="bucket",
                              extra=(("w", "wait", "attesa", "duration"),)),
        charts_doc="`histogram`: one column per bucket.",
        definitions=(("measure", measure), _DEFS_BUCKETS),
        totals_label=("TOTAL", "TOTALE"), table_title=title))


_def("cdr.queue_wait_times", "Waiting times per queue",
     "Voip Cdr Report Tempi Attesa Chiamate in Coda Risposte", "CDR queue visit (answered)",
     WaitHistogram(queue=True, answered=True), (flt.QUEUE, flt.EMPTY_QUEUE),
     ("Answered queue calls by waiting time (seconds)",
      "Numero chiamate in coda risposte per tempo di attesa (secondi)"),
     "13 wait buckets; all selected queues summed",
     "answered queue visits (NCC, TRASFERIMENTO ...); wait = answer - queue entry.")
_def("cdr.incoming_wait_times", "Incoming wait times",
     "Voip Cdr Report Tempi Attesa Chiamate in Ingresso Risposte",
     "CDR call (incoming answered)", WaitHistogram(queue=False, answered=True), (),
     ("Answered incoming calls by waiting time (seconds)",
      "Numero chiamate in ingresso risposte per tempo di attesa (secondi)"),
     "13 wait buckets",
     "incoming calls with status OK; wait = answer (else channel up) - start (C5).")
_def("cdr.queue_abandon_times", "Time abandonment queue",
     "Voip Cdr Report Tempi Abbandono Chiamate in Coda", "CDR queue visit (unanswered)",
     WaitHistogram(queue=True, answered=False), (flt.QUEUE, flt.EMPTY_QUEUE, ABANDON_ONLY),
     ("Unanswered queue calls by waiting time (seconds)",
      "Numero chiamate in coda non risposte per tempo di attesa (secondi)"),
     "13 wait buckets; all selected queues summed",
     "unanswered queue visits (every unanswered exit cause; `abandon_only=yes`: CANCELED and "
     "CANCELED NOWAIT only, errata C9); wait = exit - queue entry.")
_def("cdr.incoming_abandon_times", "Time abandonment entry",
     "Voip Cdr Report Tempi Abbandono in Ingresso", "CDR call (incoming unanswered)",
     WaitHistogram(queue=False, answered=False), (ABANDON_ONLY,),
     ("Unanswered incoming calls by waiting time (seconds)",
      "Numero chiamate in ingresso non risposte per tempo di attesa (secondi)"),
     "13 wait buckets",
     "incoming calls whose status is not OK (`abandon_only=yes`: CANCELED only, errata C9); "
     "wait = the CDR duration (end - start).")
