"""Line reports' edge cases: coincidences on a hand-made CDR (back-to-back calls on one channel, a call
with start = end, a call spanning the whole range, the DST spring day), wait-bucket borders,
Erlang B against published table values, number classification of real-format numbers."""

from __future__ import annotations

import copy
import json
from datetime import date, datetime, timedelta
from pathlib import Path

import duckdb
import pytest

from pbxlens.ingest import ingest_paths
from pbxlens.models import numbers
from pbxlens.reports import Params, run
from pbxlens.reports.erlang import blocking, channels_for
from pbxlens.reports.export import to_dict
from pbxlens.simulate.writers.common import CALL_FIELDS
from pbxlens.store import analytics as db

from . import naive_lines_waits_numbers as nv
from .conftest import DIRECTORY, CdrBuilder, q

DAY = date(2026, 3, 29)  # Europe/Rome springs forward: 02:00 -> 03:00, a 23-hour day
GW = CALL_FIELDS.index("gateway_name")


def _gw(b: CdrBuilder, name: str) -> None:
    """Set the gateway of the last call written (the builder leaves it empty)."""
    uid = b.rows[-1][0]
    for r in b.rows:
        if r[0] == uid:
            r[GW] = name


@pytest.fixture(scope="module")
def lines_store(tmp_path_factory) -> Path:
    b = CdrBuilder()
    # spans the whole range: 28/03 23:00 -> 30/03 01:00
    b.call("2026-03-28 23:00:00", "2026-03-30 01:00:00", [], answer="2026-03-28 23:00:00",
           up="2026-03-28 23:00:00", duration="25:00:00", bill="90000")
    _gw(b, "GW-T")
    # back to back on one channel: the second starts the second the first ends
    for s, e in (("10:00:00", "10:05:00"), ("10:05:00", "10:10:00")):
        b.call(f"2026-03-29 {s}", f"2026-03-29 {e}", [], answer=f"2026-03-29 {s}",
               up=f"2026-03-29 {s}", bill="300")
        _gw(b, "GW-T")
    # answered and ended in the same second: holds nothing
    b.call("2026-03-29 11:00:00", "2026-03-29 11:00:00", [], answer="2026-03-29 11:00:00",
           up="2026-03-29 11:00:00", duration="00:00:00")
    _gw(b, "GW-T")
    # across the missing hour: 01:59 -> 03:01 local is 120 s
    b.call("2026-03-29 01:59:00", "2026-03-29 03:01:00", [], answer="2026-03-29 01:59:00",
           up="2026-03-29 01:59:00", duration="00:02:00", bill="120")
    _gw(b, "GW-T")
    # an outgoing call through the configuration Uscita-T (answered 10 s after its start)
    b.call("2026-03-29 12:00:00", "2026-03-29 12:05:00", [
        {"type": "obl", "id": "Uscita-T", "name": "GW-T", "enter": "2026-03-29 12:00:00",
         "answer": "2026-03-29 12:00:10", "exit": "2026-03-29 12:05:00", "cause": "NCC"}],
        src="local_exten", dst="obl", answer="2026-03-29 12:00:10", up="2026-03-29 12:00:10",
        caller="301", called="0 0341 481111", bill="290")
    _gw(b, "GW-T")
    # answered queue calls waiting 10, 11, 20, 120, 121 s (bucket borders)
    for i, w in enumerate((10, 11, 20, 120, 121)):
        t0 = datetime(2026, 3, 29, 15, 0, 0) + timedelta(minutes=5 * i)
        s, a, e = (x.strftime("%Y-%m-%d %H:%M:%S")
                   for x in (t0, t0 + timedelta(seconds=w), t0 + timedelta(minutes=4)))
        b.call(s, e, [q(s, e, "NCC", a, "301")], answer=a, up=s, bill="10",
               answered_by="301")
    folder = tmp_path_factory.mktemp("lines_edge")
    b.write(folder)
    d = copy.deepcopy(DIRECTORY)
    d["gateways"] = [{"tenant": "default", "name": "GW-T", "channel_limit": 2}]
    d["outbound_configurations"] = [{"tenant": "default", "name": "Uscita-T",
                                     "gateway": "GW-T", "channel_limit": 1}]
    (folder / "directory.json").write_text(json.dumps(d), encoding="utf-8")
    path = folder / "store.duckdb"
    con = db.connect(path)
    ingest_paths(con, [folder / "cdr_detailed.csv", folder / "directory.json"])
    assert con.execute("SELECT count(*) FROM quarantine").fetchone()[0] == 0
    con.close()
    return path


