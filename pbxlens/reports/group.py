"""The ring-group family: R11 (by group), R12 (per group, by date), R13 (per group, by hour).

Grain: one ring-group visit (CDR detail line `callg`), read from the derived table
`group_visits` (pbxlens.ingest.derive). Answered = the visit was answered and talk > 0 (C21);
the COUNT columns count member legs of the visit with exit cause CFWD, UFWD, FORK2MOBILE: they
are events, not calls, and may exceed the total (C20).
"""

from __future__ import annotations

from datetime import date

from pbxlens.reports import calendars, drilldown, scaffold
from pbxlens.reports import common as cm
from pbxlens.reports import filters as flt
from pbxlens.reports.catalog import Built, FilterDef, Group, Report, register_report
from pbxlens.reports.common import Grouping, M
from pbxlens.reports.engine import RawTable, RowSpec

GROUP = FilterDef(
    "group", "Group", "Gruppo", doc="Ring group id or name.",
    options=flt.DirectoryOptions("SELECT id, coalesce(name, id) FROM ring_groups"
                                 " WHERE tenant = ? ORDER BY 2"))

FIELDS = ("n", "talk", "cfwd", "ufwd", "fork")
_GLABEL = "coalesce(r.name, nullif(g.group_name, ''), g.group_id, '')"

# Visits are summed per finest key first; group names come from the directory on those sums.
SQL = f"""
WITH g AS (
  SELECT v.tenant, v.gkey, any_value(v.group_id) AS group_id,
    any_value(v.group_name) AS group_name, {{fine}}, v.answered, count(*) AS n,
    sum(v.talk_s) AS talk, sum(v.n_cfwd) AS cfwd, sum(v.n_ufwd) AS ufwd, sum(v.n_fork) AS fork
  FROM group_visits v
  WHERE v.day >= CAST(? AS DATE) AND v.day <= CAST(? AS DATE) AND v.gkey <> '' {{where}}
  GROUP BY v.tenant, v.gkey, {{fine}}, v.answered
), l AS (
  SELECT g.*, {_GLABEL} AS glabel,
    CASE WHEN g.answered THEN 'ANSWER' ELSE 'NOANSWER' END AS block
  FROM g LEFT JOIN ring_groups r ON r.tenant = g.tenant AND r.id = g.group_id
  WHERE 1 = 1 {{label_where}}
)
SELECT {{keys}}, max(glabel) AS glabel, block, {{gid}} AS gid, sum(n) AS n, sum(talk) AS talk,
  sum(cfwd) AS cfwd, sum(ufwd) AS ufwd, sum(fork) AS fork
FROM l
GROUP BY GROUPING SETS ({{sets}})
"""  # noqa: S608 -- names and SQL fragments from code; values bound

BY_GROUP = Grouping(("gkey", "dow", "hr"), "(gkey, block), (dow, block), (hr, block)")
BY_GROUP_DATE = Grouping(("gkey", "day", "dow"), "(gkey, day, block), (gkey, dow, block)")
BY_GROUP_HOUR = Grouping(("gkey", "hr"), "(gkey, hr, block)")


def visit_where(p: flt.Params, d_from: date, d_to: date) -> tuple[flt.Where, flt.Where]:
    """The filters on `group_visits v` and on the group's identity (`g.gkey` and its
    directory label); the drill-down's list of visits uses the same two."""
    w = flt.Where()
    if p.tenant is not None:
        w.add("v.tenant = ?", p.tenant)
    calendars.hours_where(w, p, calendars.Clock("v"), d_from, d_to)
    lw = flt.Where()
    lw.any_of(["g.gkey", _GLABEL], p.values("group"))
    return w, lw


def query(g: Grouping, p: flt.Params, d_from: date, d_to: date) -> tuple[str, list]:
    w, lw = visit_where(p, d_from, d_to)
    sql = SQL.format(fine=", ".join(f"v.{k}" for k in g.keys if k != "gkey"), where=w.sql(),
                     label_where=lw.sql(), keys=g.columns, gid=g.gid, sets=g.sets)
    return sql, [d_from.isoformat(), d_to.isoformat(), *w.args, *lw.args]


