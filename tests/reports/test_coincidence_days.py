"""Coincidence day summaries against the raw sweep: every line, every day, both report keys and
both interval definitions, three simulator seeds over the two DST change days of Europe/Rome,
with calls stretched across midnight (and across whole days); loaded in overlapping batches
with re-loaded calls, the incrementally kept summaries equal a rebuild from scratch, and the
reports read from them equal the reports swept from line_calls."""

from __future__ import annotations

import csv
import json
import zlib
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest

from pbxlens.ingest import ingest_paths
from pbxlens.reports import Params, coincidence_days, run
from pbxlens.reports.engine import ratio
from pbxlens.reports.export import to_dict
from pbxlens.simulate import generate
from pbxlens.store import analytics as db

from . import naive
from . import naive_lines_waits_numbers as nv

SEEDS = (11, 22, 33)
PERIODS = (date(2026, 3, 27), date(2026, 10, 23))  # each holds a DST change day (29/03, 25/10)
DAYS = 4
FMT = "%Y-%m-%d %H:%M:%S"


@dataclass
class Store:
    path: Path
    calls: list  # the final version of every call (naive.read_calls shape)


def _stretch(rows: list[dict]) -> None:
    """Late calls on a gateway end hours later (across midnight), every 7th a day later; so do
    every 20th call on a gateway, whatever its hour (outgoing calls are daytime calls)."""
    by_uid: dict[str, list[dict]] = {}
    for r in rows:
        by_uid.setdefault(r["unique_id"], []).append(r)
    for i, (_uid, rs) in enumerate(sorted(by_uid.items())):
        h = rs[0]
        if not h["gateway_name"] or not h["end_datetime"]:
            continue
        if h["start_datetime"][11:13] >= "20":
            extra = timedelta(hours=26 if i % 7 == 0 else 3)
        elif i % 20 == 0:
            extra = timedelta(hours=26)
        else:
            continue
        end = (datetime.strptime(h["end_datetime"], FMT) + extra).strftime(FMT)
        for r in rs:
            r["end_datetime"] = end


def _write(path: Path, header: list[str], rows: list[dict]) -> Path:
    with open(path, "w", encoding="utf-8", newline="") as f:
        w = csv.DictWriter(f, header, lineterminator="\n")
        w.writeheader()
        w.writerows(rows)
    return path


def _build(folder: Path, seed: int) -> Store:
    """Batches: spring 0-70 %, spring 50-100 % (overlap), autumn, then a re-load of some calls
    with other end times (a stretched call shortened back, a short one stretched)."""
    rows: list[dict] = []
    for k, start in enumerate(PERIODS):
        src = folder / f"sim{k}"
        generate(src, days=DAYS, calls_per_day=250, seed=seed + k, start=start,
                 formats=["csv-detailed"])
        with open(src / "cdr_detailed.csv", encoding="utf-8", newline="") as f:
            rd = csv.DictReader(f)
            header = list(rd.fieldnames or [])
            rows += [{**r, "unique_id": f"{r['unique_id']}-{k}"} for r in rd]
    _stretch(rows)
    uids = list(dict.fromkeys(r["unique_id"] for r in rows))
    spring = [u for u in uids if u.endswith("-0")]
    cut_a, cut_b = len(spring) * 7 // 10, len(spring) // 2
    part = [set(spring[:cut_a]), set(spring[cut_b:]), {u for u in uids if u.endswith("-1")}]
    files = [_write(folder / f"batch{i}.csv", header, [r for r in rows if r["unique_id"] in p])
             for i, p in enumerate(part)]
    changed = [u for i, u in enumerate(uids) if i % 11 == 0]
    final = {r["unique_id"]: r for r in rows}
    redo = []
    for r in rows:
        if r["unique_id"] not in changed or not r["end_datetime"]:
            continue
        s, e = (datetime.strptime(r[x], FMT) for x in ("start_datetime", "end_datetime"))
        new_end = s + timedelta(seconds=45) if e.date() != s.date() else e + timedelta(hours=4)
        redo.append({**r, "end_datetime": new_end.strftime(FMT)})
    files.append(_write(folder / "batch3.csv", header, redo))
    for r in redo:
        final[r["unique_id"]] = r
    path = folder / "store.duckdb"
    con = db.connect(path)
    ingest_paths(con, [folder / "sim0" / "directory.json"])
    for f in files:  # one ingest per file: every batch refreshes the summaries
        (res,) = ingest_paths(con, [f])
        assert res.error is None and res.rows_quarantined == 0, res
    con.close()
    final_rows = [r for r in rows if r["unique_id"] not in changed] + redo
    _write(folder / "final.csv", header, final_rows)
    return Store(path, naive.read_calls(folder / "final.csv"))


