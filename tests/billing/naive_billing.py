"""Naive pure-Python rating of cdr_detailed.csv + directory.json (csv, json, Decimal only).

Written from the spec (nexus_modules.md C.2, C.7, BL-2..BL-8), not from the SQL: every call is
walked in Python, tariffs are sorted by the documented precedence, the free allowance is
consumed call by call in start order.
"""

from __future__ import annotations

import csv
import math
from collections import defaultdict
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

Q5 = Decimal("0.00001")


def read(path: Path) -> list[dict]:
    """One dict per call: its CSV row plus `obl` (the last obl detail line, or None)."""
    calls: dict[str, dict] = {}
    with open(path, encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f):
            c = calls.setdefault(row["unique_id"], {**row, "obl": None, "has_obl": False})
            if row["detail_destination_type"] == "obl":
                c["obl"] = row
                c["has_obl"] = True
    return list(calls.values())


def direction(c: dict) -> str:
    if c["source_type"] == "ibl":
        return "in"
    if c["destination_type"] == "obl" or c["has_obl"]:
        return "out"
    return "internal"


def national(raw: str, dir_: str, seize: str = "", home: str = "39") -> str:
    n = "".join(ch for ch in (raw or "") if ch.isdigit() or ch == "+")
    if dir_ == "out" and seize and n.startswith(seize):
        n = n[len(seize):]
    if n.startswith("+" + home):
        return n[len(home) + 1:]
    if n.startswith("00" + home):
        return n[len(home) + 2:]
    if n.startswith("+"):
        return "00" + n[1:]
    return n


def company_of(c: dict, dir_: str, directory: dict) -> tuple[str, str | None]:
    acc = {a["account"]: o["extension"] for o in directory["operators"] for a in o["accounts"]}
    ops = {o["extension"]: o for o in directory["operators"]}
    who = c["answered_by"] if dir_ == "in" else c["src_peer_name"]
    ext = acc.get(who) or (c["answered_by"] if dir_ == "in" else c["caller"])
    op = ops.get(ext)
    return ((op or {}).get("organization") or "", op["extension"] if op else None)


def ratable(calls: list[dict], directory: dict) -> list[dict]:
    out = []
    for c in calls:
        d = direction(c)
        bill = Decimal(c["bill_secs"] or "0")
        if d == "internal" or bill <= 0:
            continue
        start = datetime.strptime(c["start_datetime"], "%Y-%m-%d %H:%M:%S")
        gw = c["gateway_name"] if d == "in" else (
            (c["obl"] or {}).get("detail_destination_id") or c["gateway_name"])
        company, ext = company_of(c, d, directory)
        out.append({"uid": c["unique_id"], "dir": d, "start": start, "day": start.date(),
                    "s": math.ceil(bill), "gw": gw, "company": company, "ext": ext,
                    "num": national(c["caller"] if d == "in" else c["called"], d)})
    return out


def _day(v) -> date | None:
    if v is None or isinstance(v, date):
        return v
    return date.fromisoformat(str(v))


def choose(call: dict, tariffs: list[dict]) -> dict | None:
    cands = []
    for t in tariffs:
        rate = t.get("rate_in") if call["dir"] == "in" else t.get("rate_out")
        gw = t.get("inbound_gateway") if call["dir"] == "in" else t.get("outbound_config")
        lo, hi = _day(t["valid_from"]), _day(t.get("valid_to"))
        if not t.get("active", True) or rate is None or call["day"] < lo or (hi and call["day"] > hi):
            continue
        if t.get("company") and t["company"] != call["company"]:
            continue
        if gw and gw != call["gw"]:
            continue
        if t.get("prefix") and not call["num"].startswith(t["prefix"]):
            continue
        cands.append(t)
    if not cands:
        return None
    # company > gateway > longest prefix > latest valid_from > lowest id (BL-4)
    def key(t):
        gw = t.get("inbound_gateway") if call["dir"] == "in" else t.get("outbound_config")
        return (not t.get("company"), not gw, -len(t.get("prefix") or ""),
                -_day(t["valid_from"]).toordinal(), t["id"])
    return min(cands, key=key)


def charged(x: int, block: int, inc: int) -> int:
    if x <= 0:
        return 0
    if x <= block:
        return block
    return block + math.ceil((x - block) / inc) * inc