def facts_query(p: flt.Params, d_from: date, d_to: date) -> tuple[str, list]:
    """The visits behind the cells (drill-down): the same filters and group identity; the
    COUNT columns' member legs as counts per visit."""
    w, lw = visit_where(p, d_from, d_to)
    sql = f"""SELECT g.tenant, g.unique_id, g.leg_branch, g.seq, g.gkey, g.day, g.hr, g.dow,
  CASE WHEN g.answered THEN 'ANSWER' ELSE 'NOANSWER' END AS block, {_GLABEL} AS grp,
  g.talk_s, g.n_cfwd AS cfwd, g.n_ufwd AS ufwd, g.n_fork AS fork
FROM (SELECT v.* FROM group_visits v
      WHERE v.day >= CAST(? AS DATE) AND v.day <= CAST(? AS DATE) AND v.gkey <> ''
      {w.sql()}) g
LEFT JOIN ring_groups r ON r.tenant = g.tenant AND r.id = g.group_id
WHERE 1 = 1 {lw.sql()}"""  # noqa: S608 -- names and SQL fragments from code; values bound
    return sql, [d_from.isoformat(), d_to.isoformat(), *w.args, *lw.args]


_EXTRA = (("grp", "group", "gruppo", "text"), ("talk_s", "talk", "conversazione", "duration"),
          ("cfwd", "CFWD", "CFWD", "count"), ("ufwd", "UFWD", "UFWD", "count"),
          ("fork", "FORK2MOBILE", "FORK2MOBILE", "count"))


def visits(con, g: Grouping, p: flt.Params, d_from: date, d_to: date
           ) -> tuple[cm.GroupingSets, dict[str, str], list[str]]:
    """The summed visits by grouping set, the groups' labels and their display order (a
    filtered group is listed even without data)."""
    sets = cm.GroupingSets(g.keys, cm.records(con, *query(g, p, d_from, d_to)))
    labels = {r["gkey"]: r["glabel"] or "" for r in sets.having("gkey")}
    cm.add_filtered(con, labels, p.values("group"), "ring_groups")
    return sets, labels, sorted(labels, key=lambda k: ((labels[k] or "").lower(), k))


def by_group(con, defn: Report, p: flt.Params, d_from: date, d_to: date) -> Built:
    """cdr.groups (R11): one row per ring group, and the chart trio."""
    sets, labels, order = visits(con, BY_GROUP, p, d_from, d_to)
    facts = cm.facts_by(sets.of("gkey"), lambda r: r["gkey"], FIELDS)
    table = RawTable("groups", defn.text(defn.table_title, p.lang),
                     [RowSpec(k, labels[k]) for k in order], facts,
                     row_header=cm.tr(p.lang, "Group", "Gruppo"))
    return [table], scaffold.chart_trio(p.lang, facts,
                                        cm.facts_by(sets.of("dow"), lambda r: r["dow"], FIELDS),
                                        cm.facts_by(sets.of("hr"), lambda r: r["hr"], FIELDS))


def by_date(con, defn: Report, p: flt.Params, d_from: date, d_to: date) -> Built:
    """cdr.groups_by_date (R12): per group, one row per day and its weekday chart."""
    sets, labels, order = visits(con, BY_GROUP_DATE, p, d_from, d_to)
    title = defn.text(defn.table_title, p.lang)
    raws = []
    for gk in order:
        days = cm.facts_by((r for r in sets.of("gkey", "day") if r["gkey"] == gk), cm.by_day,
                           FIELDS)
        dows = cm.facts_by((r for r in sets.of("gkey", "dow") if r["gkey"] == gk),
                           lambda r: r["dow"], FIELDS)
        raws.append(scaffold.daily_table(
            gk, scaffold.per_entity_title(title, p.lang, ("group", "gruppo"), labels[gk]), days,
            d_from, d_to, p.lang, charts=[scaffold.weekday_chart(p.lang, dows)]))
    return raws, []


def by_hour(con, defn: Report, p: flt.Params, d_from: date, d_to: date) -> Built:
    """cdr.groups_by_hour (R13): per group, 24 rows."""
    sets, labels, order = visits(con, BY_GROUP_HOUR, p, d_from, d_to)
    title = defn.text(defn.table_title, p.lang)
    return [scaffold.hourly_table(
        gk, scaffold.per_entity_title(title, p.lang, ("group", "gruppo"), labels[gk]),
        cm.facts_by((r for r in sets.of("gkey", "hr") if r["gkey"] == gk), cm.by_hour, FIELDS),
        p.lang) for gk in order], []


