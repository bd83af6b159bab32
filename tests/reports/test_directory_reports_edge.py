"""The directory reports (billing codes, groups, organizations and units, checktime, IVR)
on hand-made CDR: the spec's seed identities (§3.1 #9 billing codes, #12
groups ADRIA by date and BASSANO by hour), midnight, the DST change day, CFWD/UFWD/FORK2MOBILE
member legs, checktime/IVR pass and fail, organizations, an empty range, exports, filters."""

from __future__ import annotations

import json
from datetime import date, timedelta

import openpyxl
import pytest

from pbxlens import PbxlensError
from pbxlens.ingest import ingest_paths
from pbxlens.reports import Params, export, get, run
from pbxlens.reports import format as fmt
from pbxlens.reports.filters import parse_filters
from pbxlens.simulate.writers.common import CALL_FIELDS, DETAIL_FIELDS
from pbxlens.store import analytics as db

from .conftest import CdrBuilder

T = "default"
DIRECTORY = {
    "pbxlens_directory": 1, "timezone": "Europe/Rome",
    "tenants": [{"domain": T, "name": "Default"}],
    "organizations": [{"tenant": T, "id": "ORG1", "name": "COMMERCIALE"}],
    "org_units": [{"tenant": T, "id": "OU1", "name": "Vendite", "organization": "ORG1"},
                  {"tenant": T, "id": "OU2", "name": "Marketing", "organization": "ORG1"}],
    "operators": [
        {"tenant": T, "extension": "301", "name": "Anna", "organization": "ORG1",
         "org_unit": "OU1", "accounts": [{"account": "301", "kind": "desk"},
                                         {"account": "301-app", "kind": "app"}]},
        {"tenant": T, "extension": "302", "name": "Bruno", "organization": "ORG1",
         "org_unit": "OU2", "accounts": [{"account": "302", "kind": "desk"}]},
        {"tenant": T, "extension": "303", "name": "Carla",
         "accounts": [{"account": "303", "kind": "desk"}]},
    ],
    "queues": [{"tenant": T, "id": "800", "name": "Coda", "strategy": "ringall",
                "max_wait_s": 300, "members": [{"account": "301", "penalty": 0}]}],
    "ring_groups": [{"tenant": T, "id": "600", "name": "Gruppo", "members": ["301", "302"]},
                    {"tenant": T, "id": "610", "name": "ADRIA", "members": ["301"]},
                    {"tenant": T, "id": "611", "name": "BASSANO", "members": ["302"]}],
    "ivrs": [{"tenant": T, "id": "1", "name": "IVR Principale"}],
    "checktimes": [{"tenant": T, "id": "CT1", "name": "Orario ufficio", "rules": [],
                    "holidays": "IT"}],
}
_ACODE = CALL_FIELDS.index("account_code")
_CT = len(CALL_FIELDS) + DETAIL_FIELDS.index("detail_checktime_in_hours")


class Builder(CdrBuilder):
    """CdrBuilder plus a billing code on the header and checktime_in_hours on detail lines."""

    def call(self, start, end, legs, *, acode="", **kw):  # type: ignore[override]
        super().call(start, end, legs, **kw)
        mine = self.rows[-len(legs or [{}]):]
        for row, lg in zip(mine, legs or [{}], strict=True):
            row[_ACODE] = acode
            if "ct" in lg:
                row[_CT] = lg["ct"]

    def write(self, folder):
        p = super().write(folder)
        (folder / "directory.json").write_text(json.dumps(DIRECTORY), encoding="utf-8")
        return p


def _t(s: str, plus: int) -> str:
    from datetime import datetime
    return (datetime.strptime(s, "%Y-%m-%d %H:%M:%S") + timedelta(seconds=plus)).strftime(
        "%Y-%m-%d %H:%M:%S")


