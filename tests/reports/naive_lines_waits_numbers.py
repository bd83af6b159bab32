"""Naive pure-Python recomputation of the coincidence, wait-histogram and number-class reports
from cdr_detailed.csv and directory.json (csv/json modules, phonenumbers' Python API).

Independent of the SQL: concurrency by expanding every call into the seconds it holds (one
counter per second), waits from wall-clock differences, number classes from
`phonenumbers.parse` / `number_type` instead of the regular expressions the SQL runs.
"""

from __future__ import annotations

import csv
import math
from collections import Counter, defaultdict
from datetime import date, datetime, time, timedelta
from itertools import accumulate
from pathlib import Path
from zoneinfo import ZoneInfo

import phonenumbers
from phonenumbers import PhoneNumberType

from .naive import ANSWERED, direction, queue_block, secs, ts

TZ = ZoneInfo("Europe/Rome")
BUCKETS = ("0-10", "11-20", "21-30", "31-40", "41-50", "51-60", "61-70", "71-80", "81-90",
           "91-100", "101-110", "111-120", "> 120")


def epoch(s: str) -> int | None:
    return int(ts(s).replace(tzinfo=TZ).timestamp()) if s else None


def midnight(d: date) -> int:
    return int(datetime.combine(d, time(0), TZ).timestamp())


def hms(s: str) -> int:
    if ":" not in s:
        return int(float(s))
    h, m, x = s.split(":")
    return int(h) * 3600 + int(m) * 60 + int(x)


def in_range(call: dict, d_from: date, d_to: date) -> bool:
    return d_from <= ts(call["start_datetime"]).date() <= d_to


# ----------------------------------------------------------------------------- coincidences


def intervals(calls, by_config: bool, from_start: bool = False) -> list[tuple[str, int, int]]:
    """(line, a, e) per call that used a gateway."""
    out = []
    for call, legs in calls:
        gw = call["gateway_name"]
        if not gw:
            continue
        d = direction(call, legs)
        if by_config:
            if d != "outgoing":
                continue
            obl = [lg["detail_destination_id"] for lg in legs
                   if lg["detail_destination_type"] == "obl"]
            line = (obl[-1] if obl else "") or gw
        else:
            line = gw
        s = epoch(call["start_datetime"])
        a = s if from_start else epoch(call["answer_datetime"] or call["channel_up_datetime"])
        e = epoch(call["end_datetime"]) if call["end_datetime"] else s + hms(call["duration"])
        if a is None:
            continue
        out.append((line, a, e))
    return out


def coincidences(ivs, d_from: date, d_to: date, bucket_s: int = 900) -> dict:
    """{line or '*': {n, peak, level_s, hist{k: secs}, buckets: [(peak, level_s)],
    hours: [level_s]}} from the number of calls in progress at every second of the range (an
    interval [a, e) adds one from its second a up to, not including, its second e: marked at
    both ends, then summed second by second)."""
    lo, hi = midnight(d_from), midnight(d_to + timedelta(days=1))
    span = hi - lo
    marks: dict[str, list[int]] = defaultdict(lambda: [0] * (span + 1))
    n: dict[str, int] = defaultdict(int)
    for line, a, e in ivs:
        s, t = max(a, lo), min(e, hi)
        if t <= s:
            continue
        n[line] += 1
        n["*"] += 1
        for key in (line, "*"):
            marks[key][s - lo] += 1
            marks[key][t - lo] -= 1  # [a, e): the second e itself is free
    counts = {line: list(accumulate(m[:span])) for line, m in marks.items()}
    out = {}
    for line, c in counts.items():
        hist = Counter(c)
        out[line] = {
            "n": n[line], "peak": max(c), "level_s": sum(c), "hist": dict(hist),
            "buckets": [(max(c[i:i + bucket_s]), sum(c[i:i + bucket_s]))
                        for i in range(0, span, bucket_s)],
            "hours": [sum(c[i:i + 3600]) for i in range(0, span, 3600)],
            "first_peak": lo + c.index(max(c)),
        }
    return out


def erlang_b_channels(a: float, gos: float) -> int:
    """Smallest N with B(A, N) <= gos from the closed form A^N/N! / Σ A^k/k!."""
    if a <= 0:
        return 0
    n = 0
    while True:
        num = a ** n / math.factorial(n)
        den = sum(a ** k / math.factorial(k) for k in range(n + 1))
        if num / den <= gos:
            return n
        n += 1


