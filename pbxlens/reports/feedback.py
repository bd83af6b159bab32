"""`feedback.service`: the Nexus "Service Report" of the 1-6 keypad ratings (nexus_modules.md
D.1, L7629-7693): per rating, the calls that typed it and their share of all valid ratings.

Reads `feedback_requests` (stored by the feedback webhook). A rating counts when param1 is
1..6; other values are logged but excluded from the report and its total (FB-2). Several
routings of one call (several questions) all count (L7693). The date of a rating is the call's
start day (the CDR, else the epoch in its unique_id, else the day it was received); the queue
filter keeps ratings of calls that visited the queue.
"""

from __future__ import annotations

from datetime import date

from pbxlens.reports import common as cm
from pbxlens.reports import drilldown
from pbxlens.reports import filters as flt
from pbxlens.reports.catalog import (
    Built,
    FilterDef,
    Group,
    Report,
    SummaryField,
    register_report,
)
from pbxlens.reports.common import M
from pbxlens.reports.engine import RawTable, RowSpec

ROUTING_GROUP = FilterDef(
    "group", "Routing group", "Gruppo instradamento",
    doc="The `<group>` of the feedback requests (e.g. CS); several routings of one group are "
        "aggregated (L7693).",
    options=flt.DirectoryOptions("SELECT DISTINCT grp, grp FROM feedback_requests"
                                 " WHERE tenant = ? AND grp <> '' ORDER BY 1"))

# Day of a rating: the call's start (PBX local day) when the CDR holds the call; else the
# unique_id's epoch part (the call start in UTC, pbx_data.md §1.7) in the PBX timezone; else
# the day the request was received. Casting a TIMESTAMPTZ to DATE uses the store's TimeZone,
# which is the PBX's.
SQL = """
WITH f AS (
  SELECT f.tenant, f.unique_id, f.rating,
    coalesce((SELECT min(c.day) FROM call_facts c
              WHERE c.tenant = f.tenant AND c.unique_id = f.unique_id),
             CAST(to_timestamp(TRY_CAST(split_part(f.unique_id, '.', 1) AS BIGINT)) AS DATE),
             CAST(f.received_at AS DATE)) AS day
  FROM feedback_requests f
  WHERE f.rating BETWEEN 1 AND 6 {fw}
)
SELECT rating, count(*) AS n
FROM f
WHERE day >= CAST(? AS DATE) AND day <= CAST(? AS DATE) {qw}
GROUP BY rating
"""

_QUEUE = """EXISTS (SELECT 1 FROM queue_visits v LEFT JOIN queues q
  ON q.tenant = v.tenant AND q.id = v.queue_id
  WHERE v.tenant = f.tenant AND v.unique_id = f.unique_id AND ({cond}))"""


def _wheres(p: flt.Params) -> tuple[flt.Where, flt.Where]:
    fw = flt.Where()
    if p.tenant is not None:
        fw.add("f.tenant = ?", p.tenant)
    fw.any_of(["f.grp"], p.values("group"))
    qw = flt.Where()
    queues = p.values("queue")
    if queues:
        ph = ", ".join("?" for _ in queues)
        qw.add(_QUEUE.format(cond=f"v.qkey IN ({ph}) OR v.queue_name IN ({ph}) OR q.name IN "
                                  f"({ph})"), *queues, *queues, *queues)
    return fw, qw


def facts_query(p: flt.Params, d_from: date, d_to: date) -> tuple[str, list]:
    """The ratings behind the cells (drill-down): the report's ratings one by one."""
    fw, qw = _wheres(p)
    sql = SQL.format(fw=fw.sql(), qw=qw.sql())
    sql = sql[:sql.index("SELECT rating, count(*)")] + (  # noqa: S608 -- names and SQL fragments from code; values bound
        "SELECT f.tenant, f.unique_id, CAST(0 AS SMALLINT) AS leg_branch, "
        "CAST(f.rating AS VARCHAR) AS rating, 'R' AS block FROM f\n"
        + sql[sql.index("WHERE day >="):sql.index("GROUP BY rating")])
    return sql, [*fw.args, d_from.isoformat(), d_to.isoformat(), *qw.args]


def build(con, defn: Report, p: flt.Params, d_from: date, d_to: date) -> Built:
    """feedback.service: the calls per rating 6 down to 1 and their share."""
    fw, qw = _wheres(p)
    sql = SQL.format(fw=fw.sql(), qw=qw.sql())
    _cols, rows = cm.fetch(con, sql, [*fw.args, d_from.isoformat(), d_to.isoformat(), *qw.args])
    facts = {str(r[0]): {"R": {"n": int(r[1])}} for r in rows}
    it = p.lang == "it"
    stars = [RowSpec(str(k), f"{k}★", 0) for k in range(6, 0, -1)]
    table = RawTable("ratings", "Dettaglio Valutazione" if it else "Rating detail", stars, facts,
                     row_header="Valutazione" if it else "Rating")
    counts = [facts.get(str(k), {}).get("R", {}).get("n", 0) for k in range(6, 0, -1)]
    chart = {"id": "ratings", "title": "Valutazioni" if it else "Ratings", "type": "pie",
             "x": [s.label for s in stars],
             "series": [{"key": "n", "label": "calls", "data": counts}]}
    return [table], [chart]


LAYOUT = (
    Group("calls", "CALLS", "NUM. CHIAMATE", (M("calls", "calls", "num. chiamate"),)),
    Group("share", "SHARE", "PERCENTUALE", (
        M("share", "share of valid ratings", "percentuale", "percent", "share",
          doc="calls with this rating / calls with a valid rating (1-6)"),)),
)

register_report(Report(
    id="feedback.service", en="Feedback service report", it="Service Report",
    source="feedback request (dynamic routing)", build=build,
    tables_doc="one table; rows 6★ down to 1★ (every rating listed)",
    filters=(flt.QUEUE, ROUTING_GROUP), layout=LAYOUT,
    summary=(SummaryField("n", "calls with a valid rating", "totale", M("n", "", "")),),
    definitions=(
        ("rating", "param1 of the feedback request (the digit typed after the call); only 1-6 "
                   "count, other values are logged but left out of the table and its total "
                   "(FB-1, FB-2)."),
        ("calls", "ratings with that value; several questions of one call (several routings "
                  "to one group) each count (L7693)."),
        ("share", "calls / calls with a valid rating, percent 2 decimals half-up (the seed's "
                  "5, 4, 5, 5 gives 75.0 % and 25.0 %)."),
        ("date", "the call's start day (CDR; else the epoch in the unique_id; else the day the "
                 "request arrived), PBX timezone, both dates inclusive."),
        ("queue", "ratings of calls with a visit to that queue in the CDR."),
    ),
    table_title=("Rating detail", "Dettaglio Valutazione"),
    facts=drilldown.Facts(facts_query, row="rating",
                          extra=(("rating", "rating", "valutazione", "text"),)),
    charts_doc="`ratings` (pie of the calls per rating)."))
