"""The pipeline of post-batch steps: each step in its own transaction, records the last batch
it finished, resumes after a failure or a kill, and the steps that read a failed step's tables
wait for it."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
import textwrap

import duckdb
import pytest

from pbxlens import pipeline
from pbxlens.ingest import batch_ids, derive, ingest_paths, loader
from pbxlens.pipeline import STEPS, PipelineError, StepContext
from pbxlens.scale import rollups
from pbxlens.store import analytics as db
from tests.ingest.test_batch_paths import DERIVED, from_scratch, snapshot


def _marks(con) -> dict[str, int]:
    return {s.step: s.last_batch for s in pipeline.status(con)}


def test_steps_are_named_records_in_dependency_order():
    names = [s.name for s in STEPS]
    assert names[:5] == ["derive", "rollups", "activity", "rating", "reconcile"]
    assert len(set(names)) == len(names)
    with pytest.raises(dataclasses.FrozenInstanceError):
        STEPS[0].name = "x"  # type: ignore[misc]
    written: set[str] = set()
    for s in STEPS:  # a step never reads what a later step writes
        later = {t for x in STEPS[STEPS.index(s) + 1:] for t in x.writes}
        assert not set(s.reads) & later, s.name
        written |= set(s.writes)
    assert {"call_facts", "agent_talk", "call_costs", "missed_requests"} <= written


def test_steps_run_once_per_batch(sim_all, store):
    (r,) = ingest_paths(store, [sim_all / "cdr_detailed.csv"])
    assert set(_marks(store).values()) == {r.batch_id}
    assert pipeline.pending(store) == pipeline.Pending(r.batch_id, 0, 0)
    again = pipeline.run_pending(StepContext(store))
    assert [x.batches for x in again] == [0] * len(STEPS)
    assert snapshot(store, DERIVED) == from_scratch(store)


def test_a_failing_step_waits_its_readers_and_resumes(sim_all, store, monkeypatch):
    def broken(con, batch_ids):
        raise duckdb.InvalidInputException("disk on fire")

    monkeypatch.setattr(derive, "refresh", broken)
    with pytest.raises(PipelineError, match="derive failed: disk on fire"):
        ingest_paths(store, [sim_all / "cdr_detailed.csv"])
    (batch, calls), = store.execute("SELECT batch_id, calls_loaded FROM ingest_batches").fetchall()
    marks = _marks(store)
    # rating reads only calls and call_legs: it went on; the readers of derived tables wait
    assert marks == {"derive": 0, "rollups": 0, "activity": 0, "rating": batch, "reconcile": 0}
    st = {s.step: s for s in pipeline.status(store)}
    assert st["derive"].error == "disk on fire" and st["derive"].calls_behind == calls
    assert pipeline.pending(store) == pipeline.Pending(0, 1, calls)
    assert store.execute("SELECT count(*) FROM call_facts").fetchone()[0] == 0

    monkeypatch.undo()
    runs = pipeline.run_pending(StepContext(store))
    assert {r.step: r.batches for r in runs} == {
        "derive": 1, "rollups": 1, "activity": 1, "rating": 0, "reconcile": 1}
    assert set(_marks(store).values()) == {batch}
    assert pipeline.status(store)[0].error is None
    assert snapshot(store, DERIVED) == from_scratch(store)


def test_a_batch_committed_during_the_steps_waits_for_the_next_run(sim_all, store, monkeypatch):
    # Another lane (the webhook inbox's moves) commits batches while the steps run. The run
    # ends at the batch it started with: read afresh per step, the new batch put every step
    # after derive "waiting for derive", and the file's callback requests waited for the next
    # ingest.
    real, other = derive.refresh, store.cursor()

    def refresh_then_a_webhook_batch(con, batch_ids):
        real(con, batch_ids)
        other.execute("INSERT INTO ingest_batches (source, sha256, format, started_at,"
                      " finished_at) VALUES ('/api/events', 'x', 'events', now(), now())")

    monkeypatch.setattr(derive, "refresh", refresh_then_a_webhook_batch)
    (r,) = ingest_paths(store, [sim_all / "cdr_detailed.csv"])
    assert set(_marks(store).values()) == {r.batch_id}
    assert store.execute("SELECT count(*) FROM missed_requests").fetchone()[0] > 0
    monkeypatch.undo()
    pipeline.run_pending(StepContext(store))  # the next run passes the (empty) new batch
    assert set(_marks(store).values()) == {r.batch_id + 1}
    assert snapshot(store, DERIVED) == from_scratch(store)


def test_a_lower_batch_still_loading_in_another_lane_holds_the_steps(sim_all, store):
    # The inbox lane took a batch id and is still moving rows when the main lane commits a
    # file with a higher id. Had the file's steps gone through its id, the move's batch would
    # have been behind every step once committed, and never processed.
    other = store.cursor()
    low = loader.begin_batch(other)
    try:
        (r,) = ingest_paths(store, [sim_all / "cdr_detailed.csv"])
        assert r.batch_id > low
        assert set(_marks(store).values()) == {low - 1}
        assert store.execute("SELECT count(*) FROM call_facts").fetchone()[0] == 0
        other.execute("INSERT INTO ingest_batches (batch_id, source, sha256, format, started_at,"
                      " finished_at) VALUES (?, 'event_inbox:1-1', 'x', 'webhook_inbox', now(),"
                      " now())", [low])
        other.execute("COMMIT")
    finally:
        batch_ids.done(low)
    pipeline.run_pending(StepContext(store))
    assert set(_marks(store).values()) == {r.batch_id}
    assert snapshot(store, DERIVED) == from_scratch(store)


def test_a_kill_between_steps_resumes_where_each_step_stands(sim_all, tmp_path):
    path = tmp_path / "killed.duckdb"
    # a real kill: the process dies inside the rollups step, after derive committed
    child = textwrap.dedent(f"""
        import os
        from pathlib import Path
        from pbxlens.store import analytics as db
        from pbxlens.ingest import ingest_paths
        from pbxlens.scale import rollups
        rollups.refresh = lambda con, ids: os._exit(9)
        ingest_paths(db.connect({str(path)!r}), [Path({str(sim_all / 'cdr_detailed.csv')!r})])
    """)
    proc = subprocess.run([sys.executable, "-c", child], env={**os.environ}, cwd=os.getcwd())
    assert proc.returncode == 9
    con = db.connect(path)
    try:
        assert _marks(con) == {"derive": 1, "rollups": 0, "activity": 0, "rating": 0,
                               "reconcile": 0}
        assert pipeline.pending(con).calls > 0
        (again,) = ingest_paths(con, [sim_all / "cdr_detailed.csv"])  # a rerun
        assert again.skipped
        assert set(_marks(con).values()) == {1}
        assert snapshot(con, DERIVED) == from_scratch(con)
    finally:
        con.close()


def test_a_step_added_later_derives_the_history(sim_all, store, monkeypatch):
    seen = []
    extra = pipeline.Step("audit", reads=("calls",), writes=("audit_rows",),
                          run=lambda ctx, ids: seen.append(ids))
    (r,) = ingest_paths(store, [sim_all / "cdr_summary.csv"])
    monkeypatch.setattr(pipeline, "STEPS", (*STEPS, extra))
    pipeline.run_pending(StepContext(store))
    assert seen == [(r.batch_id,)]
    assert pipeline.run_pending(StepContext(store))[-1].batches == 0


def test_after_runs_once_the_step_committed(sim_all, store, monkeypatch):
    seen = []

    def after(ctx):  # the step's rows are committed: a new cursor sees its mark
        seen.append(ctx.con.cursor().execute(
            "SELECT last_batch FROM pipeline_steps WHERE step = 'audit'").fetchone())

    extra = pipeline.Step("audit", reads=("calls",), writes=(), run=lambda ctx, ids: None,
                          after=after)
    monkeypatch.setattr(pipeline, "STEPS", (*STEPS, extra))
    (r,) = ingest_paths(store, [sim_all / "cdr_summary.csv"])
    assert seen == [(r.batch_id,)]
    pipeline.run_pending(StepContext(store))  # nothing to do: no hook
    assert len(seen) == 1


def test_a_rebuild_first_brings_every_step_up(sim_all, store):
    ingest_paths(store, [sim_all / "cdr_detailed.csv"])
    store.execute("UPDATE pipeline_steps SET last_batch = 0 WHERE step = 'activity'")
    store.execute("DELETE FROM agent_talk")
    pipeline.rebuild(StepContext(store), (rollups.rebuild,))
    assert not pipeline.pending(store).behind
    assert snapshot(store, DERIVED) == from_scratch(store)


def test_file_seconds_cover_the_whole_file(sim_all, store):
    (r,) = ingest_paths(store, [sim_all / "cdr_detailed.csv"])
    parse_s, load_s = store.execute("SELECT parse_s, load_s FROM ingest_batches").fetchone()
    assert r.seconds >= round(parse_s + load_s, 3) > 0


def test_status_shows_each_step(sim_all, tmp_path):
    path = tmp_path / "s.duckdb"
    con = db.connect(path)
    ingest_paths(con, [sim_all / "cdr_summary.csv"])
    con.close()
    out = subprocess.run([sys.executable, "-m", "pbxlens", "status", "--db", str(path)],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "post-batch steps" in out.stdout
    for s in STEPS:
        assert s.name in out.stdout