@pytest.fixture(scope="module", params=SEEDS, ids=[f"seed{s}" for s in SEEDS])
def store(request, tmp_path_factory) -> Store:
    return _build(tmp_path_factory.mktemp(f"cdays{request.param}"), request.param)


def _snapshot(con) -> dict[str, list]:
    return {t: con.execute(f"SELECT * FROM {t} ORDER BY ALL").fetchall()
            for t in coincidence_days.TABLES}


def test_incremental_equals_rebuild(store):
    con = db.connect(store.path)
    try:
        kept = _snapshot(con)
        assert con.execute("SELECT count(DISTINCT batch_id) FROM calls").fetchone()[0] >= 3
        con.execute("BEGIN TRANSACTION")
        coincidence_days.rebuild(con)
        assert _snapshot(con) == kept
        con.execute("ROLLBACK")
    finally:
        con.close()


def _days() -> list[date]:
    return [p + timedelta(days=i) for p in PERIODS for i in range(DAYS + 2)]


def _stored(con, kind: str, fs: bool, day: date) -> dict[str, dict]:
    out: dict[str, dict] = {}
    for line, b, peak, level_s, starts, carried in con.execute(
            "SELECT line, b, peak, level_s, starts, carried FROM coincidence_day_buckets "
            "WHERE kind = ? AND from_start = ? AND day = ?", [kind, fs, day]).fetchall():
        d = out.setdefault("*" if line == coincidence_days.ALL else line,
                           {"buckets": {}, "hist": {}, "n": 0})
        d["buckets"][b] = (peak, level_s)
        d["n"] += starts + carried
    for line, level, secs in con.execute(
            "SELECT line, level, secs FROM coincidence_day_levels "
            "WHERE kind = ? AND from_start = ? AND day = ?", [kind, fs, day]).fetchall():
        out["*" if line == coincidence_days.ALL else line]["hist"][level] = secs
    for line, peak_t in con.execute(
            "SELECT line, peak_t FROM coincidence_days WHERE kind = ? AND from_start = ? "
            "AND day = ?", [kind, fs, day]).fetchall():
        out["*" if line == coincidence_days.ALL else line]["first_peak"] = peak_t
    return out


@pytest.mark.parametrize("kind,fs", [("gateway", False), ("gateway", True),
                                     ("out_config", False), ("out_config", True)])
def test_every_line_and_day_equals_the_raw_sweep(store, kind, fs):
    ivs = nv.intervals(store.calls, kind == "out_config", from_start=fs)
    con = db.connect(store.path, read_only=True)
    crossing = 0
    try:
        for day in _days():
            exp = nv.coincidences(ivs, day, day)
            got = _stored(con, kind, fs, day)
            assert set(got) == set(exp), day
            for line, e in exp.items():
                g = got[line]
                want = {b: v for b, v in enumerate(e["buckets"]) if v[0]}
                assert g["buckets"] == want, (day, line)
                assert g["hist"] == {k: s for k, s in e["hist"].items() if k > 0}, (day, line)
                assert (g["n"], g["first_peak"]) == (e["n"], e["first_peak"]), (day, line)
            lo = nv.midnight(day)
            crossing += sum(1 for _ln, a, e in ivs if a < lo < e)
    finally:
        con.close()
    assert crossing >= 3  # calls held at midnight, counted on both days


