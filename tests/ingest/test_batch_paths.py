"""The loader's fast path (a batch of new calls is appended as it is) and its general path
(each call classified against the stored calls) give identical stores; and the derived facts
kept batch by batch equal the facts derived from scratch, after any sequence of loads:
overlapping exports, newer versions of calls (other day, other content), a summary export
over calls whose path is stored, in any order."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pbxlens.billing import rating
from pbxlens.ingest import activity, derive, ingest_paths, loader
from pbxlens.missed_calls import reconcile
from pbxlens.reports import coincidence_days
from pbxlens.scale import rollups
from pbxlens.store import analytics as db

FACTS = ("calls", "call_legs")
DERIVED = (*derive.TABLES, *(r.table for r in rollups.ROLLUPS), "agent_talk",
           "missed_events", "missed_contacts", "missed_requests", "missed_attempts",
           "call_costs", *coincidence_days.TABLES)
N_CALLS = 120


def _rows(path: Path) -> tuple[list[str], list[list[str]]]:
    rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"))))
    return rows[0], rows[1:]


def _write(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows([header, *rows])
    path.write_text(buf.getvalue(), encoding="utf-8")
    return path


def _newer(row: list[str], how: int) -> list[str]:
    """A newer version of a call's row: the whole call a day later, or another bill time."""
    if how == 0:
        return [c.replace("2026-05-12", "2026-05-13").replace("2026-05-11", "2026-05-12")
                for c in row]
    out = list(row)
    out[16] = str(round(float(out[16] or 0) + 7.5, 3))  # bill_secs
    return out


@pytest.fixture(scope="module")
def calls(sim_all) -> tuple[list[str], dict[str, list[list[str]]], list[str], list[list[str]]]:
    header, body = _rows(sim_all / "cdr_detailed.csv")
    by_uid: dict[str, list[list[str]]] = {}
    for r in body:
        by_uid.setdefault(r[0], []).append(r)
    keep = dict(list(by_uid.items())[:N_CALLS])
    s_header, s_body = _rows(sim_all / "cdr_summary.csv")
    return header, keep, s_header, [r for r in s_body if r[0] in keep]


def _files(tmp: Path, calls, plan) -> list[Path]:
    """plan: (chunks, summary_at): each chunk a list of (call index, version); the summary
    export (of every call) goes at position summary_at when it is not None."""
    header, by_uid, s_header, s_rows = calls
    uids = list(by_uid)
    chunks, summary_at = plan
    files = []
    for n, chunk in enumerate(chunks):
        rows = []
        for i, version in sorted(dict(chunk).items()):  # one version of a call per export
            rows += [r if version < 0 else _newer(r, version) for r in by_uid[uids[i]]]
        files.append(_write(tmp / f"chunk{n}.csv", header, rows))
    if summary_at is not None:
        files.insert(summary_at, _write(tmp / "summary.csv", s_header, s_rows))
    return files


def snapshot(con, tables) -> dict[str, list]:
    return {t: con.execute(f"SELECT * FROM {t} ORDER BY ALL").fetchall() for t in tables}


def from_scratch(con, tables: tuple[str, ...] = DERIVED) -> dict[str, list]:
    con.execute("BEGIN")
    derive.rebuild(con)
    activity.rebuild(con)
    reconcile.rebuild_all(con)
    rating.rate_all(con)
    coincidence_days.rebuild(con)
    out = snapshot(con, tables)
    con.execute("ROLLBACK")
    return out


def _load(path: Path, files: list[Path], *, fast: bool, monkeypatch) -> object:
    monkeypatch.setattr(loader, "FAST_PATH", fast)
    con = db.connect(path)
    for f in files:  # one ingest per file: the steps run after each, as for a daily pull
        (r,) = ingest_paths(con, [f])
        assert r.error is None and r.rows_quarantined == 0, r
    return con


chunk = st.lists(st.tuples(st.integers(0, N_CALLS - 1),
                           st.sampled_from([-1, -1, -1, -1, 0, 1])), min_size=1, max_size=80)
plans = st.tuples(st.lists(chunk, min_size=1, max_size=4),
                  st.one_of(st.none(), st.integers(0, 4)))


@settings(max_examples=6, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture,
                                 HealthCheck.too_slow, HealthCheck.data_too_large])
@given(plan=plans)
def test_fast_and_general_paths_and_scratch_agree(plan, calls, tmp_path_factory, monkeypatch):
    tmp = tmp_path_factory.mktemp("paths")
    files = _files(tmp, calls, (plan[0], min(plan[1], len(plan[0])) if plan[1] is not None
                                else None))
    fast = _load(tmp / "fast.duckdb", files, fast=True, monkeypatch=monkeypatch)
    general = _load(tmp / "general.duckdb", files, fast=False, monkeypatch=monkeypatch)
    try:
        assert snapshot(fast, FACTS) == snapshot(general, FACTS)
        batched = snapshot(fast, DERIVED)
        assert batched == snapshot(general, DERIVED)
        assert batched == from_scratch(fast)
        assert fast.execute("SELECT count(*) FROM replaced_calls").fetchone()[0] == 0  # pruned
    finally:
        fast.close()
        general.close()


def test_a_newer_version_on_another_day_moves_its_rollup_rows(calls, store, tmp_path):
    """The changed call's old day is recomputed too (replaced_calls carries it)."""
    plan = ([[(i, -1) for i in range(20)], [(3, 0), (4, 1)]], None)
    f1, f2 = _files(tmp_path, calls, plan)
    ingest_paths(store, [f1])
    (r,) = ingest_paths(store, [f2])
    assert r.calls_loaded == 2 and r.rows_duplicate == 0
    assert snapshot(store, DERIVED) == from_scratch(store)
    days = store.execute("SELECT DISTINCT day FROM call_facts_hourly ORDER BY 1").fetchall()
    assert len(days) >= 2


def test_a_call_moved_to_another_day_leaves_its_old_days_coincidences(calls, store, tmp_path):
    """The derive step captures the intervals a replaced call's line_calls rows held before it
    replaces them: the day the call left is swept again (no other call of the batch is on it)."""
    plan = ([[(i, -1) for i in range(20)], [(3, 0)]], None)
    f1, f2 = _files(tmp_path, calls, plan)
    ingest_paths(store, [f1])
    before = store.execute("SELECT day FROM line_calls WHERE unique_id = ?",
                           [list(calls[1])[3]]).fetchall()
    (r,) = ingest_paths(store, [f2])
    after = store.execute("SELECT day FROM line_calls WHERE unique_id = ?",
                          [list(calls[1])[3]]).fetchall()
    assert r.calls_loaded == 1 and before and after and before != after
    assert snapshot(store, coincidence_days.TABLES) == from_scratch(store, coincidence_days.TABLES)
