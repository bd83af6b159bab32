"""The Call Center sub-module (nexus_reports.md §2, R28-R34) over the Call Center CDR:
`queue_calls` (one row per call and queue visit) and `cc_agent_legs` (one row per presentation
of a queue call to an operator account), both loaded by pbxlens.ingest.kalliope_callcenter.

Differences from the CDR sub-module (§2): rows are placed by their **end** time (the queue
call's exit, C22: the PBX's Call Center CDR filters on it, L2585); a Direction filter
(incoming / local, C26); the CANCELED NOWAIT block (L5696); the welcome-message waits (C7).
Blocks, metrics and layouts are the CDR families' (queue.py, operator.py), so the two
sub-modules read alike.
"""

from __future__ import annotations

from datetime import date

from pbxlens import PbxlensError
from pbxlens.ingest.callcenter_fields import DIRECTIONS
from pbxlens.reports import common as cm
from pbxlens.reports import engine
from pbxlens.reports import filters as flt
from pbxlens.reports import format as fmt
from pbxlens.reports import operator as op_family
from pbxlens.reports import queue as q_family
from pbxlens.reports.catalog import (
    BlockGroups,
    FilterDef,
    Group,
    ReportDef,
    SummaryField,
    register,
    register_filter,
)
from pbxlens.reports.common import M
from pbxlens.reports.engine import RawTable, RowSpec

engine.FAMILIES["callcenter"] = __name__

register_filter(FilterDef(
    "direction", "Direction", "Direzione",
    doc=("Call Center reports: incoming (Ingresso: from an inbound line) or local "
         "(Locale: from an internal extension) (C26); billing reports: in or out "
         "(incoming/outgoing, ingresso/uscita accepted). One key, read by each family "
         "in its own sense.")))

_D = "duration"
Q_FIELDS = ("n", "tot", "talk", "dur", "queuing", "resp", "wait", "welcome", "qwait", "hold")
L_FIELDS = op_family.FIELDS
_QLABEL = "coalesce(qq.name, nullif(g.queue_name, ''), g.queue_id, '')"
_LABELS = {**cm.CAUSE_LABELS, "TRASFERIMENTO": ("TRANSFER", "TRASFERIMENTO")}


def _directions(values: list[str]) -> list[str]:
    out = []
    for v in values:
        k = v.strip().lower()
        code = next((c for c, sp in DIRECTIONS.items() if k in sp), None)
        if code is None:
            raise PbxlensError(f"--filter direction: expected incoming or local, got {v!r}")
        out.append(code)
    return out


def _common_where(w: flt.Where, p: flt.Params, a: str) -> None:
    flt.call_filters(w, p, a)  # tenant, status (C25)
    w.any_of([f"{a}.direction"], _directions(p.values("direction")))


def _gid_of(keys: tuple[str, ...]):
    def gid(*present: str) -> int:
        g = 0
        for i, k in enumerate(keys):
            if k not in present:
                g |= 1 << (len(keys) - 1 - i)
        return g
    return gid


def _slots(recs: list[dict], key: str, fields: tuple[str, ...]) -> dict:
    out: dict = {}
    for r in recs:
        cm.put(out, r[key], r["block"], r, fields)
    return out


def _queue_order(con, labels: dict[str, str], p: flt.Params) -> list[str]:
    for q in p.values("queue"):  # a filtered queue is shown even without data
        if q not in labels and q not in labels.values():
            for qid, name in con.execute("SELECT id, name FROM queues WHERE id = ? OR name = ?",
                                         [q, q]).fetchall():
                labels.setdefault(qid, name or qid)
    return sorted(labels, key=lambda k: (k == "", (labels[k] or "").lower(), k))


