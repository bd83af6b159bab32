"""Naive pure-Python recomputation of the Call Center reports from cc_cdr_detailed.csv (csv
module only), written independently of the SQL: it walks every row of the export.

Times are wall-clock differences: fixtures used with it avoid the DST change days.
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
    return max(int((b - a).total_seconds()), 0) if a is not None and b is not None else 0


def read(path: Path) -> list[tuple[dict, list[dict]]]:
    """[(queue call row, [event rows])] in file order (key: unique_id, queue, enter)."""
    out: dict[tuple, tuple[dict, list[dict]]] = {}
    with open(path, encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f):
            k = (row["unique_id"], row["queue_id"] or row["queue_name"], row["enter_datetime"])
            qc = out.setdefault(k, (row, []))
            if row.get("event_ring_datetime"):
                qc[1].append(row)
    return list(out.values())


def queue_block(cause: str) -> str:
    return {"NCC-AGENT": "NCC", "NCC-CALLER": "NCC", "TRANSFER": "TRASFERIMENTO",
            "TIMEOUT": "NOANSWER", "QUEUE_JOINEMPTY": "QUEUE_JOINEMPTY",
            "CANCELED_NOWAIT": "CANCELED NOWAIT", "": "?"}.get(cause, cause)


def event_block(cause: str) -> str:
    return {"ANSWERED_ELSEWHERE": "ANSWERED ELSEWHERE", "DECLINED": "REFUSED", "": "?",
            "CANCELED_NOWAIT": "CANCELED NOWAIT"}.get(cause, cause)


def end_day(qc: dict) -> date:
    return ts(qc["exit_datetime"]).date()


def visit(qc: dict) -> dict:
    """The per-visit numbers, from the spec's formulas (C7, §0.9)."""
    en, we, eq = ts(qc["enter_datetime"]), ts(qc["welcome_end_datetime"]), \
        ts(qc["enqueue_datetime"])
    an, ex = ts(qc["answer_datetime"]), ts(qc["exit_datetime"])
    b = queue_block(qc["exit_cause"])
    ans = b in ANSWERED
    stop = an or ex
    welcome = secs(en, min(we or eq or ex, stop))
    queuing = secs(we, eq) if we and eq else 0
    qwait = secs(eq or we, stop) if (eq or we) else 0
    tot = secs(en, ex)
    return {"block": b, "ans": ans, "n": 1, "tot": tot, "welcome": welcome,
            "queuing": queuing, "qwait": qwait, "hold": welcome + queuing + qwait,
            "talk": secs(an, ex) if ans else 0, "dur": tot if ans else 0,
            "resp": secs(eq or en, an) if ans else 0, "wait": 0 if ans else tot,
            "qkey": qc["queue_id"] or qc["queue_name"], "day": end_day(qc),
            "hr": ts(qc["exit_datetime"]).hour, "dir": qc["direction"],
            "status": qc["status"], "uid": qc["unique_id"], "enter": en}


def visits(data, d_from: date, d_to: date, *, empty: bool = False) -> list[dict]:
    out = []
    for qc, _ev in data:
        v = visit(qc)
        if d_from <= v["day"] <= d_to and (empty or v["qkey"]):
            out.append(v)
    return out


def legs(data, d_from: date, d_to: date) -> list[dict]:
    out = []
    for qc, evs in data:
        v = visit(qc)
        if not (d_from <= v["day"] <= d_to) or not v["qkey"]:
            continue
        seen = set()
        for e in evs:
            key = tuple(e[k] for k in ("event_operator_exten", "event_operator_account",
                                       "event_ring_datetime", "event_answer_datetime",
                                       "event_end_datetime", "event_outcome"))
            if key in seen:  # duplicate operator events (K-17113) count once
                continue
            seen.add(key)
            b = event_block(e["event_outcome"])
            ans = b in ANSWERED
            r, a, x = (ts(e[k]) for k in ("event_ring_datetime", "event_answer_datetime",
                                          "event_end_datetime"))
            talk = secs(a, x) if ans else 0
            worked = talk if ans else (0 if b in ("ANSWERED ELSEWHERE", "REFUSED", "TIMEOUT")
                                       else secs(r, x))
            out.append({"op": e["event_operator_exten"], "acc": e["event_operator_account"],
                        "qkey": v["qkey"], "block": b, "ans": ans, "n": 1, "worked": worked,
                        "talk": talk, "ring": secs(r, a or x),
                        "resp": secs(v["enter"], a) if ans else 0, "day": v["day"],
                        "hr": v["hr"], "dir": v["dir"]})
    return out


def callers(data, d_from: date, d_to: date) -> dict[date, list[int]]:
    """{day: [answered, unanswered]} of incoming calls counted once (C8)."""
    per: dict[str, list] = {}
    for v in visits(data, d_from, d_to):
        if v["dir"] != "incoming":
            continue
        cur = per.get(v["uid"])
        if cur is None:
            per[v["uid"]] = [v["enter"], v["day"], v["ans"]]
        else:
            if v["enter"] < cur[0]:
                cur[0], cur[1] = v["enter"], v["day"]
            cur[2] = cur[2] or v["ans"]
    out: dict = defaultdict(lambda: [0, 0])
    for _e, d, ans in per.values():
        out[d][0 if ans else 1] += 1
    return out