def out_call(b: Builder, start: str, wait: int, talk: int, code: str, *, duration: int,
             bill: str, status: str = "OK", peer: str = "301", caller: str = "301",
             cause: str = "NCC") -> None:
    ans = _t(start, wait) if status == "OK" else ""
    end = _t(start, wait + talk)
    b.call(start, end, [{"type": "obl", "id": "Uscita", "enter": _t(start, 1), "answer": ans,
                         "exit": end, "cause": cause, "by": "0612345678" if ans else ""}],
           src="local_exten", dst="obl", status=status, answer=ans, up=ans, caller=caller,
           called="0612345678", bill=bill, peer=peer, acode=code,
           duration=str(timedelta(seconds=duration)).zfill(8))


def group_call(b: Builder, start: str, gid: str, talk: int | None, *, members=(),
               ring: int = 10) -> None:
    """A ring-group visit answered after `ring` s with `talk` s (None: unanswered, 30 s)."""
    ans = _t(start, ring) if talk is not None else ""
    end = _t(start, ring + (talk or 0)) if talk is not None else _t(start, 30)
    legs = [{"type": "callg", "id": gid, "name": "", "enter": start, "answer": ans,
             "exit": end, "cause": "NCC" if talk is not None else "NOANSWER",
             "by": "301" if ans else ""}]
    for cause in members:
        legs.append({"type": "local_exten", "id": "302", "name": "", "enter": _t(start, 1),
                     "exit": _t(start, 2), "cause": cause})
    if talk is not None:
        legs.append({"type": "local_exten", "id": "301", "name": "", "enter": _t(start, 1),
                     "answer": ans, "exit": end, "cause": "NCC", "by": "301"})
    b.call(start, end, legs, dst="callg", status="OK" if talk is not None else "NOANSWER",
           answer=ans, up=start, bill=f"{talk or 0}.000", answered_by="301" if ans else "")


def _billing_code_calls(b: Builder) -> None:
    """R6-R8: the seed's four coded calls, midnight, calls out of scope."""
    # §3.1 #9, R6: four OK calls (durata, fatturazione, conversazione, attesa); 9999's durata
    # is the CDR field (19) while its timestamps give attesa 14 + conv 6 (seed noise, C6)
    for i, (code, dur, bill, talk, wait) in enumerate((
            ("9999", 19, "5.900", 6, 14), ("12345", 16, "3.000", 4, 12),
            ("54321", 21, "5.000", 6, 15), ("141414", 28, "4.100", 5, 23))):
        out_call(b, f"2021-03-10 1{i}:00:00", wait, talk, code, duration=dur, bill=bill)
    # R7/R8: a busy call with a code and one on 301's app across midnight (counts on 04/05)
    out_call(b, "2026-05-04 10:00:00", 0, 12, "9999", duration=12, bill="0", status="BUSY",
             cause="BUSY")
    out_call(b, "2026-05-04 23:59:50", 10, 30, "9999", duration=40, bill="29.000",
             peer="301-app")
    # ... a call of a non-operator caller (no R8 row), and calls outside the scope (C27):
    out_call(b, "2026-05-04 11:00:00", 5, 5, "9999", duration=10, bill="4.000", peer="",
             caller="0299999999")
    out_call(b, "2026-05-04 12:00:00", 5, 5, "", duration=10, bill="4.000")  # no code
    b.call("2026-05-04 13:00:00", "2026-05-04 13:01:00", [], src="ibl", dst="queue",
           status="CANCELED", up="2026-05-04 13:00:00", acode="9999")  # incoming with a code


