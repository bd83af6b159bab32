"""The ring-group family: R11 (by group), R12 (per group, by date), R13 (per group, by hour).

Grain: one ring-group visit (CDR detail line `callg`), read from the derived table
`group_visits` (pbxlens.ingest.derive). Answered = the visit was answered and talk > 0 (C21);
the COUNT columns count member legs of the visit with exit cause CFWD, UFWD, FORK2MOBILE: they
are events, not calls, and may exceed the total (C20).
"""

from __future__ import annotations

from datetime import date

from pbxlens.reports import common as cm
from pbxlens.reports import filters as flt
from pbxlens.reports import format as fmt
from pbxlens.reports.catalog import FilterDef, Group, ReportDef, register, register_filter
from pbxlens.reports.common import M
from pbxlens.reports.engine import RawTable, RowSpec

register_filter(FilterDef("group", "Group", "Gruppo", doc="Ring group id or name."))

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
"""

GROUPINGS = {
    "group": (("gkey", "dow", "hr"), "(gkey, block), (dow, block), (hr, block)"),
    "group_date": (("gkey", "day", "dow"), "(gkey, day, block), (gkey, dow, block)"),
    "group_hour": (("gkey", "hr"), "(gkey, hr, block)"),
}


def query(defn: ReportDef, p: flt.Params, d_from: date, d_to: date) -> tuple[str, list]:
    keys, sets = GROUPINGS[defn.grouping]
    w = flt.Where()
    if p.tenant is not None:
        w.add("v.tenant = ?", p.tenant)
    lw = flt.Where()
    lw.any_of(["g.gkey", _GLABEL], p.values("group"))
    sql = SQL.format(fine=", ".join(f"v.{k}" for k in keys if k != "gkey"), where=w.sql(),
                     label_where=lw.sql(), keys=", ".join(keys),
                     gid="GROUPING(" + ", ".join(keys) + ")", sets=sets)
    return sql, [d_from.isoformat(), d_to.isoformat(), *w.args, *lw.args]


def build(con, defn: ReportDef, p: flt.Params, d_from: date, d_to: date):
    sql, args = query(defn, p, d_from, d_to)
    cols, rows = cm.fetch(con, sql, args)
    keys, _sets = GROUPINGS[defn.grouping]
    nk = len(keys)
    it = p.lang == "it"
    lang = p.lang
    recs = [dict(zip(cols, r, strict=True)) for r in rows]

    def gid_of(*present: str) -> int:
        g = 0
        for i, k in enumerate(keys):
            if k not in present:
                g |= 1 << (nk - 1 - i)
        return g

    by: dict[int, list[dict]] = {}
    labels: dict[str, str] = {}
    for r in recs:
        by.setdefault(r["gid"], []).append(r)
        if r.get("gkey") is not None:
            labels[r["gkey"]] = r["glabel"] or ""
    for gv in p.values("group"):  # a filtered group is shown even without data
        if gv not in labels and gv not in labels.values():
            for gid, name in con.execute("SELECT id, name FROM ring_groups WHERE id = ? OR "
                                         "name = ?", [gv, gv]).fetchall():
                labels.setdefault(gid, name or gid)
    order = sorted(labels, key=lambda k: ((labels[k] or "").lower(), k))
    title = defn.table_title[1] if it else defn.table_title[0]
    if defn.grouping == "group":
        facts: dict = {}
        for r in by.get(gid_of("gkey"), []):
            cm.put(facts, r["gkey"], r["block"], r, FIELDS)
        allb: dict = {}
        for fs in facts.values():
            for b, v in fs.items():
                cm.put(allb, "all", b, v, tuple(v))
        slots: dict = {"dow": {}, "hr": {}}
        for k in ("dow", "hr"):
            for r in by.get(gid_of(k), []):
                cm.put(slots[k], r[k], r["block"], r, FIELDS)
        charts = [cm.pie("answered_pie", "Risposte / non risposte" if it else
                         "Answered / unanswered", allb.get("all", {})),
                  cm.slot_chart("by_weekday", "Per giorno della settimana" if it else
                                "By weekday", cm.weekday_x(lang), slots["dow"], list(range(7))),
                  cm.slot_chart("by_hour", "Per ora" if it else "By hour", cm.hour_x(),
                                slots["hr"], list(range(24)))]
        return [RawTable("groups", title, [RowSpec(k, labels[k]) for k in order], facts,
                         row_header="Gruppo" if it else "Group")], charts
    raws = []
    for gk in order:
        facts = {}
        gt = f"{title} {'gruppo' if it else 'group'}: {labels[gk]}"
        if defn.grouping == "group_date":
            for r in by.get(gid_of("gkey", "day"), []):
                if r["gkey"] == gk:
                    cm.put(facts, r["day"].isoformat(), r["block"], r, FIELDS)
            by_dow: dict = {}
            for r in by.get(gid_of("gkey", "dow"), []):
                if r["gkey"] == gk:
                    cm.put(by_dow, r["dow"], r["block"], r, FIELDS)
            rows_ = [RowSpec(d.isoformat(), fmt.day_label(d)) for d in
                     cm.days_between(d_from, d_to)]
            tcharts = [cm.slot_chart("by_weekday", "Per giorno della settimana" if it else
                                     "By weekday", cm.weekday_x(lang), by_dow, list(range(7)))]
            rh = "Data" if it else "Date"
        else:
            for r in by.get(gid_of("gkey", "hr"), []):
                if r["gkey"] == gk:
                    cm.put(facts, str(r["hr"]), r["block"], r, FIELDS)
            rows_ = [RowSpec(str(h), fmt.hour_label(h)) for h in range(24)]
            tcharts = []
            rh = "Ora" if it else "Hour"
        raws.append(RawTable(gk, gt, rows_, facts, charts=tcharts, row_header=rh))
    return raws, []


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

register(ReportDef(
    id="cdr.groups", options={"row_pie": ("answered.n", "unanswered.n")},
    en="Groups report", it="Voip Report Cdr Gruppi",
    source="CDR ring-group visit", family="group", grouping="group",
    grouping_doc="one table; one row per ring group", filters=("group",), layout=LAYOUT,
    definitions=DEFINITIONS, table_title=("Calls handled", "Chiamate gestite"),
    charts_doc="report charts: `answered_pie` (answered vs unanswered), `by_weekday` and "
               "`by_hour` (total column, answered and unanswered lines; Sunday first). No "
               "header strip (as Nexus)."))

register(ReportDef(
    id="cdr.groups_by_date", en="Groups report by date", it="Voip Report Cdr Gruppi per Data",
    source="CDR ring-group visit", family="group", grouping="group_date",
    grouping_doc="one table per group; one row per day of the range (every day listed)",
    filters=("group",), layout=LAYOUT, definitions=DEFINITIONS,
    table_title=("Calls handled", "Chiamate gestite"),
    charts_doc="per table: `by_weekday` (total, answered, unanswered; Sunday first)."))

register(ReportDef(
    id="cdr.groups_by_hour", en="Groups report by hour", it="Voip Report Cdr Gruppi per Ora",
    source="CDR ring-group visit", family="group", grouping="group_hour",
    grouping_doc="one table per group; 24 rows 00:00-23:00", filters=("group",), layout=LAYOUT,
    definitions=DEFINITIONS, table_title=("Calls handled", "Chiamate gestite"),
    charts_doc="none (tables only)."))