@pytest.mark.parametrize("rid,bucket", [("cdr.coincidences", 15), ("cdr.coincidences_out", 15),
                                        ("cdr.coincidences", 60)])
def test_reports_from_summaries_equal_the_sweep_and_the_naive_count(store, rid, bucket,
                                                                    monkeypatch):
    from pbxlens.config import get_settings

    monkeypatch.setenv("PBXLENS_COINCIDENCE_BUCKET_MIN", str(bucket))
    get_settings.cache_clear()
    con = db.connect(store.path, read_only=True)
    try:
        for d_from in PERIODS:
            for fs in ("no", "yes"):
                p = Params(date_from=d_from, date_to=d_from + timedelta(days=DAYS - 1),
                           filters={"from_start": [fs]})
                got = json.dumps(to_dict(run(con, rid, p)))
                with coincidence_days.disabled():
                    assert json.dumps(to_dict(run(con, rid, p))) == got, (d_from, fs)
                _check_naive(json.loads(got), store, rid == "cdr.coincidences_out", fs == "yes",
                             p, bucket * 60)
    finally:
        con.close()
        get_settings.cache_clear()


def _check_naive(d: dict, store: Store, by_config: bool, fs: bool, p: Params,
                 bucket_s: int) -> None:
    exp = nv.coincidences(nv.intervals(store.calls, by_config, from_start=fs), p.date_from,
                          p.date_to, bucket_s)
    t = d["tables"][0]
    span = nv.midnight(p.date_to + timedelta(days=1)) - nv.midnight(p.date_from)
    charts = {c["id"]: c for c in d["charts"]}
    for r in [*t["rows"], t["totals"]]:
        line = "*" if r is t["totals"] else r["key"]
        e = exp.get(line)
        if e is None:
            assert r["line.n"] == 0
            continue
        assert (r["line.n"], r["peak.peak"], r["peak.at"]) == (e["n"], e["peak"],
                                                                e["first_peak"]), line
        assert r["average.erlang"] == ratio(e["level_s"], span), line
        bh = max(range(len(e["hours"])), key=lambda h: (e["hours"][h], -h))
        assert r["busy_hour.erlang"] == ratio(e["hours"][bh], 3600), line
        for k in range(1, e["peak"] + 1):
            assert r[f"≥{k}.n"] == sum(s for lv, s in e["hist"].items() if lv >= k), (line, k)
        ch = charts["coincidences_all" if line == "*" else f"coincidences_{line}"]
        assert ch["series"][0]["data"] == [pk for pk, _s in e["buckets"]], line


def test_subsets_and_buckets_fall_back_to_the_sweep(store, monkeypatch):
    """One line (stored), two lines at once (the lines stored, their joint peak swept) and 5-
    minute buckets (all swept) equal the pure sweep and the naive count."""
    from pbxlens.config import get_settings

    con = db.connect(store.path, read_only=True)
    try:
        gws = [r[0] for r in con.execute("SELECT DISTINCT gateway FROM line_calls ORDER BY 1"
                                         ).fetchall()]
        d_from = PERIODS[1]
        for sel in (gws[:1], gws[:2], gws[1:]):
            p = Params(date_from=d_from, date_to=d_from + timedelta(days=DAYS - 1),
                       filters={"gateway": sel})
            d = to_dict(run(con, "cdr.coincidences", p))
            with coincidence_days.disabled():
                assert to_dict(run(con, "cdr.coincidences", p)) == d, sel
            ivs = [iv for iv in nv.intervals(store.calls, False) if iv[0] in sel]
            exp = nv.coincidences(ivs, p.date_from, p.date_to)
            tot = d["tables"][0]["totals"]
            assert (tot["line.n"], tot["peak.peak"]) == (exp["*"]["n"], exp["*"]["peak"]), sel
            assert tot["≥1.n"] == sum(s for lv, s in exp["*"]["hist"].items() if lv >= 1)
        monkeypatch.setenv("PBXLENS_COINCIDENCE_BUCKET_MIN", "5")
        get_settings.cache_clear()
        p = Params(date_from=d_from, date_to=d_from + timedelta(days=DAYS - 1))
        d = to_dict(run(con, "cdr.coincidences_out", p))
        exp = nv.coincidences(nv.intervals(store.calls, True), p.date_from, p.date_to, 300)
        charts = {c["id"]: c for c in d["charts"]}
        assert charts["coincidences_all"]["series"][0]["data"] == [
            pk for pk, _s in exp["*"]["buckets"]]
    finally:
        monkeypatch.delenv("PBXLENS_COINCIDENCE_BUCKET_MIN", raising=False)
        get_settings.cache_clear()
        con.close()