def _group_calls(b: Builder) -> None:
    """R11-R13: member legs, talk-less answers, midnight, DST, the seed's ADRIA and BASSANO."""
    # groups: member legs CFWD, UFWD, FORK2MOBILE; answered with 0 s of talk = unanswered (C21)
    group_call(b, "2026-05-04 09:00:00", "600", 100, members=("CFWD", "UFWD", "FORK2MOBILE"))
    group_call(b, "2026-05-04 09:10:00", "600", 0)
    group_call(b, "2026-05-04 09:20:00", "600", None, members=("CFWD",))
    # a CFWD after a queue line is that queue's, not the group's; one after the exit is not
    s = "2026-05-04 09:30:00"
    b.call(s, _t(s, 90), [
        {"type": "callg", "id": "600", "name": "", "enter": s, "exit": _t(s, 20),
         "cause": "NOANSWER"},
        {"type": "local_exten", "id": "302", "name": "", "enter": _t(s, 25),
         "exit": _t(s, 26), "cause": "UFWD"},
        {"type": "queue", "id": "800", "name": "Coda", "enter": _t(s, 30), "exit": _t(s, 90),
         "cause": "CANCELED"},
        {"type": "local_exten", "id": "302", "name": "", "enter": _t(s, 31),
         "exit": _t(s, 32), "cause": "CFWD"}], dst="callg", status="CANCELED", up=s)
    # across midnight: counts on 04/05 at 23:00
    group_call(b, "2026-05-04 23:59:55", "600", 60)
    # spring DST day: answered 01:59:50, exit 03:00:10 = 20 s of talk; placed at hour 1
    b.call("2026-03-29 01:59:40", "2026-03-29 03:00:10", [
        {"type": "callg", "id": "600", "name": "", "enter": "2026-03-29 01:59:40",
         "answer": "2026-03-29 01:59:50", "exit": "2026-03-29 03:00:10", "cause": "NCC",
         "by": "301"}], dst="callg", answer="2026-03-29 01:59:50", up="2026-03-29 01:59:40",
        bill="20.000", answered_by="301")
    # §3.1 #12: ADRIA 09/07 and 12/07/2021
    for i, talk in enumerate((285, 285, 285, 287, 287, None, None, None, None, None)):
        group_call(b, f"2021-07-09 1{i}:00:00", "610", talk)
    for i, talk in enumerate((867, 868, None)):
        group_call(b, f"2021-07-12 1{i}:00:00", "610", talk)
    # §3.1 #12: BASSANO by hour, 83 = 42 + 41, talk 02:14:53, CFWD 3, FORK2MOBILE 15
    talks = [192] * 41 + [221]
    n = 0
    for hr, k in ((9, 14), (10, 33), (11, 16), (15, 14), (16, 6)):
        for j in range(k):
            members = ("CFWD",) if n < 3 else ("FORK2MOBILE",) if n < 18 else ()
            group_call(b, f"2021-07-13 {hr:02d}:{j:02d}:00", "611",
                       talks.pop() if n % 2 == 0 and talks else None, members=members)
            n += 1
    assert not talks


def _gate_calls(b: Builder) -> None:
    """R23/R24: checktime and IVR passes and failures."""
    # checktime and IVR on 04/05 (slots of 15 minutes: 10:07, 10:14 -> 40; 10:15 -> 41)
    def ivr_call(start, *, ct, ivr_cause=None, called="0287654300"):
        legs = [{"type": "checktime", "id": "CT1", "name": "Orario ufficio", "enter": start,
                 "exit": _t(start, 1), "cause": "" if ct != "0" else "CLOSED", "ct": ct}]
        if ivr_cause:
            legs.append({"type": "ivr", "id": "1", "name": "IVR Principale",
                         "enter": _t(start, 1), "answer": _t(start, 1), "exit": _t(start, 9),
                         "cause": ivr_cause})
        b.call(start, _t(start, 20), legs, dst="ivr", status="NOANSWER", up=start,
               called=called)
    ivr_call("2026-05-04 10:07:00", ct="1", ivr_cause="NCC")
    ivr_call("2026-05-04 10:14:00", ct="1", ivr_cause="CANCELED")  # left in the menu
    ivr_call("2026-05-04 10:15:00", ct="", ivr_cause="NCC")  # no in-hours field, not CLOSED
    ivr_call("2026-05-04 20:15:00", ct="0")  # closed: never reached the IVR of this number
    ivr_call("2026-05-04 20:16:00", ct="0", called="0287654399")  # a number of no known IVR
    ivr_call("2026-03-29 03:30:00", ct="0")  # spring DST day, hour 3


