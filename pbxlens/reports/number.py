"""Number-class reports: R20 (conversation times of outgoing calls by number class, per month)
and R25 (outgoing calls to mobile vs fixed numbers by status, fixed calls per province).

The called numbers of the range are classified ONCE each (DISTINCT) by the SQL of
`pbxlens.models.numbers` (phonenumbers' Italian patterns + the area-code table, after the
`line_prefix` setting is stripped) and joined back to the calls: no Python per call.
"""

from __future__ import annotations

from datetime import date

from pbxlens.config import get_settings
from pbxlens.models import numbers, vocabulary
from pbxlens.reports import calendars, drilldown
from pbxlens.reports import common as cm
from pbxlens.reports import filters as flt
from pbxlens.reports import format as fmt
from pbxlens.reports.catalog import BlockGroups, Built, FilterDef, Group, Report, register_report
from pbxlens.reports.common import M
from pbxlens.reports.engine import RawTable, RowSpec


def province_options(con, tenant: str | None, lang: str) -> list[dict]:
    return [{"value": p, "label": p} for p in numbers.provinces()]


PROVINCE = FilterDef("province", "Province", "Provincia", options=province_options,
                     doc="Italian province code (BG, MI ...) of fixed numbers.")

# Outgoing calls of the range (start in PBX local time, C22) with their talk seconds
# (end - answer, C6) and the number they called; {where}: call-header filters.
_CALLS = """SELECT c.tenant, coalesce(c.called, '') AS num, CAST(c.start_local AS DATE) AS day,
    c.status,
    CASE WHEN c.answer_ts IS NOT NULL AND c.end_ts IS NOT NULL
         THEN greatest(CAST(date_diff('second', c.answer_ts, c.end_ts) AS BIGINT), 0)
         ELSE 0 END AS talk
  FROM calls c
  WHERE c.direction = 'outgoing' AND c.start_local >= CAST(? AS TIMESTAMP)
    AND c.start_local < CAST(? AS DATE) + INTERVAL 1 DAY {where}"""

CONV_SQL = """
WITH o AS MATERIALIZED ({calls}),
k AS ({classify})
SELECT o.day, strftime(o.day, '%m-%Y') AS month, k.cls, GROUPING(o.day) AS gid,
  count(*) AS n, sum(o.talk) AS talk
FROM o JOIN k ON k.num = o.num
GROUP BY GROUPING SETS ((o.day, k.cls), (month, k.cls))
"""

PROV_SQL = """
WITH o AS MATERIALIZED ({calls}),
k AS ({classify})
SELECT k.cls, coalesce(k.province, '') AS province, o.status, count(*) AS n
FROM o JOIN k ON k.num = o.num
WHERE k.cls IN ('mobile', 'fixed') {pwhere}
GROUP BY k.cls, province, o.status
"""


def _calls(p: flt.Params, d_from: date, d_to: date) -> tuple[str, list]:
    w = flt.Where()
    flt.call_filters(w, p)
    calendars.hours_where(w, p, calendars.Clock("c", instant="c.start_ts"), d_from, d_to)
    return _CALLS.format(where=w.sql()), [d_from.isoformat(), d_to.isoformat(), *w.args]


def _classify() -> str:
    return numbers.classify_sql("SELECT DISTINCT num FROM o")


def conversation_query(p: flt.Params, d_from: date, d_to: date) -> tuple[str, list]:
    calls, args = _calls(p, d_from, d_to)
    return (CONV_SQL.format(calls=calls, classify=_classify()),
            [*args, get_settings().line_prefix])


def provinces_query(p: flt.Params, d_from: date, d_to: date) -> tuple[str, list]:
    calls, args = _calls(p, d_from, d_to)
    pw = flt.Where()
    provs = [v.strip().upper() for v in p.values("province")]
    if provs:  # restricts the fixed calls; mobile numbers have no province
        ph = ", ".join("?" for _ in provs)
        pw.add(f"(k.cls = 'mobile' OR k.province IN ({ph}))", *provs)
    return (PROV_SQL.format(calls=calls, classify=_classify(), pwhere=pw.sql()),
            [*args, get_settings().line_prefix, *pw.args])