# ============================================================================ queue calls
# R29 / R31 / R33: the queue calls of the range are summed per finest key and queue identity
# first; directory names are joined on those sums, then rolled up into grouping sets.
QUEUE_SQL = f"""
WITH g AS (
  SELECT v.tenant, v.queue_id, v.queue_name, {{fine}}, count(*) AS n, sum(v.tot_s) AS tot,
    sum(v.talk_s) AS talk, sum(v.dur_s) AS dur, sum(v.queuing_s) AS queuing,
    sum(v.resp_s) AS resp, sum(v.wait_s) AS wait, sum(v.welcome_s) AS welcome,
    sum(v.queue_wait_s) AS qwait, sum(v.hold_s) AS hold
  FROM queue_calls v
  WHERE v.day >= CAST(? AS DATE) AND v.day <= CAST(? AS DATE) {{where}}
  GROUP BY v.tenant, v.queue_id, v.queue_name, {{fine}}
), l AS (
  SELECT g.*, {_QLABEL} AS qlabel FROM g
  LEFT JOIN queues qq ON qq.tenant = g.tenant AND qq.id = g.queue_id
  WHERE 1 = 1 {{label_where}}
)
SELECT {{keys}}, max(qlabel) AS qlabel, block, {{gid}} AS gid, sum(n) AS n, sum(tot) AS tot,
  sum(talk) AS talk, sum(dur) AS dur, sum(queuing) AS queuing, sum(resp) AS resp,
  sum(wait) AS wait, sum(welcome) AS welcome, sum(qwait) AS qwait, sum(hold) AS hold
FROM l GROUP BY GROUPING SETS ({{sets}})
"""
Q_GROUPINGS = {
    "queue": (("qkey", "dow", "hr"), "(qkey, block), (dow, block), (hr, block)"),
    "queue_date": (("qkey", "day", "dow"), "(qkey, day, block), (qkey, dow, block)"),
    "queue_hour": (("qkey", "hr"), "(qkey, hr, block)"),
}


def _queue_query(defn: ReportDef, p: flt.Params, d_from: date, d_to: date):
    w = flt.Where()
    _common_where(w, p, "v")
    if not p.flag("empty_queue"):
        w.add("v.qkey <> ''")
    w.any_of(["v.exit_cause", "v.block"], flt.cause_codes(p.values("exit_cause")))
    lw = flt.Where()
    lw.any_of(["g.qkey", _QLABEL], p.values("queue"))
    keys, sets = Q_GROUPINGS[defn.grouping]
    sql = QUEUE_SQL.format(fine=", ".join(f"v.{k}" for k in (*keys, "block")), where=w.sql(),
                           label_where=lw.sql(), keys=", ".join(keys), sets=sets,
                           gid="GROUPING(" + ", ".join(keys) + ")")
    return sql, [d_from.isoformat(), d_to.isoformat(), *w.args, *lw.args]


def _build_queues(con, defn: ReportDef, p: flt.Params, d_from: date, d_to: date):
    sql, args = _queue_query(defn, p, d_from, d_to)
    cols, rows = cm.fetch(con, sql, args)
    keys, _s = Q_GROUPINGS[defn.grouping]
    gid = _gid_of(keys)
    it = p.lang == "it"
    recs = [dict(zip(cols, r, strict=True)) for r in rows]
    by: dict[int, list[dict]] = {}
    labels: dict[str, str] = {}
    for r in recs:
        by.setdefault(r["gid"], []).append(r)
        if r["qkey"] is not None:
            labels[r["qkey"]] = r["qlabel"] or ""
    order = _queue_order(con, labels, p)
    title = defn.table_title[1] if it else defn.table_title[0]
    wk_title = "Per giorno della settimana" if it else "By weekday"
    if defn.grouping == "queue":
        facts: dict = {}
        for r in by.get(gid("qkey"), []):
            cm.put(facts, r["qkey"], r["block"], r, Q_FIELDS)
        allb: dict = {}
        for fs in facts.values():
            engine.add_facts(allb, fs)
        charts = [cm.pie("answered_pie", "Risposte / non risposte" if it else
                         "Answered / unanswered", allb),
                  cm.slot_chart("by_weekday", wk_title, cm.weekday_x(p.lang),
                                _slots(by.get(gid("dow"), []), "dow", Q_FIELDS), list(range(7))),
                  cm.slot_chart("by_hour", "Per ora" if it else "By hour", cm.hour_x(),
                                _slots(by.get(gid("hr"), []), "hr", Q_FIELDS), list(range(24)))]
        return [RawTable("queues", title, [RowSpec(k, labels[k]) for k in order], facts,
                         row_header="Coda" if it else "Queue")], charts
    raws = []
    for qk in order:
        facts = {}
        qt = f"{title} {'coda' if it else 'queue'}: {labels[qk]}"
        if defn.grouping == "queue_date":
            for r in by.get(gid("qkey", "day"), []):
                if r["qkey"] == qk:
                    cm.put(facts, r["day"].isoformat(), r["block"], r, Q_FIELDS)
            rows_ = [RowSpec(d.isoformat(), fmt.day_label(d))
                     for d in cm.days_between(d_from, d_to)]
            dow = _slots([r for r in by.get(gid("qkey", "dow"), []) if r["qkey"] == qk], "dow",
                         Q_FIELDS)
            charts = [cm.slot_chart("by_weekday", wk_title, cm.weekday_x(p.lang), dow,
                                    list(range(7)))]
            raws.append(RawTable(qk, qt, rows_, facts, charts=charts,
                                 row_header="Data" if it else "Date"))
        else:
            for r in by.get(gid("qkey", "hr"), []):
                if r["qkey"] == qk:
                    cm.put(facts, str(r["hr"]), r["block"], r, Q_FIELDS)
            rows_ = [RowSpec(str(h), fmt.hour_label(h)) for h in range(24)]
            raws.append(RawTable(qk, qt, rows_, facts, row_header="Ora" if it else "Hour"))
    return raws, []