def _organization_calls(b: Builder) -> None:
    """R16/R17/R21/R22: one queue call rung on three operators."""
    # organizations: a queue call answered by 301, 302 answered elsewhere, 303 (no org)
    s = "2026-05-04 14:00:00"
    b.call(s, _t(s, 120), [
        {"type": "queue", "id": "800", "name": "Coda", "enter": s, "enqueue": s,
         "answer": _t(s, 10), "exit": _t(s, 120), "cause": "NCC", "by": "301"},
        {"type": "local_exten", "id": "301", "name": "", "enter": _t(s, 2),
         "answer": _t(s, 10), "exit": _t(s, 120), "cause": "NCC", "by": "301"},
        {"type": "local_exten", "id": "302", "name": "", "enter": _t(s, 2), "exit": _t(s, 10),
         "cause": "ANSWERED_ELSEWHERE"},
        {"type": "local_exten", "id": "303", "name": "", "enter": _t(s, 2), "exit": _t(s, 10),
         "cause": "ANSWERED_ELSEWHERE"}], answer=_t(s, 10), up=s, bill="110.000",
        answered_by="301")


def edge_cdr() -> Builder:
    b = Builder()
    for add in (_billing_code_calls, _group_calls, _gate_calls, _organization_calls):
        add(b)
    return b


@pytest.fixture(scope="module")
def edge5(tmp_path_factory):
    folder = tmp_path_factory.mktemp("edge5")
    edge_cdr().write(folder)
    path = folder / "store.duckdb"
    con = db.connect(path)
    ingest_paths(con, [folder / "cdr_detailed.csv", folder / "directory.json"])
    assert con.execute("SELECT count(*) FROM quarantine").fetchone()[0] == 0
    con.close()
    return path


def _run(path, rid, d_from, d_to=None, lang="en", **filters):
    con = db.connect(path, read_only=True)
    return run(con, rid, Params(date_from=d_from, date_to=d_to or d_from, lang=lang,
                                filters={k: v.split(",") for k, v in filters.items()}))


MAY4 = date(2026, 5, 4)


# ----------------------------------------------------------------------------- billing codes

def test_billing_codes_seed_table(edge5):
    """§3.1 #9: codes 9999, 12345, 54321, 141414, one OK call each."""
    r = _run(edge5, "cdr.billing_codes", date(2021, 3, 10))
    t = r.tables[0]
    assert [row["key"] for row in t.rows] == ["9999", "12345", "54321", "141414"]
    rows = {row["key"]: row for row in t.rows}
    for code, dur, bill, talk, wait in (("9999", 19, 5, 6, 14), ("12345", 16, 3, 4, 12),
                                        ("54321", 21, 5, 6, 15), ("141414", 28, 4, 5, 23)):
        row = rows[code]
        assert (row["ok.n"], row["ok.dur"], row["ok.bill"], row["ok.talk"], row["ok.avg_wait"]
                ) == (1, dur, bill, talk, wait), code
    tot = t.totals
    assert (tot["total.n"], tot["total.dur"], tot["total.bill"], tot["ok.talk"]) == (4, 84, 17,
                                                                                      21)
    assert fmt.duration(tot["total.dur"]) == "00:01:24"
    assert (tot["ok.avg_dur"], tot["ok.avg_bill"], tot["ok.avg_talk"], tot["ok.avg_wait"]) == (
        21, 4, 5, 16)
    # the header strip repeats these exactly
    s = t.summary
    assert (s["n"], s["dur"], s["bill"], s["talk"], s["avg_dur"], s["avg_bill"], s["avg_wait"],
            s["avg_talk"]) == (4, 84, 17, 21, 21, 4, 16, 5)
    assert [c.key for c in t.columns if c.group_key == "ok"] == [
        "ok.n", "ok.dur", "ok.avg_dur", "ok.bill", "ok.talk", "ok.avg_bill", "ok.avg_talk",
        "ok.avg_wait"]