def provinces_facts(p: flt.Params, d_from: date, d_to: date) -> tuple[str, list]:
    """The calls behind the cells (drill-down): mobile and fixed calls as `provinces_query`,
    each with its class, province and status block."""
    calls, args = _calls(p, d_from, d_to)
    calls = calls.replace("SELECT c.tenant,", "SELECT c.tenant, c.unique_id, c.leg_branch,", 1)
    pw = flt.Where()
    provs = [v.strip().upper() for v in p.values("province")]
    if provs:
        ph = ", ".join("?" for _ in provs)
        pw.add(f"(k.cls = 'mobile' OR k.province IN ({ph}))", *provs)
    sql = f"""WITH o AS MATERIALIZED ({calls}),
k AS ({_classify()})
SELECT o.tenant, o.unique_id, o.leg_branch, k.cls,
  CASE WHEN k.cls = 'fixed' THEN coalesce(nullif(k.province, ''), '?') END AS prov,
  CASE WHEN o.status IN ('?', '??') THEN '??' ELSE o.status END AS block
FROM o JOIN k ON k.num = o.num
WHERE k.cls IN ('mobile', 'fixed') {pw.sql()}"""  # noqa: S608 -- names and SQL fragments from code; values bound
    return sql, [*args, get_settings().line_prefix, *pw.args]


def _months(d_from: date, d_to: date) -> list[str]:
    out, y, m = [], d_from.year, d_from.month
    while (y, m) <= (d_to.year, d_to.month):
        out.append(f"{m:02d}-{y}")
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


CONV_CLASSES = ("toll_free", "fixed", "mobile", "international")


def conversation_times(con, defn: Report, p: flt.Params, d_from: date, d_to: date) -> Built:
    """cdr.conversation_times (R20): talk seconds per month and number class."""
    cols, rows = cm.fetch(con, *conversation_query(p, d_from, d_to))
    by_month: dict = {}
    by_day: dict = {}
    for row in rows:
        r = dict(zip(cols, row, strict=True))
        if r["cls"] not in CONV_CLASSES:
            continue  # premium, shared cost, short codes: not one of the four columns (C13)
        if r["gid"] == 1:
            cm.put(by_month, r["month"], r["cls"], r, ("n", "talk"))
        else:
            cm.put(by_day, r["day"].isoformat(), r["cls"], r, ("n", "talk"))
    it = p.lang == "it"
    months = _months(d_from, d_to)
    raw = RawTable("months", defn.text(defn.table_title, p.lang),
                   [RowSpec(m, m) for m in months], by_month,
                   row_header="Mese" if it else "Month")
    days = cm.days_between(d_from, d_to)
    colors = {"toll_free": cm.GREEN, "fixed": "#1565c0", "mobile": cm.ORANGE,
              "international": "#6a1b9a"}
    chart = {"id": "daily_talk", "title": "Tempi di conversazione per giorno (s)" if it else
             "Talk time per day (s)", "type": "combo", "x": [fmt.day_label(d) for d in days],
             "series": [{"key": c, "label": numbers.LABELS[c][1 if it else 0], "kind": "line",
                         "color": colors[c],
                         "data": [int(by_day.get(d.isoformat(), {}).get(c, {}).get("talk", 0))
                                  for d in days]} for c in CONV_CLASSES]}
    return [raw], [chart]


_STATUS_IT = {"OK": "OK", "CANCELED": "ANNULLATA", "NOANSWER": "SENZA RISPOSTA",
              "UNAVAILABLE": "NON DISPONIBILE", "BUSY": "OCCUPATO", "FAILED": "FAILED",
              "FORBIDDEN": "VIETATA", "??": "??"}
STATUS_ORDER = ("OK", "CANCELED", "NOANSWER", "UNAVAILABLE", "BUSY", "FAILED", "FORBIDDEN", "??")