def rate(calls: list[dict], tariffs: list[dict]) -> dict[str, dict]:
    """uid -> {tariff, free, cost, nofree, ...call}: costs as Decimal quantized to 5 dp."""
    used: dict = defaultdict(int)
    out = {}
    for c in sorted(calls, key=lambda c: (c["start"], c["uid"])):
        t = choose(c, tariffs)
        if t is None:
            continue
        r = Decimal(str(t["rate_in"] if c["dir"] == "in" else t["rate_out"]))
        a = Decimal(str(t.get("answer_charge") or 0))
        blk, inc = t.get("initial_block_s", 0) or 0, t.get("increment_s", 1) or 1
        limit = (t.get("free_minutes") or 0) * 60
        pool = (t["id"], c["company"], c["day"].year)
        free = min(c["s"], max(0, limit - used[pool])) if limit else 0
        used[pool] += c["s"] if limit else 0
        cost = (a + r * charged(c["s"] - free, blk, inc) / 60).quantize(Q5, ROUND_HALF_UP)
        nofree = (a + r * charged(c["s"], blk, inc) / 60).quantize(Q5, ROUND_HALF_UP)
        out[c["uid"]] = {**c, "tariff": t["id"], "free": free, "cost": cost, "nofree": nofree}
    return out


def group(rated: dict[str, dict], key) -> dict:
    """key(call) -> {n, n_in, n_out, s, s_in, s_out, cost_in, cost_out, cost, nofree...}"""
    out: dict = {}
    for c in rated.values():
        g = out.setdefault(key(c), {"n": 0, "n_in": 0, "n_out": 0, "s": 0, "s_in": 0, "s_out": 0,
                                    "cost": Decimal(0), "cost_in": Decimal(0),
                                    "cost_out": Decimal(0), "nofree": Decimal(0),
                                    "nofree_in": Decimal(0), "nofree_out": Decimal(0), "free": 0})
        d = c["dir"]
        g["n"] += 1
        g[f"n_{d}"] += 1
        g["s"] += c["s"]
        g[f"s_{d}"] += c["s"]
        g["cost"] += c["cost"]
        g[f"cost_{d}"] += c["cost"]
        g["nofree"] += c["nofree"]
        g[f"nofree_{d}"] += c["nofree"]
        g["free"] += c["free"]
    return out


def _month(d: date) -> date:
    return d.replace(day=1)


def _months(lo: date, hi: date) -> list[date]:
    out, m = [], _month(lo)
    while m <= hi:
        out.append(m)
        m = date(m.year + m.month // 12, m.month % 12 + 1, 1)
    return out


def bundle_statement(rated: dict[str, dict], tariffs: list[dict], bundle: dict, d_from: date,
                     d_to: date) -> dict[tuple[str, date], dict]:
    """(company, month) -> the bundle's month, recomputed call by call and month by month:
    charged = the tariff's block/increment rounding of the billed seconds after the free ones;
    without rollover each month has the bundle's seconds; with rollover a month's unused time
    is carried to the next month of the same year (none across a year, none from a month over
    the bundle); overage = rate x over / 60 rounded half-up to 5 dp once per month."""
    t = next(t for t in tariffs if t["id"] == bundle["tariff_id"])
    lo, hi = _day(bundle["valid_from"]), _day(bundle.get("valid_to"))
    used: dict = defaultdict(lambda: {"n": 0, "s": 0, "payg": Decimal(0)})
    for c in rated.values():
        if c["tariff"] != t["id"] or c["day"] < lo or (hi and c["day"] > hi):
            continue
        if bundle.get("company") and c["company"] != bundle["company"]:
            continue
        if not date(d_from.year, 1, 1) <= c["day"] <= d_to:
            continue
        u = used[(c["company"], _month(c["day"]))]
        u["n"] += 1
        u["s"] += charged(c["s"] - c["free"], t.get("initial_block_s", 0) or 0,
                          t.get("increment_s", 1) or 1)
        u["payg"] += c["cost"]
    pools = {(co, m.year) for co, m in used}
    if bundle.get("company"):
        pools |= {(bundle["company"], y) for y in range(d_from.year, d_to.year + 1)
                  if lo.year <= y <= (hi or d_to).year}
    b = bundle["minutes"] * 60
    fee, rate = Decimal(str(bundle.get("flat_fee") or 0)), Decimal(str(bundle["overage_rate"]))
    out = {}
    for company, y in sorted(pools):
        carried = 0
        last = min(date(y, 12, 31), d_to, hi or d_to)
        for m in _months(max(date(y, 1, 1), lo), last):
            u = used.get((company, m), {"n": 0, "s": 0, "payg": Decimal(0)})
            covered = min(u["s"], b + carried)
            over = u["s"] - covered
            left = b + carried - covered if bundle.get("rollover") else 0
            overage = (rate * over / 60).quantize(Q5, ROUND_HALF_UP)
            if m >= _month(d_from):
                out[(company, m)] = {**u, "b": b, "carried": carried, "covered": covered,
                                     "over": over, "carried_out": left, "fee": fee,
                                     "overage": overage, "total": fee + overage}
            carried = left
    return out