def test_billing_scope_midnight_and_blocks(edge5):
    r = _run(edge5, "cdr.billing_codes", MAY4, MAY4 + timedelta(days=1))
    t = r.tables[0]
    # outgoing with a code only: not the codeless call, not the incoming call with a code
    assert [row["key"] for row in t.rows] == ["9999"]
    assert t.totals["total.n"] == 3 and t.totals["ok.n"] == 2 and t.totals["busy.n"] == 1
    by_date = _run(edge5, "cdr.billing_codes_by_date", MAY4, MAY4 + timedelta(days=1))
    rows = {row["key"]: row for row in by_date.tables[0].rows}
    assert rows["2026-05-04"]["total.n"] == 3 and rows["2026-05-05"]["total.n"] == 0
    assert rows["2026-05-04"]["ncc.n"] == 2 and rows["2026-05-04"]["busy.worked"] == 12
    assert rows["2026-05-04"]["answered.avg_wait"] == (5 + 10) // 2
    ops = _run(edge5, "cdr.billing_codes_operators", MAY4)
    t = ops.tables[0]
    assert [(row["label"], row["total.n"]) for row in t.rows] == [
        ("301 (Anna)", 2), ("301", 1), ("301-app", 1)]
    assert t.totals["total.n"] == 2  # the call of an external caller is no operator's
    assert _run(edge5, "cdr.billing_codes_operators", MAY4, account="301-app"
                ).tables[0].totals["total.n"] == 1


# ----------------------------------------------------------------------------- groups

def test_group_members_and_c21(edge5):
    r = _run(edge5, "cdr.groups", MAY4)
    row = next(x for x in r.tables[0].rows if x["key"] == "600")
    assert row["label"] == "Gruppo"
    assert (row["total.n"], row["answered.n"], row["unanswered.n"]) == (5, 2, 3)
    assert row["answered.talk"] == 160 and row["answered.avg_talk"] == 80
    # the UFWD after the group's exit and the CFWD inside the queue are not counted
    assert (row["cfwd"], row["ufwd"], row["fork2mobile"]) == (2, 1, 1)
    hours = _run(edge5, "cdr.groups_by_hour", MAY4).tables[0].rows
    assert hours[23]["total.n"] == 1 and hours[23]["answered.talk"] == 60
    nxt = _run(edge5, "cdr.groups", MAY4 + timedelta(days=1))
    assert nxt.tables[0].rows == []


def test_group_dst_day(edge5):
    r = _run(edge5, "cdr.groups_by_hour", date(2026, 3, 29))
    rows = r.tables[0].rows
    assert len(rows) == 24 and rows[1]["answered.n"] == 1
    assert rows[1]["answered.talk"] == 20  # instants, not wall-clock (01:59:50 -> 03:00:10)
    assert sum(x["total.n"] for x in rows) == 1


def test_groups_adria_by_date(edge5):
    """§3.1 #12: ADRIA 09/07-16/07/2021."""
    d0, d1 = date(2021, 7, 9), date(2021, 7, 16)
    r = _run(edge5, "cdr.groups_by_date", d0, d1, lang="it", group="ADRIA")
    (t,) = r.tables
    assert t.title == "Chiamate gestite gruppo: ADRIA"
    rows = {row["key"]: row for row in t.rows}
    assert len(rows) == 8
    r9, r12 = rows["2021-07-09"], rows["2021-07-12"]
    assert (r9["total.n"], r9["answered.n"], r9["unanswered.n"]) == (10, 5, 5)
    assert fmt.duration(r9["answered.talk"]) == "00:23:49"
    assert fmt.duration(r9["answered.avg_talk"]) == "00:04:45"
    assert (r12["total.n"], r12["answered.n"], r12["unanswered.n"]) == (3, 2, 1)
    assert fmt.duration(r12["answered.avg_talk"]) == "00:14:27"  # 867.5 s floored
    tot = t.totals
    assert (tot["total.n"], tot["answered.n"], tot["unanswered.n"]) == (13, 7, 6)
    assert fmt.duration(tot["answered.talk"]) == "00:52:44"
    assert fmt.duration(tot["answered.avg_talk"]) == "00:07:32"  # weighted, not 09:36 (C1)
    overall = _run(edge5, "cdr.groups", d0, d1, group="610").tables[0].rows[0]
    assert (overall["total.n"], overall["answered.n"]) == (13, 7)  # C21: Σ rows = overall