# ============================================================================ R30 callers
# C8: each incoming call once across the queues it visited; answered when any visit was
# answered; placed on the (end) day of its first visit.
CALLERS_SQL = """
WITH c AS (
  SELECT v.tenant, v.unique_id, arg_min(v.day, v.enter_ts) AS day, bool_or(v.answered) AS ans
  FROM queue_calls v
  WHERE v.day >= CAST(? AS DATE) AND v.day <= CAST(? AS DATE) AND v.direction = 'incoming'
    {where}
  GROUP BY v.tenant, v.unique_id
)
SELECT day, CASE WHEN ans THEN 'ANSWER' ELSE 'UNANSWERED' END AS block, count(*) AS n
FROM c GROUP BY ALL
"""


def _build_callers(con, defn: ReportDef, p: flt.Params, d_from: date, d_to: date):
    w = flt.Where()
    _common_where(w, p, "v")
    if not p.flag("empty_queue"):
        w.add("v.qkey <> ''")
    if p.values("queue"):
        w.add("(v.qkey IN (SELECT unnest(?)) OR v.queue_name IN (SELECT unnest(?)) OR v.queue_id"
              " IN (SELECT id FROM queues WHERE name IN (SELECT unnest(?))))",
              p.values("queue"), p.values("queue"), p.values("queue"))
    cols, rows = cm.fetch(con, CALLERS_SQL.format(where=w.sql()),
                          [d_from.isoformat(), d_to.isoformat(), *w.args])
    it = p.lang == "it"
    facts: dict = {}
    for row in rows:
        r = dict(zip(cols, row, strict=True))
        cm.put(facts, r["day"].isoformat(), r["block"], r, ("n",))
    days = cm.days_between(d_from, d_to)
    allb: dict = {}
    for fs in facts.values():
        engine.add_facts(allb, fs)
    charts = [cm.pie("answered_pie", "Risposte / non risposte" if it else
                     "Answered / unanswered", allb),
              cm.slot_chart("by_day", "Per giorno" if it else "By day",
                            [fmt.day_label(d) for d in days], facts,
                            [d.isoformat() for d in days])]
    table = RawTable("callers", "Chiamate in ingresso" if it else "Incoming calls",
                     [RowSpec(d.isoformat(), fmt.day_label(d)) for d in days], facts,
                     row_header="Data" if it else "Date")
    return [table], charts


# ============================================================================ R28 dashboard
DASH_SQL = """
WITH g AS (
  SELECT v.day, v.hr, v.dow, v.direction, v.block AS b, count(*) AS n, sum(v.tot_s) AS dur
  FROM queue_calls v
  WHERE v.day >= CAST(? AS DATE) AND v.day <= CAST(? AS DATE) {where}
  GROUP BY v.day, v.hr, v.dow, v.direction, v.block
), c AS (
  SELECT day, hr, dow, direction || '|' || b AS block, n, dur FROM g
)
SELECT day, hr, dow, block, GROUPING(day, hr, dow) AS gid, sum(n) AS n, sum(dur) AS dur
FROM c GROUP BY GROUPING SETS ((day, block), (hr, block), (dow, block))
"""
DIRS = ("incoming", "local")


def _dir(d: str):
    return lambda b: b.split("|", 1)[0] == d


def _served(b: str) -> bool:
    return cm.is_answered(b.split("|", 1)[1])


def _unserved(b: str) -> bool:
    return not _served(b)


def _and(*preds):
    return lambda b: all(f(b) for f in preds)