def _acme(uid: str) -> bool:
    return zlib.crc32(uid.encode()) % 3 == 0


def test_several_tenants(store, tmp_path):
    """Two tenants: each tenant's report comes from its summaries; the report over both
    (labels `line (tenant)`, totals = the joint concurrency of every line) sweeps the
    all-lines row and equals the pure sweep and the naive count."""
    rows = []
    with open(store.path.parent / "final.csv", encoding="utf-8", newline="") as f:
        rd = csv.DictReader(f)
        header = [*(rd.fieldnames or []), "tenant"]
        for r in rd:
            rows.append({**r, "tenant": "acme" if _acme(r["unique_id"]) else "default"})
    path = _write(tmp_path / "two.csv", header, rows)
    con = db.connect(tmp_path / "t.duckdb")
    ingest_paths(con, [path])
    try:
        assert {r[0] for r in con.execute("SELECT DISTINCT tenant FROM calls").fetchall()} == {
            "acme", "default"}
        p = Params(date_from=PERIODS[0], date_to=PERIODS[0] + timedelta(days=DAYS - 1))
        for tenant in (None, "acme", "default"):
            q = Params(date_from=p.date_from, date_to=p.date_to, tenant=tenant)
            got = to_dict(run(con, "cdr.coincidences", q))
            with coincidence_days.disabled():
                assert to_dict(run(con, "cdr.coincidences", q)) == got, tenant
            tot = got["tables"][0]["totals"]
            ivs = nv.intervals([c for c in store.calls
                                if tenant is None or _acme(c[0]["unique_id"])
                                == (tenant == "acme")], False)
            exp = nv.coincidences(ivs, p.date_from, p.date_to)["*"]
            assert (tot["line.n"], tot["peak.peak"]) == (exp["n"], exp["peak"]), tenant
    finally:
        con.close()


def test_a_shortened_call_leaves_the_next_day(tmp_path):
    """A call re-loaded without its midnight crossing: the next day's summary drops it (the
    days a replaced call held are captured before its derived rows go)."""
    from .conftest import CdrBuilder

    def one(end: str) -> CdrBuilder:
        b = CdrBuilder()
        b.call("2026-10-24 23:00:00", end, [], answer="2026-10-24 23:00:00",
               up="2026-10-24 23:00:00", bill="60")
        for r in b.rows:
            r[[*naive_fields()].index("gateway_name")] = "GW-X"
        return b

    con = db.connect(tmp_path / "s.duckdb")
    for i, end in enumerate(("2026-10-25 02:30:00", "2026-10-24 23:30:00")):
        folder = tmp_path / f"f{i}"
        one(end).write(folder)
        ingest_paths(con, [folder / "cdr_detailed.csv"])
    days = con.execute("SELECT DISTINCT day FROM coincidence_day_buckets").fetchall()
    assert days == [(date(2026, 10, 24),)]
    kept = _snapshot(con)
    coincidence_days.rebuild(con)
    assert _snapshot(con) == kept
    con.close()


def naive_fields() -> list[str]:
    from pbxlens.simulate.writers.common import CALL_FIELDS, DETAIL_FIELDS

    return [*CALL_FIELDS, *DETAIL_FIELDS]
