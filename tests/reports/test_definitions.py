"""Per-queue service-level definitions on hand-made queue days, on both operations-store
back-ends: each variant, per-queue T and S, totals over queues of different variants, the
definitions block, and that a queue left on the defaults reports what it reported before."""

from __future__ import annotations

from datetime import date

import pytest

from pbxlens.ingest import ingest_paths
from pbxlens.reports import Params, definitions, run
from pbxlens.scale import rollups
from pbxlens.store import Stores
from pbxlens.store.schema import SL_VARIANTS
from tests import templates

from .conftest import CdrBuilder, q

DAY = date(2026, 5, 4)


def queue_day() -> CdrBuilder:
    """Queue 800: 9 visits; queue 801: 3 visits (asa = answer − enter)."""
    b = CdrBuilder()

    def answered(t: str, asa: int, cause: str = "NCC", qid: str = "800", name="Coda Test"):
        h, m = t.split(":")
        start = f"2026-05-04 {t}:00"
        ans = f"2026-05-04 {h}:{int(m) + asa // 60:02d}:{asa % 60:02d}"
        end = f"2026-05-04 {h}:{int(m) + 5:02d}:00"
        b.call(start, end, [q(start, end, cause, ans, "301", qid=qid, name=name)], answer=ans,
               up=start, bill="100.000", answered_by="301")

    def lost(t: str, wait: int, cause: str = "CANCELED", qid: str = "800", name="Coda Test"):
        start = f"2026-05-04 {t}:00"
        h, m = t.split(":")
        end = f"2026-05-04 {h}:{int(m) + wait // 60:02d}:{wait % 60:02d}"
        b.call(start, end, [q(start, end, cause, qid=qid, name=name)],
               status="CANCELED" if cause == "CANCELED" else "NOANSWER", up=start)

    answered("09:00", 10)                     # c1 within 20 s
    answered("09:10", 15)                     # c2 within 20 s
    answered("09:20", 30)                     # c3 within 30 s, not 20 s
    answered("09:30", 60, "ATXFER")           # c4 slow, transferred
    lost("09:40", 3)                          # c5 abandoned in 3 s
    lost("09:50", 8)                          # c6 abandoned in 8 s
    lost("10:00", 45)                         # c7 abandoned in 45 s
    lost("10:10", 300, "NOANSWER")            # c8 timeout
    lost("10:20", 0, "JOINEMPTY")             # c9 never queued
    answered("11:00", 25, qid="801", name="Seconda")  # d1 slow
    lost("11:10", 2, qid="801", name="Seconda")       # d2 short abandon
    answered("11:20", 5, qid="801", name="Seconda")   # d3 fast
    return b


@pytest.fixture
def two_stores(tmp_path, ops_url, request):
    """Both stores on each operations back-end (tests/reports' own `stores` is the seeds')."""
    templates.migrated(tmp_path / "store.duckdb", ops_url, request)
    s = Stores(tmp_path / "store.duckdb", ops_url)
    yield s
    s.close()


@pytest.fixture
def day_stores(two_stores, tmp_path):
    queue_day().write(tmp_path / "src")
    with two_stores.writing() as cur:
        ingest_paths(cur, [tmp_path / "src"])
    return two_stores


def _queues(stores, rid="cdr.queues", **filters):
    with stores.cursor() as cur:
        return run(cur, rid, Params(date_from=DAY, date_to=DAY, filters=filters))


def _rows(result):
    return {r["key"]: r for r in result.tables[0].rows}


def test_default_definition_is_the_settings_abandon_aware_variant(day_stores):
    r = _queues(day_stores)
    rows = _rows(r)
    # 800: A = 4, within 20 s = 2, abandoned 3 of which 1 short (3 s < 5 s): 2 / (4 + 3 - 1)
    assert rows["800"]["kpi.sl"] == 33.33
    assert rows["800"]["kpi.short"] == 1
    assert rows["800"]["kpi.asa"] == (10 + 15 + 30 + 60) // 4
    # abandonment: 2 long abandons / (9 - 1 join-empty - 1 short)
    assert rows["800"]["kpi.ab_rate"] == 28.57
    # 801: A = 2, fast 1, Ab 1 short: 1 / (2 + 1 - 1)
    assert rows["801"]["kpi.sl"] == 50.0
    assert r.tables[0].totals["kpi.sl"] == round(100 * 3 / 8, 2)
    terms = [d["term"] for d in r.definitions]
    assert "service-level definition" in terms
    assert not [t for t in terms if t.startswith("service level · ")]