def _build_dashboard(con, defn: ReportDef, p: flt.Params, d_from: date, d_to: date):
    w = flt.Where()
    _common_where(w, p, "v")
    cols, rows = cm.fetch(con, DASH_SQL.format(where=w.sql()),
                          [d_from.isoformat(), d_to.isoformat(), *w.args])
    it = p.lang == "it"
    facts: dict[str, dict] = {"day": {}, "hr": {}, "dow": {}}
    kinds = {0b011: ("day", lambda r: r["day"].isoformat()),
             0b101: ("hr", lambda r: str(r["hr"])), 0b110: ("dow", lambda r: str(r["dow"]))}
    for row in rows:
        r = dict(zip(cols, row, strict=True))
        kind, keyf = kinds[r["gid"]]
        cm.put(facts[kind], keyf(r), r["block"], r, ("n", "dur"))
    days = cm.days_between(d_from, d_to)
    raws = [
        RawTable("daily", "Totale" if it else "Total",
                 [RowSpec(d.isoformat(), fmt.day_label(d)) for d in days], facts["day"],
                 row_header="Data" if it else "Date"),
        RawTable("hourly", "Ripartizione oraria" if it else "Hourly breakdown",
                 [RowSpec(str(h), fmt.hour_label(h)) for h in range(24)], facts["hr"],
                 row_header="Ora" if it else "Hour"),
        RawTable("weekly", "Ripartizione settimanale" if it else "Weekday breakdown",
                 [RowSpec(str(i), fmt.weekday_label(i, p.lang)) for i in range(7)],
                 facts["dow"], row_header="Giorno" if it else "Day"),
    ]
    return raws, _dash_charts(facts, days, p.lang)


def _dash_charts(facts: dict, days: list[date], lang: str) -> list[dict]:
    it = lang == "it"

    def series(by_slot: dict, slots: list[str], field: str) -> list[dict]:
        # one pass over each slot's blocks: (direction, served) -> sum
        sums = []
        for sl in slots:
            acc: dict = {}
            for b, v in by_slot.get(sl, {}).items():
                d, blk = b.split("|", 1)
                k = (d, cm.is_answered(blk))
                acc[k] = acc.get(k, 0) + int(v.get(field, 0))
            sums.append(acc)
        out = []
        for d in DIRS:
            out.append({"key": f"{d}_total", "label": f"{d} total", "color": cm.ORANGE,
                        "kind": "column", "data": [a.get((d, True), 0) + a.get((d, False), 0)
                                                   for a in sums]})
            for ok, label in ((True, "answered"), (False, "unanswered")):
                out.append({"key": f"{d}_{label}", "label": f"{d} {label}",
                            "color": (cm.GREEN if ok else cm.RED), "kind": "line",
                            "data": [a.get((d, ok), 0) for a in sums]})
        return out

    dk, hk, wk = [d.isoformat() for d in days], [str(h) for h in range(24)], \
        [str(i) for i in range(7)]
    charts = []
    for cid, en, it_, x, slots, kind in (
            ("daily", "per day", "per giorno", [fmt.day_label(d) for d in days], dk, "day"),
            ("hourly", "by time slot", "per fascia oraria", cm.hour_x(), hk, "hr"),
            ("weekday", "by weekday", "per giorno della settimana", cm.weekday_x(lang), wk,
             "dow")):
        charts.append({"id": f"{cid}_calls", "title": ("Chiamate " + it_) if it else
                       ("Calls " + en), "type": "combo", "x": x,
                       "series": series(facts[kind], slots, "n")})
        charts.append({"id": f"{cid}_duration", "title": ("Durata (s) " + it_) if it else
                       ("Duration (s) " + en), "type": "combo", "x": x,
                       "series": series(facts[kind], slots, "dur")})
    tot: dict[str, int] = {}
    for fs in facts["dow"].values():
        for b, v in fs.items():
            blk = b.split("|", 1)[1]
            tot[blk] = tot.get(blk, 0) + int(v.get("n", 0))
    order = cm.BLOCK_ORDER

    def pie(cid: str, title: str, pred) -> dict:
        codes = [c for c in sorted(tot, key=lambda c: (order.index(c) if c in order else 99, c))
                 if pred(c)]
        return {"id": cid, "title": title, "type": "pie", "x": codes, "codes": codes,
                "series": [{"key": "n", "label": "quantity", "data": [tot[c] for c in codes]}]}

    served = sum(v for c, v in tot.items() if cm.is_answered(c))
    charts += [
        {"id": "pie_served", "title": "Servite / non servite" if it else "Served / unserved",
         "type": "pie", "x": ["served", "unserved"],
         "series": [{"key": "n", "label": "quantity", "colors": [cm.GREEN, cm.RED],
                     "data": [served, sum(tot.values()) - served]}]},
        pie("pie_exit", "Stato in uscita dalle code" if it else "Queue exit status",
            lambda c: True),
        pie("pie_served_status", "Stato delle servite" if it else "Served calls by status",
            cm.is_answered),
        pie("pie_unserved_status", "Stato delle non servite" if it else
            "Unserved calls by status", cm.is_unanswered),
    ]
    return charts


