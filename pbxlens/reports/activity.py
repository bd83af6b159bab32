"""`cc.agent_activity` (beyond Nexus; anchor: Wazo agent statistics): per operator and queue,
by day and by hour, logged-in time, paused time (by reason), talk time and occupancy.

Reads the hour pieces of pbxlens.ingest.activity (agent_activity: logged/paused intervals of
the queue-member events; agent_talk: talk of answered queue legs), so one query sums pieces
already cut at PBX-local hour borders; intervals still open are cut here up to now (or the end
of the range). Operators and queue names are resolved through the directory on the sums.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from pbxlens.config import get_settings
from pbxlens.ingest.activity import open_pieces_sql
from pbxlens.reports import common as cm
from pbxlens.reports import filters as flt
from pbxlens.reports import format as fmt
from pbxlens.reports.catalog import BlockGroups, Built, Group, Report, SummaryField, register_report
from pbxlens.reports.common import M
from pbxlens.reports.engine import RawTable, RowSpec

FIELDS = ("n", "logged", "logins", "paused", "pauses", "avail", "talk", "calls")
ACT = "ACT"  # the block of logged-in time and talk; pause reasons have their own blocks

_PIECE_COLS = ("tenant, member, member_account, member_exten, qkey, queue_id, queue_name, kind,"
               " reason, day, hr, secs, starts")

# The pieces are already one row per interval and hour: they are labelled with their block and
# summed once, straight into the grouping sets (no intermediate grouping); operators resolve
# through the (small) accounts table per piece, queue names after the sums.
SQL = """
WITH pieces AS (
  SELECT {cols} FROM agent_activity p
  WHERE p.day >= CAST(? AS DATE) AND p.day <= CAST(? AS DATE) {tw}
  UNION ALL
  SELECT {cols} FROM ({open}) o
  WHERE o.day >= CAST(? AS DATE) AND o.day <= CAST(? AS DATE) {tw_o}
), st AS (
  SELECT p.tenant, coalesce(p.member_exten, acc.extension, p.member) AS op, p.qkey,
    p.queue_id, p.queue_name, p.day, p.hr,
    CASE WHEN p.kind = 'logged' THEN 'ACT'
         ELSE 'pause ' || CASE WHEN p.reason = '' THEN '(no reason)' ELSE p.reason END
    END AS block,
    CASE WHEN p.kind = 'logged' THEN p.secs ELSE 0 END AS logged,
    CASE WHEN p.kind = 'logged' THEN p.starts ELSE 0 END AS logins,
    CASE WHEN p.kind = 'paused' THEN p.secs ELSE 0 END AS paused,
    CASE WHEN p.kind = 'paused' THEN p.starts ELSE 0 END AS pauses,
    CASE WHEN p.kind = 'logged' THEN p.secs ELSE -p.secs END AS avail,
    0 AS talk, 0 AS calls
  FROM pieces p LEFT JOIN accounts acc ON acc.tenant = p.tenant AND acc.account = p.member_account
), t AS (
  SELECT g.tenant, g.extension AS op, g.qkey, g.queue_id, g.queue_name, g.day, g.hr,
    'ACT' AS block, 0 AS logged, 0 AS logins, 0 AS paused, 0 AS pauses, 0 AS avail,
    g.secs AS talk, g.starts AS calls
  FROM agent_talk g
  WHERE g.day >= CAST(? AS DATE) AND g.day <= CAST(? AS DATE) {tw_g}
), u AS (
  SELECT * FROM st UNION ALL SELECT * FROM t
), l AS (  -- a queue known only by name takes its directory id (the CDR's key)
  SELECT u.*, coalesce(qn.id, u.qkey) AS qk
  FROM u
  LEFT JOIN queues qn ON qn.tenant = u.tenant AND u.queue_id IS NULL AND qn.name = u.queue_name
  WHERE 1 = 1 {lw}
)
SELECT op, qk AS qkey, day, hr, block, any_value(queue_name) AS qname,
  GROUPING(op, qk, day, hr) AS gid, count(*) AS n, sum(logged) AS logged,
  sum(logins) AS logins, sum(paused) AS paused, sum(pauses) AS pauses, sum(avail) AS avail,
  sum(talk) AS talk, sum(calls) AS calls
FROM l
GROUP BY GROUPING SETS ((op, qk, block), (day, block), (hr, block))
"""

GID_PAIR, GID_DAY, GID_HOUR = 0b0011, 0b1101, 0b1110


def query(p: flt.Params, d_from: date, d_to: date) -> tuple[str, list]:
    zone = ZoneInfo(get_settings().timezone)
    hi = datetime.combine(d_to + timedelta(days=1), time(0), zone)
    lo_s, hi_s = d_from.isoformat(), d_to.isoformat()
    tw = flt.Where()
    if p.tenant is not None:
        tw.add("p.tenant = ?", p.tenant)
    tw_o, tw_g = flt.Where(), flt.Where()
    if p.tenant is not None:
        tw_o.add("o.tenant = ?", p.tenant)
        tw_g.add("g.tenant = ?", p.tenant)
    lw = flt.Where()
    lw.any_of(["u.op"], p.values("operator"))
    queues = p.values("queue")
    if queues:  # a queue id, or a name (the directory's or the one the data carries)
        ph = ", ".join("?" for _ in queues)
        lw.add(f"(coalesce(qn.id, u.qkey) IN ({ph}) OR u.queue_name IN ({ph}) OR "  # noqa: S608 -- names and SQL fragments from code; values bound
               f"coalesce(qn.id, u.qkey) IN (SELECT id FROM queues WHERE name IN ({ph})))",
               *queues, *queues, *queues)
    sql = SQL.format(cols=_PIECE_COLS, open=open_pieces_sql(d_from.year - 1, d_to.year + 1),
                     tw=tw.sql(), tw_o=tw_o.sql(), tw_g=tw_g.sql(), lw=lw.sql())
    args = [lo_s, hi_s, *tw.args, hi.isoformat(), hi.isoformat(), lo_s, hi_s, *tw_o.args,
            lo_s, hi_s, *tw_g.args, *lw.args]
    return sql, args


def build(con, defn: Report, p: flt.Params, d_from: date, d_to: date) -> Built:
    """cc.agent_activity: by operator and queue, by day, by hour."""
    sql, args = query(p, d_from, d_to)
    cols, rows = cm.fetch(con, sql, args)
    recs = [dict(zip(cols, r, strict=True)) for r in rows]
    it = p.lang == "it"
    names = cm.operator_names(con, p.tenant)
    qnames = dict(con.execute("SELECT id, name FROM queues WHERE tenant = coalesce(?, tenant)",
                              [p.tenant]).fetchall())
    qlabels: dict[str, str] = {}
    pair_facts: dict = {}
    day_facts: dict = {}
    hour_facts: dict = {}
    for r in recs:
        if r["gid"] == GID_PAIR:
            qlabels.setdefault(r["qkey"], qnames.get(r["qkey"]) or r["qname"] or r["qkey"])
            cm.put(pair_facts, f"{r['op']}\x1f{r['qkey']}", r["block"], r, FIELDS)
        elif r["gid"] == GID_DAY:
            cm.put(day_facts, r["day"].isoformat(), r["block"], r, FIELDS)
        elif r["gid"] == GID_HOUR:
            cm.put(hour_facts, str(r["hr"]), r["block"], r, FIELDS)
    pairs = sorted((k.split("\x1f") for k in pair_facts),
                   key=lambda k: (len(k[0]), k[0], qlabels[k[1]].lower(), k[1]))
    op_rows = [RowSpec(f"{op}\x1f{qk}", f"{cm.op_label(op, names.get(op))} · {qlabels[qk]}", 0,
                       extra={"operator": op, "queue": qk}) for op, qk in pairs]
    return [
        RawTable("operators", "Per operatore e coda" if it else "By operator and queue",
                 op_rows, pair_facts, row_header="Operatore · coda" if it else "Operator · queue"),
        RawTable("days", "Per giorno" if it else "By day",
                 [RowSpec(k, fmt.day_label(date.fromisoformat(k))) for k in sorted(day_facts)],
                 day_facts, row_header="Data" if it else "Date"),
        RawTable("hours", "Per ora" if it else "By hour",
                 [RowSpec(str(h), fmt.hour_label(h)) for h in range(24) if str(h) in hour_facts],
                 hour_facts, row_header="Ora" if it else "Hour"),
    ], []


# ----------------------------------------------------------------------------- definitions

_D = "duration"


# Italian words of the simulator's and common PBX pause reasons; other reasons are the PBX's
# own text, shown as they are after the translated "pause"
PAUSE_REASONS = {"(no reason)": "(senza motivo)", "break": "breve", "lunch": "pranzo",
                 "training": "formazione", "backoffice": "back office",
                 "wrap-up": "post-chiamata"}


class PauseLabels(dict):
    """(en, it) of a pause block `pause <reason>`: Italian "pausa <motivo>"."""

    def get(self, code, default=None):
        if not str(code).startswith("pause "):
            return super().get(code, default)
        reason = str(code)[len("pause "):]
        return code, f"pausa {PAUSE_REASONS.get(reason.lower(), reason)}"


def _reason_metrics(_code: str):
    return (M("paused", "paused time", "tempo in pausa", _D, field="paused"),
            M("pauses", "pauses", "pause", field="pauses"))


LAYOUT = (
    Group("logged", "LOGGED IN", "CONNESSO", (
        M("logged", "logged-in time", "tempo connesso", _D, field="logged"),
        M("logins", "logins", "accessi", field="logins"))),
    Group("paused", "PAUSED", "IN PAUSA", _reason_metrics("")),
    BlockGroups((), _reason_metrics, labels=PauseLabels(), include=lambda b: b != ACT,
                doc="one group per pause reason present (`pause <reason>`, `pause (no reason)`)"),
    Group("available", "AVAILABLE", "DISPONIBILE", (
        M("avail", "logged in − paused", "connesso − pausa", _D, field="avail"),)),
    Group("talk", "TALK", "CONVERSAZIONE", (
        M("calls", "answered calls", "chiamate risposte", field="calls"),
        M("talk", "talk time", "tempo conversazione", _D, field="talk"),
        M("avg_talk", "avg talk time", "media tempo conversazione", _D, "avg", "talk",
          ("calls",)))),
    Group("occupancy", "OCCUPANCY", "OCCUPAZIONE", (
        M("occupancy", "occupancy", "occupazione", "percent", "pct", "talk", ("avail",),
          doc="talk / (logged in − paused)"),)),
)

SUMMARY = (
    SummaryField("logged", "logged-in time", "tempo connesso", LAYOUT[0].metrics[0]),
    SummaryField("paused", "paused time", "tempo in pausa", LAYOUT[1].metrics[0]),
    SummaryField("avail", "available time", "tempo disponibile", LAYOUT[3].metrics[0]),
    SummaryField("talk", "talk time", "tempo conversazione", LAYOUT[4].metrics[1]),
    SummaryField("occupancy", "occupancy", "occupazione", LAYOUT[5].metrics[0]),
)

DEFINITIONS = (
    ("source", "PBX queue-member events pbx.queuemember.added / removed / pause / unpause "
               "(L13453-13459), from the events webhook or an event-log file (both give the "
               "same facts), and the answered queue legs of the CDR (talk)."),
    ("logged in", "From `added` to the next `removed` of the member in that queue. A repeated "
                  "added/removed changes nothing; a `removed` without a login is ignored; a "
                  "login still open counts up to now (or the end of the range)."),
    ("paused", "From `pause` to the next `unpause` or `removed`, only while logged in; a pause "
               "without a queue applies to every queue of the member; by the reason the pause "
               "started with."),
    ("talk", "Answer to answer + talk time of the operator's answered legs of calls presented "
             "by that queue (the CDR's operator legs; attended/blind transfers count up to the "
             "transfer). Talk is not clipped to logged-in time (static members log no events)."),
    ("occupancy", "talk / (logged in − paused), 2 decimals half-up; blank without available "
                  "time (anchors.md §2.2: Wazo's occupancy without wrap-up)."),
    ("hours and days", "Every interval is cut at PBX-local hour borders, so a piece lies in one "
                       "hour of one day: a pause across midnight counts on both days; the "
                       "spring DST day has no 02:00 row; hour 02:00 of the autumn day holds "
                       "its two real hours. The hour table sums each hour of day over the "
                       "range; the facts keep every real hour."),
    ("operator", "The member's extension (event params), else the owner of its SIP account in "
                 "the directory, else the account. The three tables have the same totals; an "
                 "operator's days and hours in one queue are the day and hour tables filtered "
                 "by that operator and queue."),
)

register_report(Report(
    id="cc.agent_activity", en="Agent activity", it="Attività operatori",
    source="queue-member events + operator legs (hour pieces)", build=build,
    tables_doc="three tables: one row per operator · queue; one per day; one per hour of "
               "day (the days and hours of the operators and queues filtered; a day or hour "
               "without activity is not listed)",
    filters=(flt.QUEUE, flt.OPERATOR), layout=LAYOUT, summary=SUMMARY, definitions=DEFINITIONS,
    table_title=("Agent activity", "Attività operatori"), charts_doc="none."))