def test_groups_bassano_by_hour(edge5):
    """§3.1 #12: BASSANO Totali 83 = 42 + 41; 02:14:53 / 42 = 00:03:12; CFWD 3; FORK 15."""
    r = _run(edge5, "cdr.groups_by_hour", date(2021, 7, 13), group="611")
    (t,) = r.tables
    tot = t.totals
    assert (tot["total.n"], tot["answered.n"], tot["unanswered.n"]) == (83, 42, 41)
    assert fmt.duration(tot["answered.talk"]) == "02:14:53"
    assert fmt.duration(tot["answered.avg_talk"]) == "00:03:12"
    assert (tot["cfwd"], tot["ufwd"], tot["fork2mobile"]) == (3, 0, 15)
    assert [row["total.n"] for row in t.rows if row["total.n"]] == [14, 33, 16, 14, 6]


# ----------------------------------------------------------------------------- checktime / IVR

def test_checktime_slots(edge5):
    r = _run(edge5, "cdr.checktime", MAY4, chart_minutes="15")
    gates, slots = r.tables
    (row,) = gates.rows
    assert row["label"] == "Orario ufficio"
    assert (row["total.n"], row["ok.n"], row["failed.n"], row["ok.pct"]) == (5, 3, 2, 60.0)
    assert len(slots.rows) == 96 and slots.rows[40]["label"] == "10:00"
    assert slots.rows[40]["ok.n"] == 2 and slots.rows[41]["ok.n"] == 1
    assert slots.rows[81]["failed.n"] == 2  # 20:15, 20:16
    bars = next(c for c in r.charts if c["id"] == "by_slot")
    assert bars["x"][41] == "10:15" and bars["series"][0]["data"][41] == 1
    dst = _run(edge5, "cdr.checktime", date(2026, 3, 29))
    assert dst.tables[1].rows[3]["failed.n"] == 1 and len(dst.tables[1].rows) == 24


def test_ivr_ok_failed(edge5):
    r = _run(edge5, "cdr.ivr", MAY4, lang="it")
    gates = r.tables[0]
    rows = {row["key"]: row for row in gates.rows}
    menu = rows["1"]
    assert menu["label"] == "IVR Principale"
    # reached the menu 3 times (one left it), one closed call to its number = FAILED
    assert (menu["total.n"], menu["ok.n"], menu["failed.n"], menu["left_menu.n"]) == (4, 3, 1, 1)
    assert rows[""]["label"] == "(nessun menu)" and rows[""]["failed.n"] == 1
    assert [row["key"] for row in gates.rows] == ["1", ""]
    only = _run(edge5, "cdr.ivr", MAY4, ivr="IVR Principale")
    assert [row["key"] for row in only.tables[0].rows] == ["1"]
    pie = next(c for c in r.charts if c["id"] == "ok_pie")
    assert pie["series"][0]["data"] == [3, 2]


def test_chart_minutes_validation():
    with pytest.raises(PbxlensError):
        parse_filters(["chart_minutes=0"], get("cdr.ivr"))
    with pytest.raises(PbxlensError):
        parse_filters(["chart_minutes=abc"], get("cdr.ivr"))
    assert parse_filters(["chart_minutes=5"], get("cdr.ivr")) == {
        "chart_minutes": ["5"]}


# ----------------------------------------------------------------------------- organizations

def test_organizations(edge5):
    org = _run(edge5, "cdr.organizations", MAY4, status="OK").tables[0]
    (row,) = org.rows
    assert row["label"] == "COMMERCIALE"
    # 301's queue leg and originated calls (one with 301-app) and 302's leg; 303 has no org
    legs = _run(edge5, "cdr.operators", MAY4, status="OK").tables[0]
    ops = {x["key"]: x["total.n"] for x in legs.rows}
    assert row["total.n"] == ops["301"] + ops["302"] and "303" in ops
    ous = _run(edge5, "cdr.org_units", MAY4, status="OK").tables[0]
    assert {x["label"]: x["total.n"] for x in ous.rows} == {"Vendite": ops["301"],
                                                            "Marketing": ops["302"]}
    det = _run(edge5, "cdr.org_units_operators", MAY4, lang="it", status="OK",
               org_unit="Vendite")
    (t,) = det.tables
    assert t.title == "Numero chiamate gestite reparto Vendite"
    assert [x["label"] for x in t.rows][:3] == ["301 (Anna)", "301", "301-app"]
    assert t.rows[0]["total.n"] == t.rows[1]["total.n"] + t.rows[2]["total.n"]