# ============================================================================ operator legs
# R32: legs summed per queue identity, operator, account and block; the directory's queue names
# are joined on those sums.
LEG_SQL = """
WITH g AS (
  SELECT g.tenant, g.qkey, g.extension AS op, g.account, g.block,
    any_value(g.queue_name) AS queue_name, count(*) AS n, sum(g.worked_s) AS worked,
    sum(g.talk_s) AS talk, sum(g.ring_s) AS ring, sum(g.resp_s) AS resp
  FROM cc_agent_legs g
  WHERE g.day >= CAST(? AS DATE) AND g.day <= CAST(? AS DATE) {where}
  GROUP BY g.tenant, g.qkey, g.extension, g.account, g.block
), l AS (
  -- qkey is the queue id whenever the export gave one
  SELECT g.*, coalesce(qq.name, nullif(g.queue_name, ''), g.qkey) AS qlabel FROM g
  LEFT JOIN queues qq ON qq.tenant = g.tenant AND qq.id = g.qkey
  WHERE 1 = 1 {label_where}
)
SELECT {keys}, NULL AS op_name, max(qlabel) AS qlabel, block, {gid} AS gid,
  sum(n) AS n, sum(worked) AS worked, sum(talk) AS talk, sum(ring) AS ring, sum(resp) AS resp
FROM l GROUP BY GROUPING SETS ({sets})
"""
_LQLABEL = "coalesce(qq.name, nullif(g.queue_name, ''), g.qkey)"
# R34: no queue in the output, so no directory join: a queue filter matches the queue key, the
# exported name or the directory's name (a subquery on the small queues table).
OP_SQL = """
WITH g AS (
  SELECT g.extension AS op, g.block, g.dow, g.hr, count(*) AS n,
    sum(g.worked_s) AS worked, sum(g.talk_s) AS talk, sum(g.ring_s) AS ring,
    sum(g.resp_s) AS resp
  FROM cc_agent_legs g
  WHERE g.day >= CAST(? AS DATE) AND g.day <= CAST(? AS DATE) {where} {label_where}
  GROUP BY g.extension, g.block, g.dow, g.hr
)
SELECT {keys}, NULL AS op_name, NULL AS qlabel, block, {gid} AS gid, sum(n) AS n,
  sum(worked) AS worked, sum(talk) AS talk, sum(ring) AS ring, sum(resp) AS resp
FROM g GROUP BY GROUPING SETS ({sets})
"""
L_GROUPINGS = {
    "queue_operator_account": (("qkey", "op", "account"), "(qkey, op, account, block)"),
    "operator": (("op", "dow", "hr"), "(op, block), (dow, block), (hr, block)"),
}