def _run(path: Path, rid: str, **filters) -> dict:
    con = db.connect(path, read_only=True)
    try:
        return to_dict(run(con, rid, Params(date_from=DAY, date_to=DAY,
                                            filters={k: [v] for k, v in filters.items()})))
    finally:
        con.close()


def test_coincidence_edges(lines_store):
    d = _run(lines_store, "cdr.coincidences")
    (row,) = d["tables"][0]["rows"]
    assert row["key"] == "GW-T" and row["line.limit"] == 2
    assert row["line.n"] == 5  # the zero-length call holds nothing and is not counted
    assert row["peak.peak"] == 2  # back to back never overlap; the spanning call is the base
    assert row["peak.pct"] == 100.0
    day_s = 23 * 3600
    assert row["≥1.n"] == day_s  # the spanning call, clipped to the 23-hour day
    assert row["≥2.n"] == 600 + 120 + 290  # back-to-back pair, DST call, outgoing call
    assert "≥3.n" not in row
    assert row["average.erlang"] == round((day_s + 1010) / day_s, 2)
    ch = d["charts"][0]
    assert len(ch["x"]) == day_s // 900  # 92 quarter hours
    assert ch["x"][7].endswith("01:45") and ch["x"][8].endswith("03:00")  # 02:xx never exists
    peak = ch["series"][0]
    assert peak["data"][7] == 2 and peak["data"][8] == 2  # the DST call, both sides of the gap
    assert peak["colors"][7] == "#c62828" and peak["colors"][0] == "#2e7d32"  # 100 %, 50 %
    assert ch["series"][1]["data"][7] == round((900 + 60) / 900, 2)  # 01:59-02:00 at 2


def test_coincidences_out_edges(lines_store):
    d = _run(lines_store, "cdr.coincidences_out")
    (row,) = d["tables"][0]["rows"]
    assert (row["key"], row["line.limit"], row["line.n"], row["peak.peak"]) == (
        "Uscita-T", 1, 1, 1)
    assert row["≥1.n"] == 290
    assert row["busy_hour.erlang"] == round(290 / 3600, 2)
    assert row["busy_hour.erlang_b"] == channels_for(290 / 3600, 0.01) == 2  # B(0.08, 1) = 7 %
    d = _run(lines_store, "cdr.coincidences_out", from_start="yes")
    assert d["tables"][0]["rows"][0]["≥1.n"] == 300


def test_wait_bucket_borders(lines_store):
    d = _run(lines_store, "cdr.queue_wait_times")
    got = {r["label"]: r["calls.n"] for r in d["tables"][0]["rows"]}
    assert got == {**dict.fromkeys(nv.BUCKETS, 0), "0-10": 1, "11-20": 2, "111-120": 1,
                   "> 120": 1}
    assert d["tables"][0]["rows"][1]["calls.pct"] == 40.0


def test_bucket_setting_must_divide_an_hour(lines_store, monkeypatch):
    from pbxlens import PbxlensError
    from pbxlens.config import get_settings

    monkeypatch.setenv("PBXLENS_COINCIDENCE_BUCKET_MIN", "7")
    get_settings.cache_clear()
    try:
        with pytest.raises(PbxlensError, match="divide 60"):
            _run(lines_store, "cdr.coincidences")
        monkeypatch.setenv("PBXLENS_COINCIDENCE_BUCKET_MIN", "60")
        get_settings.cache_clear()
        d = _run(lines_store, "cdr.coincidences")
        assert len(d["charts"][0]["x"]) == 23
    finally:
        monkeypatch.delenv("PBXLENS_COINCIDENCE_BUCKET_MIN")
        get_settings.cache_clear()


