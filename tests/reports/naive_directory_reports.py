"""Naive pure-Python recomputation of the directory reports (billing codes, groups,
organizations / units, checktime, IVR) from cdr_detailed.csv and directory.json.

Written independently from the SQL: it walks every call's path in file order (csv module only).
Times are wall-clock differences, so fixtures used with it must avoid the DST change days.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date

from . import naive
from .naive import ANSWERED, in_range, secs, ts

NO_ACCOUNT = "\x00"


def hms(s: str) -> int:
    h, m, x = (int(v) for v in s.split(":"))
    return h * 3600 + m * 60 + x


def _leg_block(cause: str) -> str:
    return {"BLINDXFER": "TRANSFER", "ATXFER": "TRASFERIMENTO",
            "ANSWERED_ELSEWHERE": "ANSWERED ELSEWHERE", "DECLINED": "REFUSED", "UFWD": "FORWARD",
            "CFWD2MOBILE": "FORWARD", "FASTXFER2MOBILE": "FORWARD", "??": "?"}.get(cause, cause)


# ----------------------------------------------------------------------------- billing codes

def billing_calls(calls, d_from: date, d_to: date, accounts: dict[str, str],
                  operators: set[str]) -> list[dict]:
    """One dict per outgoing call with a billing code, in the range."""
    out = []
    for call, legs in calls:
        if not in_range(call, d_from, d_to) or naive.direction(call, legs) != "outgoing":
            continue
        code = call["account_code"]
        if not code:
            continue
        st, an, en = (ts(call["start_datetime"]), ts(call["answer_datetime"]),
                      ts(call["end_datetime"]))
        obl = [lg for lg in legs if lg["detail_destination_type"] == "obl"]
        status = call["status"]
        if obl:
            block = _leg_block(obl[-1]["detail_exit_cause"])
        else:
            block = "NCC" if status == "OK" else ("?" if status == "??" else status)
        peer, caller = call["src_peer_name"], call["caller"]
        if peer in accounts:
            op, acc = accounts[peer], peer
        elif caller in operators:
            op, acc = caller, NO_ACCOUNT
        else:
            op, acc = None, None
        out.append({
            "code": code, "day": st.date(), "hr": st.hour, "dow": naive.dow(st.date()),
            "status": "?" if status == "??" else status, "block": block, "op": op, "acc": acc,
            "n": 1, "dur": hms(call["duration"]), "bill": int(float(call["bill_secs"] or 0)),
            "talk": secs(an, en) if an else 0, "wait": secs(st, an) if an else 0})
    return out


# ----------------------------------------------------------------------------- groups

CONTAINERS = ("callg", "queue", "ivr")


def group_visits(calls, d_from: date, d_to: date) -> list[dict]:
    out = []
    for call, legs in calls:
        if not in_range(call, d_from, d_to):
            continue
        st = ts(call["start_datetime"])
        cur = None  # the current group visit dict, while its member legs follow
        for lg in legs:
            t = lg["detail_destination_type"]
            if t in CONTAINERS:
                cur = None
                if t != "callg":
                    continue
                an, ex = ts(lg["detail_answer_datetime"]), ts(lg["detail_exit_datetime"])
                talk = secs(an, ex) if an else 0
                cur = {"gkey": lg["detail_destination_id"] or lg["detail_destination_name"],
                       "day": st.date(), "hr": st.hour, "dow": naive.dow(st.date()),
                       "answered": an is not None and talk > 0,
                       "talk": talk if an is not None and talk > 0 else 0,
                       "cfwd": 0, "ufwd": 0, "fork": 0, "n": 1,
                       "_enter": ts(lg["detail_enter_datetime"]), "_exit": ex}
                out.append(cur)
            elif t in ("local_exten", "obl") and cur is not None:
                en = ts(lg["detail_enter_datetime"])
                if cur["_enter"] <= en <= cur["_exit"]:
                    c = lg["detail_exit_cause"]
                    if c == "CFWD":
                        cur["cfwd"] += 1
                    elif c == "UFWD":
                        cur["ufwd"] += 1
                    elif c == "FORK2MOBILE":
                        cur["fork"] += 1
    return [v for v in out if v["gkey"]]


# ----------------------------------------------------------------------------- organizations

def unit_legs(calls, d_from, d_to, directory: dict, unit: str) -> list[tuple]:
    """[(unit, op, account key, block, fields)] over the operator legs of naive.py."""
    ops = {o["extension"]: o for o in directory["operators"]}
    accounts = {a["account"]: o["extension"] for o in directory["operators"]
                for a in o["accounts"]}
    out = []
    for op, acc, _q, b, _dr, _kind, _st, f in naive.operator_legs(calls, d_from, d_to,
                                                                  set(ops), accounts):
        u = (ops.get(op) or {}).get(unit)
        if u:
            out.append((u, op, acc or NO_ACCOUNT, b, f))
    return out


# ----------------------------------------------------------------------------- checktime / IVR

def gate_passes(calls, d_from, d_to, kind: str, minutes: int) -> list[dict]:
    """[{gkey, slot, ok, routed}] with failed IVR calls assigned through their called number."""
    out = []
    pending = []  # IVR calls that never reached a menu
    for call, legs in calls:
        if not in_range(call, d_from, d_to):
            continue
        st = ts(call["start_datetime"])
        slot = (st.hour * 60 + st.minute) // minutes
        seen_ivr = False
        for lg in legs:
            if lg["detail_destination_type"] != kind:
                continue
            seen_ivr = True
            key = lg["detail_destination_id"] or lg["detail_destination_name"]
            cause = lg["detail_exit_cause"]
            if kind == "checktime":
                cin = lg["detail_checktime_in_hours"]
                ok = cin == "1" if cin in ("0", "1") else cause != "CLOSED"
                out.append({"gkey": key, "slot": slot, "ok": ok, "routed": False,
                            "called": call["called"]})
            else:
                out.append({"gkey": key, "slot": slot, "ok": True,
                            "routed": cause in ("NCC", "OK"), "called": call["called"]})
        if kind == "ivr" and not seen_ivr and call["destination_type"] == "ivr":
            pending.append({"gkey": None, "slot": slot, "ok": False, "routed": False,
                            "called": call["called"]})
    counts: dict = defaultdict(lambda: defaultdict(int))
    for p in out:
        counts[p["called"]][p["gkey"]] += 1
    for p in pending:
        c = counts.get(p["called"])
        p["gkey"] = min(c, key=lambda k: (-c[k], k)) if c else ""
    return out + pending


def tally(items, *keys) -> dict:
    out: dict = defaultdict(int)
    for it in items:
        for k in keys:
            out[k] += it[k]
    return out


def is_answered(block: str) -> bool:
    return block in ANSWERED