# ----------------------------------------------------------------------------- empty, exports

IDS = ("cdr.billing_codes", "cdr.billing_codes_by_date", "cdr.billing_codes_operators",
       "cdr.groups", "cdr.groups_by_date", "cdr.groups_by_hour", "cdr.organizations",
       "cdr.organizations_operators", "cdr.org_units", "cdr.org_units_operators",
       "cdr.checktime", "cdr.ivr")


@pytest.mark.parametrize("rid", IDS)
def test_empty_range_and_exports(edge5, rid, tmp_path):
    empty = _run(edge5, rid, date(2026, 6, 1))
    for t in empty.tables:
        assert t.totals.get("total.n", 0) == 0
    res = _run(edge5, rid, MAY4, lang="it")
    doc = json.loads(export.to_json(res))
    assert doc["report"] == rid and doc["tables"]
    path = tmp_path / "r.xlsx"
    export.to_xlsx(res, path)
    wb = openpyxl.load_workbook(path)
    assert len(wb.worksheets) == len(doc["tables"])
    ws, t = wb.worksheets[0], doc["tables"][0]
    labels = [ws.cell(3, 2 + i).value for i in range(len(t["columns"]))]
    assert labels == [c["label"] for c in t["columns"]]
    last = 4 + len(t["rows"])
    assert ws.cell(last, 2).value == (t["totals"]["total.n"] or None)
    assert export.to_csv(res).count("\n") >= len(t["rows"])


def test_sql_transpiles():
    import sqlglot

    from pbxlens.reports import billing_code, checktime, group, organization
    from pbxlens.reports.catalog import get
    queries = {
        "cdr.billing_codes": lambda p: billing_code.query(billing_code.BY_CODE, p, MAY4, MAY4),
        "cdr.billing_codes_operators":
            lambda p: billing_code.query(billing_code.BY_CODE_OPERATOR, p, MAY4, MAY4),
        "cdr.groups_by_date": lambda p: group.query(group.BY_GROUP_DATE, p, MAY4, MAY4),
        "cdr.organizations": lambda p: organization.query(organization.ORGANIZATION,
                                                          organization.BY_UNIT, p, MAY4, MAY4),
        "cdr.org_units_operators": lambda p: organization.query(
            organization.ORG_UNIT, organization.BY_UNIT_OPERATOR, p, MAY4, MAY4),
        "cdr.ivr": lambda p: checktime.IVR_MENUS.query(p, MAY4, MAY4)}
    for rid, query in queries.items():
        d = get(rid)
        f = {"exit_cause": ["NCC"]} if "exit_cause" in d.filter_keys else {}
        sql, _args = query(Params(date_from=MAY4, date_to=MAY4, filters=f))
        for dialect in ("spark", "clickhouse", "postgres"):
            assert sqlglot.transpile(sql, read="duckdb", write=dialect)


DERIVED = ("billing_calls", "group_visits", "gate_passes")  # migration 0012's tables


def test_migration_0012_backfills_with_the_derive_statements(edge5, tmp_path):
    from pbxlens.ingest import derive
    sql = next(s for v, _n, s in db.migrations() if v == 12)
    for stmt in derive.backfill_sql(12):
        assert stmt.rstrip() in sql, "regenerate 0012 from derive.backfill_sql(12)"
    # a store whose derived rows were refreshed by ingest equals a full rebuild
    import shutil
    p = tmp_path / "copy.duckdb"
    shutil.copy(edge5, p)
    con = db.connect(p)
    snap = {t: con.execute(f"SELECT * FROM {t} ORDER BY ALL").fetchall()
            for t in DERIVED}
    assert all(snap.values())
    derive.rebuild(con)
    assert snap == {t: con.execute(f"SELECT * FROM {t} ORDER BY ALL").fetchall()
                    for t in DERIVED}