def _build_legs(con, defn: ReportDef, p: flt.Params, d_from: date, d_to: date):
    w = flt.Where()
    _common_where(w, p, "g")
    if not p.flag("empty_queue"):
        w.add("g.qkey <> ''")
    w.any_of(["g.extension"], p.values("operator"))
    w.any_of(["g.account"], p.values("account"))
    w.any_of(["g.exit_cause", "g.block"], flt.cause_codes(p.values("exit_cause")))
    lw = flt.Where()
    qs = p.values("queue")
    if defn.grouping == "operator":
        if qs:
            ph = ", ".join("?" for _ in qs)
            lw.add(f"(g.qkey IN ({ph}) OR g.queue_name IN ({ph}) OR g.queue_id IN (SELECT id"
                   f" FROM queues WHERE name IN ({ph})))", *qs, *qs, *qs)
    else:
        lw.any_of(["g.qkey", _LQLABEL], qs)
    keys, sets = L_GROUPINGS[defn.grouping]
    sql = (OP_SQL if defn.grouping == "operator" else LEG_SQL).format(
        where=w.sql(), label_where=lw.sql(), keys=", ".join(keys), sets=sets,
        gid="GROUPING(" + ", ".join(keys) + ")")
    cols, rows = cm.fetch(con, sql, [d_from.isoformat(), d_to.isoformat(), *w.args, *lw.args])
    recs = [dict(zip(cols, r, strict=True)) for r in rows]
    gid = _gid_of(keys)
    it = p.lang == "it"
    names = cm.operator_names(con, p.tenant)
    ops: dict[str, str | None] = {}
    for r in recs:
        if r.get("op") is not None:
            ops.setdefault(r["op"], None)
    for o in p.values("operator"):
        ops.setdefault(o, None)
    missing = [o for o in ops if o not in names]
    if missing:  # operators the directory lacks: the name the export carried
        ph = ", ".join("?" for _ in missing)
        ops.update(con.execute(f"SELECT extension, max(op_name) FROM cc_agent_legs WHERE"
                               f" extension IN ({ph}) AND day >= CAST(? AS DATE) AND"
                               f" day <= CAST(? AS DATE) GROUP BY extension",
                               [*missing, d_from.isoformat(), d_to.isoformat()]).fetchall())

    def label(o: str) -> str:
        return op_family._op_label(o, names.get(o) or ops.get(o))

    title = defn.table_title[1] if it else defn.table_title[0]
    if defn.grouping == "operator":
        facts: dict = {}
        allb: dict = {}
        for r in recs:
            if r["gid"] == gid("op"):
                cm.put(facts, r["op"], r["block"], r, L_FIELDS)
                cm.put(allb, "all", r["block"], r, L_FIELDS)
        order = sorted(ops, key=lambda o: (len(o), o))
        charts = [cm.pie("answered_pie", "Risposte / non risposte" if it else
                         "Answered / unanswered", allb.get("all", {})),
                  cm.slot_chart("by_weekday", "Per giorno della settimana" if it else
                                "By weekday", cm.weekday_x(p.lang),
                                _slots([r for r in recs if r["gid"] == gid("dow")], "dow",
                                       L_FIELDS), list(range(7))),
                  cm.slot_chart("by_hour", "Per ora" if it else "By hour", cm.hour_x(),
                                _slots([r for r in recs if r["gid"] == gid("hr")], "hr",
                                       L_FIELDS), list(range(24)))]
        return [RawTable("operators", title, [RowSpec(o, label(o)) for o in order], facts,
                         row_header="Operatore" if it else "Operator")], charts
    accounts = cm.operator_accounts(con, p.tenant)
    acc_filter = set(p.values("account"))
    labels: dict[str, str] = {}
    per_q: dict[str, dict] = {}
    for r in recs:
        labels.setdefault(r["qkey"], r["qlabel"] or "")
        cm.put(per_q.setdefault(r["qkey"], {}), (r["op"], r["account"] or op_family.NO_ACCOUNT),
               r["block"], r, L_FIELDS)
    raws = []
    for qk in _queue_order(con, labels, p):
        facts_of = per_q.get(qk, {})
        rows_: list[RowSpec] = []
        for o in sorted({o for o, _a in facts_of}, key=lambda o: (len(o), o)):
            seen = [a for a in accounts.get(o, []) if not acc_filter or a in acc_filter]
            seen += sorted({a for oo, a in facts_of if oo == o and a not in seen})
            kids = [RowSpec(f"{o}\x1f{a}", op_family._acc_label(a, it), 1) for a in seen]
            rows_ += [RowSpec(o, label(o), 0, children=[k.key for k in kids]), *kids]
        raws.append(RawTable(qk, f"{title} {'coda' if it else 'queue'}: {labels[qk]}", rows_,
                             {f"{o}\x1f{a}": v for (o, a), v in facts_of.items()},
                             row_header="Operatore" if it else "Operator"))
    return raws, []


BUILDERS = {"queue": _build_queues, "queue_date": _build_queues, "queue_hour": _build_queues,
            "callers": _build_callers, "dashboard": _build_dashboard,
            "queue_operator_account": _build_legs, "operator": _build_legs}


def build(con, defn: ReportDef, p: flt.Params, d_from: date, d_to: date):
    return BUILDERS[defn.grouping](con, defn, p, d_from, d_to)


# ============================================================================ definitions
def _q_metrics(code: str):
    return q_family._answered_metrics(code) if cm.is_answered(code) else \
        q_family._unanswered_metrics(code)


