"""The pass / fail family: R23 (checktime) and R24 (IVR menu): OK vs FAILED per time control or
IVR menu and per N-minute slot of the day ("Raggruppa grafico (minuti)").

Reads the derived table `gate_passes` (pbxlens.ingest.derive):
- checktime: one row per `checktime` detail line; OK = in hours (detail_checktime_in_hours,
  else an exit cause other than CLOSED), FAILED = out of hours or forced closure (C11);
- IVR (errata C12): OK = the call reached the menu (one row per `ivr` line); FAILED = a call
  addressed to an IVR (header destination type ivr) that never entered one. Such a call names
  no menu: it is assigned to the menu that the calls of the range to the same called number
  reached most often (ties: the lowest key), else to a "(no menu)" row. Beyond Nexus, the
  post-menu outcome: calls that reached the menu but left it without a routing.
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

CHART_MINUTES = FilterDef(
    "chart_minutes", "Group chart (minutes)", "Raggruppa grafico (minuti)", multi=False,
    numeric=True,
    doc="Width of the time slots of the slot chart and table, 1-1440 minutes (default 60); "
        "slots restart every day at 00:00 (C11).")

FIELDS = ("n", "ok", "failed", "unrouted")
DEFAULT_MINUTES = 60
NO_MENU = ""

# The passes of the range are summed per (control / menu, called number, minute of the day)
# first; an IVR call that never reached a menu is assigned one on those sums (only the called
# numbers of such calls are looked at), then sums are cut into N-minute slots.
SQL = """
WITH p AS (
  SELECT p.tenant, p.gkey, any_value(p.gate_name) AS gate_name, {called} AS called, p.mod,
    p.ok, count(*) AS n, count(*) FILTER (WHERE p.ok AND NOT p.routed) AS unrouted
  FROM gate_passes p
  WHERE p.day >= CAST(? AS DATE) AND p.day <= CAST(? AS DATE) AND p.kind = ? {where}
  GROUP BY p.tenant, p.gkey, {called}, p.mod, p.ok
), m AS (
  SELECT tenant, called, gkey  -- the menu with most passes, ties to the smallest key
  FROM (SELECT tenant, called, gkey, row_number() OVER (
          PARTITION BY tenant, called ORDER BY n DESC, gkey) AS rk
        FROM (SELECT tenant, called, gkey, sum(n) AS n FROM p
              WHERE gkey IS NOT NULL AND called IN (SELECT called FROM p WHERE gkey IS NULL)
              GROUP BY tenant, called, gkey))
  WHERE rk = 1
), s AS (
  SELECT p.tenant, coalesce(p.gkey, m.gkey, '') AS gkey, any_value(p.gate_name) AS gname,
    CAST(p.mod // ? AS INTEGER) AS slot, CASE WHEN p.ok THEN 'OK' ELSE 'FAILED' END AS block,
    sum(p.n) AS n, sum(p.unrouted) AS unrouted
  FROM p LEFT JOIN m ON p.gkey IS NULL AND m.tenant = p.tenant
    AND m.called IS NOT DISTINCT FROM p.called
  GROUP BY p.tenant, coalesce(p.gkey, m.gkey, ''), slot, block
), l AS (
  SELECT s.*, coalesce(d.name, s.gname, s.gkey) AS glabel
  FROM s LEFT JOIN {names} d ON d.tenant = s.tenant AND d.id = s.gkey
  WHERE 1 = 1 {label_where}
)
SELECT gkey, slot, max(glabel) AS glabel, block, GROUPING(gkey, slot) AS gid, sum(n) AS n,
  sum(CASE WHEN block = 'OK' THEN n ELSE 0 END) AS ok,
  sum(CASE WHEN block = 'FAILED' THEN n ELSE 0 END) AS failed, sum(unrouted) AS unrouted
FROM l
GROUP BY GROUPING SETS ((gkey, block), (slot, block))
"""

def slot_label(slot: int, minutes: int) -> str:
    m = slot * minutes
    return f"{m // 60:02d}:{m % 60:02d}"


@dataclass(frozen=True)
class Gate:
    """What a pass / fail report counts: the `kind` of `gate_passes` rows, the directory table
    of names, its filter, the word for a row, and whether calls that reached no gate are placed
    by their called number (IVR). Calling it builds the report."""

    kind: str
    names: str
    filter: FilterDef
    word: tuple[str, str]
    by_called: bool = False

    def query(self, p: flt.Params, d_from: date, d_to: date) -> tuple[str, list]:
        w = flt.Where()
        if p.tenant is not None:
            w.add("p.tenant = ?", p.tenant)
        calendars.hours_where(w, p, calendars.Clock("p"), d_from, d_to)
        lw = flt.Where()
        lw.any_of(["s.gkey", "coalesce(d.name, s.gname, s.gkey)"], p.values(self.filter.key))
        # only the IVR report needs the called number (to place calls that reached no menu)
        sql = SQL.format(where=w.sql(), names=self.names, label_where=lw.sql(),
                         called="p.called" if self.by_called else "CAST(NULL AS TEXT)")
        minutes = p.number("chart_minutes", DEFAULT_MINUTES)
        return sql, [d_from.isoformat(), d_to.isoformat(), self.kind, *w.args, minutes,
                     *lw.args]

    def facts(self, p: flt.Params, d_from: date, d_to: date) -> tuple[str, list]:
        """The passes behind the cells (drill-down): the report's SQL kept per pass (same
        filters, the same menu assigned to calls that reached none, the same slots)."""
        w = flt.Where()
        if p.tenant is not None:
            w.add("p.tenant = ?", p.tenant)
        calendars.hours_where(w, p, calendars.Clock("p"), d_from, d_to)
        lw = flt.Where()
        lw.any_of(["s.gkey", "coalesce(d.name, s.gname, s.gkey)"], p.values(self.filter.key))
        called = "p.called" if self.by_called else "CAST(NULL AS TEXT)"
        # the report filters on the name of each (gate, slot, block) sum: the same window,
        # needed only when a gate is filtered
        gname = ("any_value(s.gate_name) OVER (PARTITION BY s.tenant, s.gkey, s.slot, s.block)"
                 if lw.parts else "s.gate_name")
        sql = f"""
