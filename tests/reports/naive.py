"""Naive pure-Python recomputation of the reports from cdr_detailed.csv (csv module only).

Written independently from the SQL: it walks every call's path in file order. Times are
wall-clock differences, so fixtures used with it must avoid the DST change days.
"""

from __future__ import annotations

import csv
from collections import defaultdict
from datetime import date, datetime
from pathlib import Path

ANSWERED = {"NCC-AGENT", "NCC-CALLER", "NCC", "ANSWER", "TRANSFER", "TRASFERIMENTO"}


def ts(s: str) -> datetime | None:
    return datetime.strptime(s, "%Y-%m-%d %H:%M:%S") if s else None


def secs(a, b) -> int:
    return int((b - a).total_seconds()) if a is not None and b is not None else 0


def read_calls(path: Path) -> list[tuple[dict, list[dict]]]:
    calls: dict[str, tuple[dict, list[dict]]] = {}
    with open(path, encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f):
            c = calls.setdefault(row["unique_id"], (row, []))
            if row["detail_destination_type"]:
                c[1].append(row)
    return list(calls.values())


def direction(call: dict, legs: list[dict]) -> str:
    if call["source_type"] == "ibl":
        return "incoming"
    if call["destination_type"] == "obl" or any(
            lg["detail_destination_type"] == "obl" for lg in legs):
        return "outgoing"
    return "internal"


def in_range(call: dict, d_from: date, d_to: date) -> bool:
    d = ts(call["start_datetime"]).date()
    return d_from <= d <= d_to


def dow(d: date) -> int:
    return (d.weekday() + 1) % 7


def queue_block(cause: str) -> str:
    return {"ATXFER": "TRASFERIMENTO", "JOINEMPTY": "QUEUE_JOINEMPTY", "": "?"}.get(cause, cause)


def queue_visits(calls, d_from, d_to, sl_t=20, short_s=5):
    """[(qkey, day, hour, block, fields)]"""
    out = []
    for call, legs in calls:
        if not in_range(call, d_from, d_to):
            continue
        st = ts(call["start_datetime"])
        for lg in legs:
            if lg["detail_destination_type"] != "queue":
                continue
            qkey = lg["detail_destination_id"] or lg["detail_destination_name"]
            if not qkey:
                continue
            b = queue_block(lg["detail_exit_cause"])
            ans = b in ANSWERED
            en, eq = ts(lg["detail_enter_datetime"]), ts(lg["detail_enqueue_datetime"])
            eq = eq or en
            an, ex = ts(lg["detail_answer_datetime"]), ts(lg["detail_exit_datetime"])
            tot = secs(en, ex)
            wait = 0 if ans else tot
            asa = secs(en, an) if ans else 0
            canc = b == "CANCELED"
            fields = {"n": 1, "tot": tot, "talk": secs(an, ex) if ans else 0,
                      "dur": tot if ans else 0, "resp": secs(eq, an) if ans else 0,
                      "wait": wait, "asa": asa,
                      "sl_hit": int(ans and asa <= sl_t),
                      "sl_den": int(ans or (canc and wait >= short_s)),
                      "ab": int(canc and wait >= short_s)}
            out.append((qkey, st.date(), st.hour, b, fields))
    return out


def leg_block(cause: str, in_queue: bool) -> str:
    m = {"BLINDXFER": "TRANSFER", "ATXFER": "TRASFERIMENTO",
         "ANSWERED_ELSEWHERE": "ANSWERED ELSEWHERE", "DECLINED": "REFUSED",
         "UFWD": "FORWARD", "CFWD2MOBILE": "FORWARD", "FASTXFER2MOBILE": "FORWARD", "": "?"}
    if cause == "NOANSWER" and in_queue:
        return "TIMEOUT"
    return m.get(cause, cause)


def operator_legs(calls, d_from, d_to, operators: set[str], accounts: dict[str, str]):
    """[(op, account|None, queue|None, block, direction, kind, status, fields)]"""
    out = []
    for call, legs in calls:
        if not in_range(call, d_from, d_to):
            continue
        dr = direction(call, legs)
        cur_q = None  # the last queue line seen in path order
        for lg in legs:
            t = lg["detail_destination_type"]
            if t == "queue":
                cur_q = lg
                continue
            if t != "local_exten":
                continue
            en = ts(lg["detail_enter_datetime"])
            q = None
            if cur_q is not None and ts(cur_q["detail_enter_datetime"]) <= en <= ts(
                    cur_q["detail_exit_datetime"]) and (
                    lg["detail_source_num"] == cur_q["detail_source_num"]):
                q = cur_q
            qkey = (q["detail_destination_id"] or q["detail_destination_name"]) if q else None
            b = leg_block(lg["detail_exit_cause"], q is not None)
            ans = b in ANSWERED
            an, ex = ts(lg["detail_answer_datetime"]), ts(lg["detail_exit_datetime"])
            talk = secs(an, ex) if ans else 0
            if ans:
                worked = talk
            elif b in ("ANSWERED ELSEWHERE", "REFUSED", "TIMEOUT"):
                worked = 0
            else:
                worked = secs(en, ex)
            arrival = ts(q["detail_enter_datetime"]) if q else en
            f = {"n": 1, "worked": worked, "talk": talk, "ring": secs(en, an or ex),
                 "resp": secs(arrival, an) if ans else 0}
            acc = (lg["detail_answered_by"] or None) if ans else None
            out.append((lg["detail_destination_id"], acc, qkey, b, dr, "recv", call["status"], f))
        peer = call["src_peer_name"]
        if peer in accounts and dr in ("outgoing", "internal"):
            st, an, en = (ts(call["start_datetime"]), ts(call["answer_datetime"]),
                          ts(call["end_datetime"]))
            ok = call["status"] == "OK"
            h, m, s = (int(x) for x in call["duration"].split(":"))
            f = {"n": 1, "worked": h * 3600 + m * 60 + s, "talk": secs(an, en) if ok else 0,
                 "ring": secs(st, an or en), "resp": secs(st, an) if ok else 0}
            b = "ANSWER" if ok else ("?" if call["status"] == "??" else call["status"])
            out.append((accounts[peer], peer, None, b, dr, "orig", call["status"], f))
    return out


def dashboard(calls, d_from, d_to):
    """{(day, dir, answered): {n, dur, wait, talk}}"""
    out: dict = defaultdict(lambda: defaultdict(int))
    for call, legs in calls:
        if not in_range(call, d_from, d_to):
            continue
        dr = direction(call, legs)
        st = ts(call["start_datetime"])
        h, m, s = (int(x) for x in call["duration"].split(":"))
        dur = h * 3600 + m * 60 + s
        ok = call["status"] == "OK"
        k = (st.date(), dr, ok)
        out[k]["n"] += 1
        out[k]["dur"] += dur
        if dr == "incoming":
            up = ts(call["answer_datetime"]) or ts(call["channel_up_datetime"])
            out[k]["wait"] += secs(st, up) if up else dur
            out[k]["talk"] += int(float(call["bill_secs"] or 0))
    return out


def sumf(items, *keys) -> dict:
    out: dict = defaultdict(int)
    for it in items:
        for k in keys:
            out[k] += it[k]
    return out