# ----------------------------------------------------------------------------- definitions

_D = "duration"
LAYOUT = (
    Group("total", "TOTAL", "TOTALE", (cm.QTY,)),
    Group("answered", "ANSWERED", "RISPOSTE", (
        cm.QTY,
        M("talk", "talk time", "tempo conversazione", _D, field="talk"),
        M("avg_talk", "avg talk time", "media tempo conversazione", _D, "avg", "talk"),
    ), blocks=cm.is_answered),
    Group("unanswered", "UNANSWERED", "NON RISPOSTE", (cm.QTY,), blocks=cm.is_unanswered),
    Group("cfwd", "COUNT CFWD", "COUNT CFWD", (M("cfwd", "quantity", "quantità", field="cfwd",
                                               doc="member legs forwarded conditionally"),)),
    Group("ufwd", "COUNT UFWD", "COUNT UFWD", (M("ufwd", "quantity", "quantità", field="ufwd",
                                               doc="member legs forwarded unconditionally"),)),
    Group("fork2mobile", "COUNT FORK2MOBILE", "COUNT FORK2MOBILE",
          (M("fork2mobile", "quantity", "quantità", field="fork",
             doc="member legs forked to the mobile"),)),
)

DEFINITIONS = (
    ("grain", "One row per ring-group visit: a CDR detail line with destination type `callg`."),
    ("answered", "The visit was answered (detail answer time) and talked: talk > 0 (C21); "
                 "the rest is unanswered. By-date and by-hour tables sum to the group row."),
    ("tempo conversazione", "exit − answer of the answered visits."),
    ("member legs", "The local_exten / obl detail lines after the callg line (before the next "
                    "callg, queue or ivr line) that start inside the visit's [enter, exit]."),
    ("COUNT CFWD / UFWD / FORK2MOBILE", "Member legs with exit cause CFWD (conditional "
                                        "forward), UFWD (unconditional forward), FORK2MOBILE: "
                                        "events, not calls, so they can exceed TOTALE (C20)."),
    ("averages", "Σ talk / answered visits, floored; the totals row is weighted (C1)."),
    ("date", "Visits are placed by their call's start time in the PBX timezone (C22)."),
)

register_report(Report(
    id="cdr.groups", row_pie=("answered.n", "unanswered.n"),
    en="Groups report", it="Voip Report Cdr Gruppi",
    source="CDR ring-group visit", build=by_group,
    tables_doc="one table; one row per ring group", filters=(GROUP, calendars.HOURS), layout=LAYOUT,
    definitions=DEFINITIONS, table_title=("Calls handled", "Chiamate gestite"),
    charts_doc="report charts: `answered_pie` (answered vs unanswered), `by_weekday` and "
               "`by_hour` (total column, answered and unanswered lines; Sunday first). No "
               "header strip (as Nexus).",
    facts=drilldown.Facts(facts_query, row="gkey", extra=_EXTRA, order="seq")))

register_report(Report(
    id="cdr.groups_by_date", en="Groups report by date", it="Voip Report Cdr Gruppi per Data",
    source="CDR ring-group visit", build=by_date,
    tables_doc="one table per group; one row per day of the range (every day listed)",
    filters=(GROUP, calendars.HOURS), layout=LAYOUT, definitions=DEFINITIONS,
    table_title=("Calls handled", "Chiamate gestite"),
    charts_doc="per table: `by_weekday` (total, answered, unanswered; Sunday first).",
    facts=drilldown.Facts(facts_query, table="gkey", row="day", extra=_EXTRA, order="seq")))

register_report(Report(
    id="cdr.groups_by_hour", en="Groups report by hour", it="Voip Report Cdr Gruppi per Ora",
    source="CDR ring-group visit", build=by_hour,
    tables_doc="one table per group; 24 rows 00:00-23:00", filters=(GROUP, calendars.HOURS), layout=LAYOUT,
    definitions=DEFINITIONS, table_title=("Calls handled", "Chiamate gestite"),
    charts_doc="none (tables only).",
    facts=drilldown.Facts(facts_query, table="gkey", row="hr", extra=_EXTRA, order="seq")))