def provinces(con, defn: Report, p: flt.Params, d_from: date, d_to: date) -> Built:
    """cdr.provinces (R25): mobile vs fixed calls by status, fixed calls per province."""
    rows = con.execute(*provinces_query(p, d_from, d_to)).fetchall()
    kinds: dict = {}
    prov: dict = {}
    for cls, pr, status, n in rows:
        st = "??" if status in ("?", "??") else status
        rec = {"n": n}
        cm.put(kinds, cls, st, rec, ("n",))
        if cls == "fixed":
            cm.put(prov, pr or "?", st, rec, ("n",))
    it = p.lang == "it"
    lang = p.lang
    t1 = RawTable("mobile_fixed", "Numero chiamate Cellulari - Fissi" if it else
                  "Calls to mobile and fixed numbers",
                  [RowSpec("mobile", "cell" if it else "mobile"),
                   RowSpec("fixed", "fisso" if it else "fixed")], kinds,
                  row_header="Tipo" if it else "Type")
    keys = sorted(prov, key=lambda k: (k == "?", k))
    t2 = RawTable("provinces", "Numero chiamate Fissi - Province" if it else
                  "Calls to fixed numbers by province",
                  [RowSpec(k, k) for k in keys], prov,
                  row_header="Provincia" if it else "Province")

    def status_pie(cid, title, facts):
        present = [s for s in STATUS_ORDER if facts.get(s, {}).get("n")]
        present += sorted(s for s in facts if s not in STATUS_ORDER and facts[s].get("n"))
        return {"id": cid, "title": title, "type": "pie", "codes": present,
                "x": [_STATUS_IT.get(s, s) if it else vocabulary.label("status", s, lang)
                      for s in present],
                "series": [{"key": "n", "label": "quantity",
                            "data": [int(facts[s]["n"]) for s in present]}]}

    def tot(facts):
        return int(sum(v.get("n", 0) for v in facts.values()))

    charts = [
        {"id": "mobile_fixed", "title": "Chiamate Cellulari - Fissi" if it else
         "Mobile - fixed calls", "type": "pie",
         "x": ["cellulare", "fisso"] if it else ["mobile", "fixed"],
         "series": [{"key": "n", "label": "quantity", "colors": [cm.ORANGE, "#1565c0"],
                     "data": [tot(kinds.get("mobile", {})), tot(kinds.get("fixed", {}))]}]},
        status_pie("mobile_status", "Chiamate Cellulari - Stato" if it else
                   "Mobile calls - status", kinds.get("mobile", {})),
        status_pie("fixed_status", "Chiamate Fissi - Stato" if it else "Fixed calls - status",
                   kinds.get("fixed", {})),
    ]
    return [t1, t2], charts


# ----------------------------------------------------------------------------- definitions

def _cls_group(c: str) -> Group:
    en, it_ = numbers.LABELS[c]
    return Group(c, en, it_, (M("talk", "talk", "tempo conversazione", "duration",
                                field="talk"),),
                 blocks=lambda b, c=c: b == c)


register_report(Report(
    id="cdr.conversation_times", en="Conversation times",
    it="Report tempi conversazione chiamate in uscita", source="CDR call (outgoing)",
    build=conversation_times,
    tables_doc="every month of the range (MM-YYYY) x four number classes",
    filters=(calendars.HOURS,),
    layout=tuple(_cls_group(c) for c in CONV_CLASSES),
    charts_doc="`daily_talk`: talk seconds per day, one line per class.",
    definitions=(
        ("talk", "end - answer of each answered outgoing call, whole seconds (C6)."),
        ("classes", "the called number after the `line_prefix` setting is stripped and "
                    "+39/0039 made national: international (+ or 00 with another country), "
                    "toll-free, mobile and fixed by phonenumbers' Italian patterns; premium, "
                    "shared-cost and short numbers are in none of the four columns (C13)."),
    ),
    table_title=("Outgoing calls' conversation times", "Tempi di conversazione chiamate in "
                 "uscita"),
))


register_report(Report(
    id="cdr.provinces", en="Provinces", it="Voip Report Cdr Province",
    source="CDR call (outgoing)", build=provinces,
    tables_doc="two tables: mobile / fixed rows, and one row per province of fixed numbers; "
               "columns by call status",
    filters=(flt.STATUS, PROVINCE, calendars.HOURS),
    facts=drilldown.Facts(provinces_facts, table={"provinces": ("cls", "fixed")},
                          row={"mobile_fixed": "cls", "provinces": "prov"},
                          extra=(("prov", "province", "provincia", "text"),)),
    layout=(
        Group("total", "TOTAL", "TOTALE", (M("n", "quantity", "quantità"),)),
        BlockGroups(order=STATUS_ORDER, metrics_for=lambda c: (M("n", "quantity", "quantità"),),
                    labels={s: (vocabulary.label("status", s, "en"), _STATUS_IT[s])
                            for s in STATUS_ORDER},
                    doc="one group per call status present (OK, ANNULLATA, SENZA RISPOSTA, "
                        "NON DISPONIBILE, OCCUPATO, FAILED, VIETATA, ??)"),
    ),
    charts_doc="pies `mobile_fixed`, `mobile_status`, `fixed_status`.",
    definitions=(
        ("calls", "outgoing calls, classified by the called number (C13: `line_prefix` "
                  "stripped first; phonenumbers' Italian mobile and fixed-line patterns)."),
        ("province", "longest matching area code of the fixed number in the table of Italian "
                     "area codes (pbxlens/models/data/it_area_codes.csv); the Province filter "
                     "restricts fixed calls only."),
    ),
))