@pytest.mark.parametrize("variant", SL_VARIANTS)
def test_each_variant_on_the_hand_made_day(day_stores, variant):
    definitions.set_definition(day_stores, "default", "800", threshold_s=20, target_pct=80,
                               variant=variant, short_abandon_s=5, by="test")
    sl = _rows(_queues(day_stores))["800"]["kpi.sl"]
    want = {"abandon_aware": 2 / 6, "offered": 2 / 9, "answered": 2 / 4,
            "offered_no_short": 2 / 8}[variant]
    assert sl == round(100 * want, 2)
    assert sl == definitions.service_level(variant, fast=2, answered=4, abandoned=3, short=1,
                                           offered=9)


def test_queue_thresholds_and_totals_over_queues_of_different_variants(day_stores):
    definitions.set_definition(day_stores, "default", "800", threshold_s=30, target_pct=90,
                               variant="offered_no_short", short_abandon_s=10, by="test")
    r = _queues(day_stores)
    rows = _rows(r)
    # T = 30: c1, c2, c3 fast; S = 10: c5, c6 short -> 3 / (9 - 2)
    assert rows["800"]["kpi.sl"] == round(100 * 3 / 7, 2)
    assert rows["800"]["kpi.short"] == 2
    assert rows["800"]["kpi.sl_ans"] == 75.0
    assert rows["800"]["kpi.ab_rate"] == round(100 * 1 / 6, 2)  # c7 / (9 - 1 - 2)
    assert rows["801"]["kpi.sl"] == 50.0  # still on the defaults
    # the totals row and header strip: Σ hits / Σ each queue's own denominator
    assert r.tables[0].totals["kpi.sl"] == round(100 * (3 + 1) / (7 + 2), 2)
    assert r.tables[0].summary["service_level"] == r.tables[0].totals["kpi.sl"]
    own = [d for d in r.definitions if d["term"].startswith("service level · ")]
    assert len(own) == 1 and "Coda Test (800)" in own[0]["term"]
    assert "offered − short abandons" in own[0]["definition"] and "T = 30 s" in own[0]["definition"]
    # the per-queue definition reaches the per-date and per-hour tables too
    by_hour = _queues(day_stores, "cdr.queues_by_hour")
    t800 = next(t for t in by_hour.tables if t.key == "800")
    assert t800.totals["kpi.sl"] == rows["800"]["kpi.sl"]


def test_a_definition_equal_to_the_defaults_changes_no_number(day_stores):
    before = _queues(day_stores, "cdr.queues_by_date")
    definitions.set_definition(day_stores, "default", "800", threshold_s=20, target_pct=80,
                               variant="abandon_aware", short_abandon_s=5, by="test")
    after = _queues(day_stores, "cdr.queues_by_date")
    for a, b in zip(before.tables, after.tables, strict=True):
        assert a.rows == b.rows and a.totals == b.totals and a.summary == b.summary
    with rollups.disabled():
        raw = _queues(day_stores, "cdr.queues_by_date")
    assert [t.rows for t in raw.tables] == [t.rows for t in after.tables]


def test_definitions_in_the_operations_store(day_stores):
    s = day_stores
    assert definitions.get_definition(s, "default", "800").custom is False
    d = definitions.set_definition(s, "default", "800", threshold_s=15, target_pct=85,
                                   variant="answered", short_abandon_s=4, by="anna")
    assert d == definitions.get_definition(s, "default", "800")
    definitions.set_definition(s, "default", "800", threshold_s=25, target_pct=85,
                               variant="answered", short_abandon_s=4, by="anna")
    assert [x.threshold_s for x in definitions.list_definitions(s, "default")] == [25]
    assert definitions.list_definitions(s, "acme") == []
    with s.cursor() as cur:
        assert cur.execute("SELECT sl_threshold_s, sl_variant FROM queue_definitions"
                           ).fetchall() == [(25, "answered")]
    for bad in (dict(variant="nope"), dict(threshold_s=-1), dict(target_pct=0),
                dict(short_abandon_s=601)):
        kw = dict(threshold_s=20, target_pct=80, variant="answered", short_abandon_s=5) | bad
        with pytest.raises(definitions.DefinitionError):
            definitions.set_definition(s, "default", "800", **kw)
    assert definitions.delete_definition(s, "default", "800") is True
    assert definitions.delete_definition(s, "default", "800") is False
    with s.cursor() as cur:
        assert cur.execute("SELECT count(*) FROM queue_definitions").fetchone()[0] == 0
