"""The line, wait and number reports (coincidences, wait/abandon histograms, conversation times, provinces)
against the naive recomputation from the simulator's exported files, 3 seeds."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pbxlens.reports import Params, run
from pbxlens.reports.engine import pct, ratio
from pbxlens.reports.export import to_dict

from . import naive_lines_waits_numbers as nv

AREA_CODES = Path(__file__).resolve().parents[2] / "pbxlens/models/data/it_area_codes.csv"


def _p(store, **filters) -> Params:
    return Params(date_from=store.d_from, date_to=store.d_to,
                  filters={k: [v] for k, v in filters.items()})


def _json(result) -> dict:
    return json.loads(json.dumps(to_dict(result)))  # what the exported JSON file holds


# ----------------------------------------------------------------------------- coincidences


@pytest.mark.parametrize("rid,by_config,table", [
    ("cdr.coincidences", False, "gateways"),
    ("cdr.coincidences_out", True, "outbound_configurations"),
])
def test_coincidences(store, rid, by_config, table):
    d = _json(run(store.con(), rid, _p(store)))
    exp = nv.coincidences(nv.intervals(store.calls, by_config), store.d_from, store.d_to)
    limits = {g["name"]: g["channel_limit"] for g in store.directory[table]}
    t = d["tables"][0]
    rows = {r["key"]: r for r in t["rows"]}
    assert set(rows) == set(limits) | {k for k in exp if k != "*"}
    span = sum(len(e["buckets"]) for e in exp.values()) // len(exp) * 900
    charts = {c["id"]: c for c in d["charts"]}
    for line, r in [*rows.items(), ("*", t["totals"])]:
        e = exp.get(line)
        lim = sum(limits.values()) if line == "*" else limits[line]
        assert r["line.limit"] == lim
        if e is None:
            assert r["line.n"] == 0 and r["peak.peak"] == 0
            continue
        assert r["line.n"] == e["n"], line
        assert r["peak.peak"] == e["peak"], line
        assert r["peak.at"] == e["first_peak"], line
        assert r["peak.pct"] == pct(e["peak"], lim), line
        assert r["average.erlang"] == ratio(e["level_s"], span), line
        assert r["average.pct"] == pct(e["level_s"], lim * span), line
        bh = max(range(len(e["hours"])), key=lambda h: (e["hours"][h], -h))
        assert r["busy_hour.erlang"] == ratio(e["hours"][bh], 3600), line
        assert r["busy_hour.erlang_b"] == nv.erlang_b_channels(e["hours"][bh] / 3600, 0.01)
        for k in range(1, e["peak"] + 1):
            assert r[f"≥{k}.n"] == sum(s for lv, s in e["hist"].items() if lv >= k), (line, k)
        ch = charts["coincidences_all" if line == "*" else f"coincidences_{line}"]
        ser = {s["key"]: s for s in ch["series"]}
        assert ser["peak"]["data"] == [p for p, _s in e["buckets"]], line
        assert ser["average"]["data"] == [round(s / 900, 2) for _p, s in e["buckets"]], line
        for v, c in zip(ser["peak"]["data"], ser["peak"]["colors"], strict=True):
            occ = v / lim
            assert c == ("#2e7d32" if occ < 0.75 else "#ef6c00" if occ < 0.9 else "#c62828")


def test_coincidences_from_start_and_filter(store):
    gw = store.directory["gateways"][0]["name"]
    d = _json(run(store.con(), "cdr.coincidences", _p(store, from_start="yes", gateway=gw)))
    ivs = [iv for iv in nv.intervals(store.calls, False, from_start=True) if iv[0] == gw]
    exp = nv.coincidences(ivs, store.d_from, store.d_to)
    (row,) = d["tables"][0]["rows"]
    assert row["key"] == gw
    assert (row["line.n"], row["peak.peak"]) == (exp[gw]["n"], exp[gw]["peak"])
    assert d["tables"][0]["totals"]["peak.peak"] == exp[gw]["peak"]


# ----------------------------------------------------------------------------- waits


@pytest.mark.parametrize("rid,fn,answered,abandon_only", [
    ("cdr.queue_wait_times", nv.queue_waits, True, False),
    ("cdr.incoming_wait_times", nv.incoming_waits, True, False),
    ("cdr.queue_abandon_times", nv.queue_waits, False, False),
    ("cdr.queue_abandon_times", nv.queue_waits, False, True),
    ("cdr.incoming_abandon_times", nv.incoming_waits, False, False),
    ("cdr.incoming_abandon_times", nv.incoming_waits, False, True),
])
def test_wait_histograms(store, rid, fn, answered, abandon_only):
    p = _p(store, abandon_only="yes") if abandon_only else _p(store)
    d = _json(run(store.con(), rid, p))
    h = nv.histogram(fn(store.calls, store.d_from, store.d_to, answered, abandon_only))
    total = sum(h.values())
    assert total > 0
    t = d["tables"][0]
    assert [r["label"] for r in t["rows"]] == list(nv.BUCKETS)
    for r in t["rows"]:
        assert r["calls.n"] == h[r["label"]], r["label"]
        assert r["calls.pct"] == pct(h[r["label"]], total), r["label"]
    assert t["totals"]["calls.n"] == total and t["totals"]["calls.pct"] == 100.0
    assert d["charts"][0]["series"][0]["data"] == [h[b] for b in nv.BUCKETS]


def test_queue_wait_filter(store):
    qid = store.directory["queues"][0]["id"]
    d = _json(run(store.con(), "cdr.queue_wait_times", _p(store, queue=qid)))
    calls = [(c, [lg for lg in legs if lg["detail_destination_type"] != "queue"
                  or lg["detail_destination_id"] == qid]) for c, legs in store.calls]
    h = nv.histogram(nv.queue_waits(calls, store.d_from, store.d_to, True))
    assert [r["calls.n"] for r in d["tables"][0]["rows"]] == [h[b] for b in nv.BUCKETS]


# ----------------------------------------------------------------------------- numbers


def test_conversation_times(store):
    codes = nv.area_codes(AREA_CODES)
    d = _json(run(store.con(), "cdr.conversation_times", _p(store)))
    exp = nv.conversation(store.calls, store.d_from, store.d_to, codes)
    t = d["tables"][0]
    for r in t["rows"]:
        for cls in ("toll_free", "fixed", "mobile", "international"):
            assert r[f"{cls}.talk"] == exp.get(r["label"], {}).get(cls, 0), (r["label"], cls)
    for cls in ("toll_free", "fixed", "mobile", "international"):
        assert t["totals"][f"{cls}.talk"] == sum(m.get(cls, 0) for m in exp.values())
        assert t["totals"][f"{cls}.talk"] > 0, cls  # the simulator dials every class


def test_provinces(store):
    codes = nv.area_codes(AREA_CODES)
    d = _json(run(store.con(), "cdr.provinces", _p(store)))
    kinds, provs = nv.provinces(store.calls, store.d_from, store.d_to, codes)
    t1, t2 = d["tables"]
    for r in t1["rows"]:
        exp = {st: n for (c, st), n in kinds.items() if c == r["key"]}
        assert r["total.n"] == sum(exp.values()), r["key"]
        for st, n in exp.items():
            assert r[f"{st.lower()}.n"] == n, (r["key"], st)
    assert {r["key"] for r in t2["rows"]} == {p for p, _s in provs}
    for r in t2["rows"]:
        exp = {st: n for (p, st), n in provs.items() if p == r["key"]}
        assert r["total.n"] == sum(exp.values()), r["key"]
        for st, n in exp.items():
            assert r[f"{st.lower()}.n"] == n, (r["key"], st)
    assert t2["totals"]["total.n"] == t1["rows"][1]["total.n"]  # every fixed call has a row
    pies = {c["id"]: c for c in d["charts"]}
    assert pies["mobile_fixed"]["series"][0]["data"] == [t1["rows"][0]["total.n"],
                                                         t1["rows"][1]["total.n"]]
    # the Province filter keeps the mobile row and the chosen provinces
    some = sorted({p for p, _s in provs})[:2]
    d2 = _json(run(store.con(), "cdr.provinces", Params(
        date_from=store.d_from, date_to=store.d_to, filters={"province": some})))
    assert {r["key"] for r in d2["tables"][1]["rows"]} == set(some)
    assert d2["tables"][0]["rows"][0]["total.n"] == t1["rows"][0]["total.n"]