# ----------------------------------------------------------------------------- Erlang B

# Published Erlang B table (lost-calls-cleared), traffic in Erlangs for N channels at a grade
# of service of 1 % and 5 % (e.g. the ITU-T / Siemens tables reproduced in every trunking text).
ERLANG_B_1 = {1: 0.0101, 2: 0.153, 5: 1.36, 10: 4.46, 20: 12.0, 30: 20.3, 50: 37.9, 100: 84.1}
ERLANG_B_5 = {1: 0.0526, 5: 2.22, 10: 6.22, 20: 15.2, 50: 44.5}


@pytest.mark.parametrize("gos,table", [(0.01, ERLANG_B_1), (0.05, ERLANG_B_5)])
def test_erlang_b_table(gos, table):
    for n, a in table.items():
        assert blocking(a, n) == pytest.approx(gos, rel=0.04), (n, a)
        assert channels_for(a * 0.995, gos) == n, (n, a)
        assert channels_for(a * 1.03, gos) > n, (n, a)
        assert channels_for(a, gos) == nv.erlang_b_channels(a, gos)  # closed form
    assert channels_for(0, gos) == 0
    assert blocking(0.0, 3) == 0.0


# ----------------------------------------------------------------------------- numbers

NUMBERS = [
    # (as dialled, class, province)
    ("02 1234 5678", "fixed", "MI"), ("+39 02 12345678", "fixed", "MI"),
    ("0039 06 4567 8901", "fixed", "RM"), ("011 5611111", "fixed", "TO"),
    ("051 6343111", "fixed", "BO"), ("0341 481111", "fixed", "LC"),
    ("0371 409111", "fixed", "LO"), ("035 399111", "fixed", "BG"),
    ("0376 338111", "fixed", "MN"), ("0342 526111", "fixed", "SO"),
    ("0332 255111", "fixed", "VA"), ("081 7951111", "fixed", "NA"),
    ("091 7401111", "fixed", "PA"), ("0461 884111", "fixed", "TN"),
    ("0471 997111", "fixed", "BZ"), ("0784 238600", "fixed", "NU"),
    ("0781 274200", "fixed", "SU"), ("0883 290111", "fixed", "BT"),
    ("0933 34111", "fixed", "CT"), ("0549 882111", "fixed", "SM"),
    ("347 123 4567", "mobile", None), ("+39 333 1234567", "mobile", None),
    ("0039 320 1234567", "mobile", None), ("389 123456", "mobile", None),
    ("800 123 456", "toll_free", None), ("+39 800 123456", "toll_free", None),
    ("803 116", "toll_free", None),
    ("+44 20 7946 0958", "international", None), ("0033 1 42 68 53 00", "international", None),
    ("+1 212 555 0100", "international", None), ("+41 44 668 18 00", "international", None),
    ("0049 30 901820", "international", None), ("00 34 91 123 4567", "international", None),
    ("892 892", "other", None), ("199 123 456", "other", None), ("848 800 123", "other", None),
    ("112", "other", None), ("", "other", None),
]


def test_number_classification():
    con = duckdb.connect()
    got = numbers.classify(con, [n for n, _c, _p in NUMBERS])
    codes = nv.area_codes(Path(numbers.__file__).parent / "data" / "it_area_codes.csv")
    for num, cls, prov in NUMBERS:
        assert got[num] == (cls, prov), num
        assert nv.classify(num, codes) == (cls, prov), num  # phonenumbers' own API agrees