Q_LAYOUT = (
    *q_family.LAYOUT[:3],
    BlockGroups(cm.BLOCK_ORDER, _q_metrics, _LABELS),
)
Q_SUMMARY = (
    SummaryField("n", "quantity", "quantità", cm.QTY),
    SummaryField("talk", "talk time", "tempo di conversazione", M("t", "", "", _D, field="talk")),
    SummaryField("avg_tot", "avg call duration", "media durata chiamata",
                 M("a", "", "", _D, "avg", "tot")),
    SummaryField("avg_welcome", "avg welcome-message wait",
                 "media tempo attesa messaggio di benvenuto",
                 M("w", "", "", _D, "avg", "welcome")),
    SummaryField("avg_queuing", "avg queuing time", "media tempo accodamento",
                 M("q", "", "", _D, "avg", "queuing")),
    SummaryField("avg_queue_wait", "avg wait in queue", "media tempo attesa in coda",
                 M("qw", "", "", _D, "avg", "qwait")),
    SummaryField("avg_hold", "avg wait", "media tempo di attesa", M("h", "", "", _D, "avg", "hold")),
)
CC_DEFINITIONS = (
    ("source", "The Call Center CDR (queue calls and operator events), not the CDR."),
    ("date", "A queue call (and its operator legs) is placed by its end: the exit time from "
             "the queue, in the PBX timezone (C22; the PBX filters the Call Center CDR on it, "
             "L2585). Both dates inclusive."),
    ("direction", "incoming = from an inbound line (Ingresso); local = from an internal "
                  "extension (Locale) (C26)."),
    ("status", "The call's CDR status carried by the export (C25)."),
)
Q_DEFINITIONS = (
    *CC_DEFINITIONS,
    ("grain", "One row per call and queue visit; a call that overflows from queue A to B "
              "counts once in each (C4)."),
    ("answered", "NCC and TRASFERIMENTO (the export's TRANSFER: the answering operator "
                 "transferred the caller); every other outcome is unanswered."),
    ("blocks", "TIMEOUT (max wait) shows as NOANSWER, QUEUE_JOINEMPTY as QUEUE_JOINEMPTY, "
               "CANCELED_NOWAIT (the caller hung up before the welcome message ended, L5696) "
               "as CANCELED NOWAIT."),
    ("welcome-message wait", "(welcome end, else enqueue, else exit) − enter (C7)."),
    ("tempo accodamento", "enqueue − welcome end (0 without both) (C7)."),
    ("tempo attesa in coda", "(answer, else exit) − (enqueue, else welcome end) (C7)."),
    ("tempo di attesa", "welcome + accodamento + attesa in coda = (answer, else exit) − enter."),
    ("durata / talk / risposta operatore", "answered: exit − enter / exit − answer / answer − "
                                          "(enqueue, else enter); unanswered attesa: exit − "
                                          "enter (§0.9)."),
    ("averages", "Σ seconds / count, floored; header averages divide by the table quantity "
                 "(C1, C2)."),
)
_Q_FILTERS = ("status", "exit_cause", "queue", "direction", "empty_queue")

register(ReportDef(
    id="cc.dashboard", en="Call Center dashboard", it="Voip Report Call Center",
    source="CC queue call", family="callcenter", grouping="dashboard",
    grouping_doc="three tables: every day of the range, 24 hours, 7 weekdays (Sunday first); "
                 "columns by direction (incoming / local)",
    filters=(), layout=(
        Group("total", "TOTAL", "TOTALE", (
            M("served", "served", "servite", blocks=_served, thousands=False),
            M("unserved", "unserved", "non servite", blocks=_unserved, thousands=False))),
        *(Group(d, en, it_, (
            M("n", "quantity", "quantità", thousands=False),
            M("served", "served", "servite", blocks=_served, thousands=False),
            M("unserved", "unserved", "non servite", blocks=_unserved, thousands=False),
            M("dur", "duration", "durata", "duration_h", field="dur"),
            M("avg_dur", "avg duration", "durata media", _D, "avg", "dur")), blocks=_dir(d))
          for d, en, it_ in (("incoming", "INCOMING", "INGRESSO"),
                             ("local", "LOCAL", "LOCALE")))),
    summary=tuple(
        sf for d, en, it_ in (("incoming", "Incoming", "Ingresso"), ("local", "Local", "Locale"))
        for sf in (
            SummaryField(f"{d}.n", f"{en} quantity", f"{it_} quantità",
                         M("n", "", "", blocks=_dir(d))),
            SummaryField(f"{d}.duration", f"{en} duration", f"{it_} durata",
                         M("d", "", "", _D, field="dur", blocks=_dir(d))),
            SummaryField(f"{d}.avg_duration", f"{en} average duration", f"{it_} durata media",
                         M("a", "", "", _D, "avg", "dur", blocks=_dir(d))))),
    charts_doc="report charts: `daily_calls`, `daily_duration`, `hourly_calls`, "
               "`hourly_duration`, `weekday_calls`, `weekday_duration` (per direction: total "
               "column, answered and unanswered lines), `pie_served` (served vs unserved), "
               "`pie_exit` (queue exit status), `pie_served_status`, `pie_unserved_status`.",
    definitions=(*Q_DEFINITIONS,
                 ("durata", "exit − enter of the queue call (time spent in the queue service)."),
                 ("served", "answered queue calls (NCC, TRASFERIMENTO)."),
                 ("empty queue", "the dashboard counts every queue call, those in an empty "
                                 "(unnamed) queue included: it has no empty-queue filter."))))