WITH r AS (
  SELECT p.tenant, p.unique_id, p.leg_branch, p.seq, p.gkey AS gkey0, p.gate_name,
    {called} AS called, p.mod, p.ok, p.routed
  FROM gate_passes p
  WHERE p.day >= CAST(? AS DATE) AND p.day <= CAST(? AS DATE) AND p.kind = ? {w.sql()}
), m AS (
  SELECT tenant, called, gkey
  FROM (SELECT tenant, called, gkey, row_number() OVER (
          PARTITION BY tenant, called ORDER BY n DESC, gkey) AS rk
        FROM (SELECT tenant, called, gkey0 AS gkey, count(*) AS n FROM r
              WHERE gkey0 IS NOT NULL AND called IN (SELECT called FROM r WHERE gkey0 IS NULL)
              GROUP BY tenant, called, gkey0))
  WHERE rk = 1
), s AS (
  SELECT r.*, coalesce(r.gkey0, m.gkey, '') AS gkey, CAST(r.mod // ? AS INTEGER) AS slot,
    CASE WHEN r.ok THEN 'OK' ELSE 'FAILED' END AS block,
    CASE WHEN r.ok AND NOT r.routed THEN 1 ELSE 0 END AS unrouted
  FROM r LEFT JOIN m ON r.gkey0 IS NULL AND m.tenant = r.tenant
    AND m.called IS NOT DISTINCT FROM r.called
), g AS (
  SELECT s.*, {gname} AS gname FROM s
)
SELECT s.*, coalesce(d.name, s.gname, s.gkey) AS gate FROM g s
LEFT JOIN {self.names} d ON d.tenant = s.tenant AND d.id = s.gkey
WHERE 1 = 1 {lw.sql()}"""  # noqa: S608 -- names and SQL fragments from code; values bound
        minutes = p.number("chart_minutes", DEFAULT_MINUTES)
        return sql, [d_from.isoformat(), d_to.isoformat(), self.kind, *w.args, minutes,
                     *lw.args]

    def __call__(self, con, defn: Report, p: flt.Params, d_from: date, d_to: date) -> Built:
        minutes = p.number("chart_minutes", DEFAULT_MINUTES)
        per_gate: dict = {}
        per_slot: dict = {}
        labels: dict[str, str] = {}
        for r in cm.records(con, *self.query(p, d_from, d_to)):
            if r["gid"] == 1:  # (gkey, block)
                cm.put(per_gate, r["gkey"], r["block"], r, FIELDS)
                labels[r["gkey"]] = r["glabel"] or ""
            else:  # (slot, block)
                cm.put(per_slot, str(r["slot"]), r["block"], r, FIELDS)
        if NO_MENU in labels:
            labels[NO_MENU] = cm.tr(p.lang, "(no menu)", "(nessun menu)")
        cm.add_filtered(con, labels, p.values(self.filter.key), self.names)
        order = sorted(labels, key=lambda k: (k == NO_MENU, labels[k].lower(), k))
        slot_keys = [str(s) for s in range(-(-1440 // minutes))]
        slot_x = [slot_label(int(k), minutes) for k in slot_keys]
        word = cm.tr(p.lang, *self.word)
        raws = [
            RawTable("gates", word, [RowSpec(k, labels[k]) for k in order], per_gate,
                     row_header=word),
            RawTable("slots", f"{cm.tr(p.lang, 'Slots of', 'Fasce di')} {minutes} min",
                     [RowSpec(k, x) for k, x in zip(slot_keys, slot_x, strict=True)], per_slot,
                     row_header=cm.tr(p.lang, "Slot", "Fascia")),
        ]
        return raws, _charts(p.lang, minutes, per_gate, per_slot, slot_keys, slot_x)


def _charts(lang: str, minutes: int, per_gate: dict, per_slot: dict, slot_keys: list[str],
            slot_x: list[str]) -> list[dict]:
    tot_ok = sum(int(fs.get("OK", {}).get("n", 0)) for fs in per_gate.values())
    tot_ko = sum(int(fs.get("FAILED", {}).get("n", 0)) for fs in per_gate.values())

    def ser(block: str) -> list[int]:
        return [int(per_slot.get(k, {}).get(block, {}).get("n", 0)) for k in slot_keys]

    return [
        {"id": "ok_pie", "title": "OK / FAILED", "type": "pie", "x": ["OK", "FAILED"],
         "series": [{"key": "n", "label": "quantity", "colors": [cm.GREEN, cm.RED],
                     "data": [tot_ok, tot_ko]}]},
        {"id": "by_slot", "title": cm.tr(lang, f"By {minutes}-minute slot",
                                         f"Per fascia di {minutes} minuti"),
         "type": "combo", "x": slot_x,
         "series": [{"key": "OK", "label": "OK", "color": cm.GREEN, "kind": "column",
                     "data": ser("OK")},
                    {"key": "FAILED", "label": "FAILED", "color": cm.RED, "kind": "column",
                     "data": ser("FAILED")}]},
    ]


CHECKTIMES = Gate("checktime", "checktimes", FilterDef(
    "checktime", "Checktime", "Checktime", doc="Time control id or name.",
    options=flt.DirectoryOptions("SELECT id, coalesce(name, id) FROM checktimes"
                                 " WHERE tenant = ? ORDER BY 2")), word=("Checktime", "Checktime"))
IVR_MENUS = Gate("ivr", "ivrs", FilterDef(
    "ivr", "IVR", "IVR", doc="IVR menu id or name.",
    options=flt.DirectoryOptions("SELECT id, coalesce(name, id) FROM ivrs WHERE tenant = ?"
                                 " ORDER BY 2")), word=("IVR menu", "Menu IVR"), by_called=True)


# ----------------------------------------------------------------------------- definitions

def _is_ok(b: str) -> bool:
    return b == "OK"


def _is_failed(b: str) -> bool:
    return b == "FAILED"


def _layout(ivr: bool):
    groups = [
        Group("total", "TOTAL", "TOTALE", (cm.QTY,)),
        Group("ok", "OK", "OK", (
            M("n", "quantity", "quantità", blocks=_is_ok),
            M("pct", "%", "%", "percent", "pct", "ok", ("n",)))),
        Group("failed", "FAILED", "FAILED", (
            M("n", "quantity", "quantità", blocks=_is_failed),
            M("pct", "%", "%", "percent", "pct", "failed", ("n",)))),
    ]
    if ivr:
        groups.append(Group("left_menu", "LEFT IN MENU (beyond Nexus)",
                            "USCITE DAL MENU (oltre Nexus)", (
                                M("n", "quantity", "quantità", field="unrouted",
                                  doc="reached the menu, then hung up or timed out without a "
                                      "routing"),)))
    return tuple(groups)


_CT_DEFS = (
    ("grain", "One row per checktime detail line (a call that went through a time control)."),
    ("OK", "In hours: the PBX routed the call to the in-periods destination "
           "(detail_checktime_in_hours = 1; without that field, an exit cause other than "
           "CLOSED) (C11)."),
    ("FAILED", "Out of hours (failover) or forced closure: checktime_in_hours = 0, or exit "
               "cause CLOSED."),
    ("slot", "floor(minute of the day of the call start / N), N = chart_minutes (default 60), "
             "in the PBX timezone; the slot table and chart sum every day of the range."),
)

_IVR_DEFS = (
    ("grain", "One row per IVR detail line (a pass through a menu), plus one per call "
              "addressed to an IVR (header destination type ivr) that never reached a menu."),
    ("OK", "The call reached the menu (errata C12: success is measured before the menu)."),
    ("FAILED", "The call was addressed to an IVR but never entered one (e.g. closed by a time "
               "control). It is assigned to the menu most often reached by the range's calls "
               "to the same called number, else to the '(no menu)' row."),
    ("left in menu", "Beyond Nexus: reached the menu but left it without a routing (IVR exit "
                     "cause other than NCC/OK: caller hung up, timeout, invalid choice)."),
    ("slot", "floor(minute of the day of the call start / N), N = chart_minutes (default 60), "
             "in the PBX timezone; the slot table and chart sum every day of the range."),
)

register_report(Report(
    id="cdr.checktime", en="Checktime report", it="Voip Report Cdr Checktime",
    source="CDR checktime line", build=CHECKTIMES,
    tables_doc="two tables: one row per time control; one row per N-minute slot of the day",
    filters=(CHECKTIMES.filter, CHART_MINUTES, calendars.HOURS), layout=_layout(False),
    definitions=_CT_DEFS, facts=drilldown.Facts(
        CHECKTIMES.facts, row={"gates": "gkey", "slots": "slot"},
        extra=(("gate", "checktime", "checktime", "text"),), order="seq"),
    table_title=("Checktime", "Checktime"),
    charts_doc="report charts: `ok_pie` (OK green vs FAILED red), `by_slot` (OK and FAILED "
               "columns per N-minute slot)."))

register_report(Report(
    id="cdr.ivr", en="IVR menu report", it="Voip Report Cdr Menu IVR",
    source="CDR IVR line / call addressed to an IVR", build=IVR_MENUS,
    tables_doc="two tables: one row per IVR menu; one row per N-minute slot of the day",
    filters=(IVR_MENUS.filter, CHART_MINUTES, calendars.HOURS), layout=_layout(True),
    definitions=_IVR_DEFS, facts=drilldown.Facts(
        IVR_MENUS.facts, row={"gates": "gkey", "slots": "slot"},
        extra=(("gate", "IVR menu", "menu IVR", "text"),), order="seq"),
    table_title=("IVR menu", "Menu IVR"),
    charts_doc="report charts: `ok_pie` (OK green vs FAILED red), `by_slot` (OK and FAILED "
               "columns per N-minute slot)."))