# ----------------------------------------------------------------------------- waits


def bucket(w: int) -> str:
    if w <= 10:
        return BUCKETS[0]
    if w > 120:
        return BUCKETS[-1]
    return BUCKETS[math.ceil(w / 10) - 1]


def queue_waits(calls, d_from, d_to, answered: bool, abandon_only: bool = False) -> list[int]:
    out = []
    for call, legs in calls:
        if not in_range(call, d_from, d_to):
            continue
        for lg in legs:
            if lg["detail_destination_type"] != "queue":
                continue
            if not (lg["detail_destination_id"] or lg["detail_destination_name"]):
                continue
            b = queue_block(lg["detail_exit_cause"])
            if (b in ANSWERED) != answered:
                continue
            if abandon_only and b not in ("CANCELED", "CANCELED_NOWAIT"):
                continue
            en = ts(lg["detail_enter_datetime"])
            end = ts(lg["detail_answer_datetime"] if answered else lg["detail_exit_datetime"])
            out.append(secs(en, end))
    return out


def incoming_waits(calls, d_from, d_to, answered: bool, abandon_only: bool = False):
    out = []
    for call, legs in calls:
        if not in_range(call, d_from, d_to) or direction(call, legs) != "incoming":
            continue
        ok = call["status"] == "OK"
        if ok != answered:
            continue
        if abandon_only and call["status"] != "CANCELED":
            continue
        if answered:
            st = ts(call["start_datetime"])
            up = ts(call["answer_datetime"] or call["channel_up_datetime"])
            out.append(secs(st, up) if up else hms(call["duration"]))
        else:
            out.append(hms(call["duration"]))
    return out


def histogram(waits: list[int]) -> dict[str, int]:
    h = dict.fromkeys(BUCKETS, 0)
    for w in waits:
        h[bucket(w)] += 1
    return h


# ----------------------------------------------------------------------------- numbers


def area_codes(path: Path) -> dict[str, str]:
    with open(path, encoding="utf-8", newline="") as f:
        return {r["area_code"]: r["province"] for r in csv.DictReader(f)}


def classify(num: str, codes: dict[str, str], prefix: str = "") -> tuple[str, str | None]:
    d = "".join(ch for i, ch in enumerate(num or "") if ch.isdigit() or (ch == "+" and i == 0))
    if prefix and d.startswith(prefix) and len(d) > len(prefix):
        d = d[len(prefix):]
    if not d:
        return "other", None
    try:
        pn = phonenumbers.parse(d if not d.startswith("00") else "+" + d[2:], "IT")
    except phonenumbers.NumberParseException:
        return "other", None
    if pn.country_code != 39:
        return "international", None
    nat = phonenumbers.national_significant_number(pn)
    t = phonenumbers.number_type(pn)
    if t == PhoneNumberType.TOLL_FREE:
        return "toll_free", None
    if t == PhoneNumberType.MOBILE:
        return "mobile", None
    if t in (PhoneNumberType.FIXED_LINE, PhoneNumberType.FIXED_LINE_OR_MOBILE):
        best = max((c for c in codes if nat.startswith(c)), key=len, default=None)
        return "fixed", codes.get(best) if best else None
    return "other", None


def outgoing(calls, d_from, d_to):
    for call, legs in calls:
        if in_range(call, d_from, d_to) and direction(call, legs) == "outgoing":
            yield call


def conversation(calls, d_from, d_to, codes, prefix=""):
    """{month: {class: talk seconds}}"""
    out: dict = defaultdict(lambda: defaultdict(int))
    for call in outgoing(calls, d_from, d_to):
        cls, _p = classify(call["called"], codes, prefix)
        a, e = ts(call["answer_datetime"]), ts(call["end_datetime"])
        talk = max(secs(a, e), 0) if a and e else 0
        out[ts(call["start_datetime"]).strftime("%m-%Y")][cls] += talk
    return out


def provinces(calls, d_from, d_to, codes, prefix=""):
    """({(class, status): n}, {(province, status): n})"""
    kinds: dict = defaultdict(int)
    provs: dict = defaultdict(int)
    for call in outgoing(calls, d_from, d_to):
        cls, prov = classify(call["called"], codes, prefix)
        st = call["status"]
        if cls in ("mobile", "fixed"):
            kinds[(cls, st)] += 1
        if cls == "fixed":
            provs[(prov or "?", st)] += 1
    return kinds, provs