register(ReportDef(
    id="cc.queues", en="Call Center queue report", it="Voip Report Call Center Code",
    source="CC queue call", family="callcenter", grouping="queue",
    grouping_doc="one table; one row per queue", filters=_Q_FILTERS, layout=Q_LAYOUT,
    summary=Q_SUMMARY, definitions=Q_DEFINITIONS,
    charts_doc="report charts: `answered_pie`, `by_weekday`, `by_hour` (total column, answered "
               "and unanswered lines; Sunday first)."))

register(ReportDef(
    id="cc.queue_callers", en="Call Center queue report per caller",
    it="Voip Report Call Center Code per Caller", source="CC queue call (incoming calls)",
    family="callcenter", grouping="callers",
    grouping_doc="one table; one row per day of the range (the data of the charts)",
    filters=("queue", "empty_queue"),
    layout=(Group("total", "TOTAL", "TOTALE", (cm.QTY,)),
            Group("answered", "ANSWERED", "RISPOSTE", (cm.QTY,), blocks=cm.is_answered),
            Group("unanswered", "UNANSWERED", "NON RISPOSTE", (cm.QTY,),
                  blocks=cm.is_unanswered)),
    summary=(SummaryField("n", "calls", "chiamate", cm.QTY),),
    table_title=("Incoming calls", "Chiamate in ingresso"),
    charts_doc="report charts: `answered_pie` and `by_day` (answered / unanswered per day).",
    definitions=(*CC_DEFINITIONS,
                 ("grain", "One row per incoming call, counted once across the queues it "
                           "visited (C8)."),
                 ("answered", "at least one of its queue visits was answered."),
                 ("day", "the (end) day of its first queue visit."))))

register(ReportDef(
    id="cc.queues_by_date", en="Call Center queue report by date",
    it="Voip Report Call Center Code per Data", source="CC queue call", family="callcenter",
    grouping="queue_date",
    grouping_doc="one table per queue; one row per day of the range (every day listed)",
    filters=_Q_FILTERS, layout=Q_LAYOUT, summary=Q_SUMMARY, definitions=Q_DEFINITIONS,
    charts_doc="per table: `by_weekday` (total, answered, unanswered; Sunday first)."))

L_DEFINITIONS = (
    *CC_DEFINITIONS,
    ("grain", "One row per presentation of a queue call to an operator account (an operator "
              "event of the Call Center CDR), not per call (C4)."),
    ("blocks", "the event outcome: NCC-AGENT, NCC-CALLER, NCC, ANSWER, TRANSFER (answered); "
               "ANSWERED ELSEWHERE, TIMEOUT, REFUSED (= DECLINED), BUSY, UNAVAILABLE, "
               "CANCELED, CANCELED NOWAIT, FORWARD (UFWD/CFWD2MOBILE/FASTXFER2MOBILE) ..."),
    ("tempo lavorato", "answered: talk; ANSWERED ELSEWHERE / REFUSED / TIMEOUT: 0; other "
                       "unanswered: end − ring start (C17)."),
    ("tempo squillo", "(answer, else end) − ring start (C19)."),
    ("tempo risposta", "answered: answer − entry into the queue (C19)."),
    ("operator rows", "An operator row is the sum of its account rows, which are listed even "
                      "without data (§0.5 rule 8)."),
)

register(ReportDef(
    id="cc.queue_operators", en="Call Center queue operators report",
    it="Voip Report Call Center Code con Dettaglio Operatori Account",
    source="CC operator event", family="callcenter", grouping="queue_operator_account",
    grouping_doc="one table per queue; rows: operator, then its accounts",
    filters=("status", "exit_cause", "queue", "operator", "account", "direction",
             "empty_queue"),
    layout=op_family.R3_LAYOUT, summary=op_family.LEG_SUMMARY, definitions=L_DEFINITIONS,
    charts_doc="none."))

register(ReportDef(
    id="cc.queues_by_hour", en="Call Center queue report by hour",
    it="Voip Report Call Center Code per Ora", source="CC queue call", family="callcenter",
    grouping="queue_hour", grouping_doc="one table per queue; 24 rows 00:00-23:00",
    filters=_Q_FILTERS, layout=Q_LAYOUT, summary=Q_SUMMARY, definitions=Q_DEFINITIONS,
    charts_doc="none (tables only)."))

register(ReportDef(
    id="cc.operators", en="Call Center operators report", it="Voip Report Call Center Operatori",
    source="CC operator event", family="callcenter", grouping="operator",
    grouping_doc="one table; one row per operator",
    filters=("status", "exit_cause", "operator", "queue", "direction"),
    layout=op_family.R14_LAYOUT, summary=op_family.LEG_SUMMARY, definitions=L_DEFINITIONS,
    charts_doc="report charts: `answered_pie`, `by_weekday`, `by_hour` (total column, answered "
               "and unanswered lines)."))