def test_line_prefix_is_stripped_first():
    con = duckdb.connect()
    nums = ["0 02 1234 5678", "0 347 1234567", "0 0044 20 7946 0958", "0 800 123456", "0"]
    got = numbers.classify(con, nums, line_prefix="0")
    assert [got[n] for n in nums] == [("fixed", "MI"), ("mobile", None),
                                      ("international", None), ("toll_free", None),
                                      ("other", None)]


def test_area_code_table_covers_every_province():
    codes = numbers.area_codes()
    provs = {p for _a, p, _d in codes} - {"SM"}
    assert len(provs) == 107  # every Italian province (2017-2025 list, Sud Sardegna = SU)
    import phonenumbers.geodata as geo

    known = {k[2:] for k in geo.GEOCODE_DATA if k.startswith("390") and k != "3906698"}
    assert known == {a for a, _p, _d in codes}  # every district phonenumbers knows


def test_provinces_with_line_prefix(lines_store, monkeypatch):
    from pbxlens.config import get_settings

    d = _run(lines_store, "cdr.provinces")
    assert d["tables"][1]["rows"] == []  # "0 0341 ..." reads as international without it
    monkeypatch.setenv("PBXLENS_LINE_PREFIX", "0")
    get_settings.cache_clear()
    try:
        d = _run(lines_store, "cdr.provinces")
        assert [(r["key"], r["total.n"], r["ok.n"]) for r in d["tables"][1]["rows"]] == [
            ("LC", 1, 1)]
        c = _run(lines_store, "cdr.conversation_times")
        assert c["tables"][0]["totals"]["fixed.talk"] == 290
    finally:
        monkeypatch.delenv("PBXLENS_LINE_PREFIX")
        get_settings.cache_clear()


@pytest.mark.parametrize("rid", ["cdr.coincidences", "cdr.coincidences_out",
                                 "cdr.queue_wait_times", "cdr.incoming_wait_times",
                                 "cdr.queue_abandon_times", "cdr.incoming_abandon_times",
                                 "cdr.conversation_times", "cdr.provinces"])
def test_page_components_and_xlsx(lines_store, rid, tmp_path):
    """The generic report page and the XLSX export take these reports as they are."""
    import openpyxl

    from pbxlens.dashboards.components.charts import figure
    from pbxlens.dashboards.components.report_view import render_result
    from pbxlens.reports.export import to_xlsx

    con = db.connect(lines_store, read_only=True)
    try:
        res = run(con, rid, Params(date_from=DAY, date_to=DAY, lang="it"))
    finally:
        con.close()
    render_result(res, "it")
    for c in res.charts:
        figure(c, "it")
    to_xlsx(res, tmp_path / "r.xlsx")
    wb = openpyxl.load_workbook(tmp_path / "r.xlsx")
    assert len(wb.worksheets) == len(res.tables)


def test_line_calls_migration_uses_the_derive_statement():
    from pbxlens.ingest import derive

    sql = next(s for v, _n, s in db.migrations() if v == 13)
    (stmt,) = derive.backfill_sql((derive.LINE_CALLS_SQL,))
    assert stmt.rstrip() in sql, "regenerate 0013_line_calls.sql from derive.LINE_CALLS_SQL"


def test_sql_transpiles():
    """The new families' SQL stays within what sqlglot transpiles (design.md)."""
    import sqlglot

    from pbxlens.reports import coincidence_days, number
    from pbxlens.reports.catalog import get

    p = Params(date_from=DAY, date_to=DAY)
    ask = coincidence_days.Ask("gateway", False, None, ("GW-1", "GW-2"), DAY, DAY, 0, 86400, 900)
    sqls = [coincidence_days.stored_sql(ask)[0], coincidence_days.swept_sql(ask)[0],
            get("cdr.queue_abandon_times").build.query(p, DAY, DAY)[0],
            get("cdr.incoming_wait_times").build.query(p, DAY, DAY)[0],
            number.provinces_query(p, DAY, DAY)[0]]
    for sql in sqls:
        for dialect in ("spark", "clickhouse", "postgres"):
            assert sqlglot.transpile(sql, read="duckdb", write=dialect)
