"""The durable webhook inbox on both operations back-ends: committed before the answer, moved
into DuckDB exactly once (a watermark in the same DuckDB transaction), follow-ups that survive a
crash, and an intake that never waits for the analytics writer."""

from __future__ import annotations

import itertools
import json
import threading
import time

import pytest
import sqlalchemy as sa

from pbxlens import pipeline
from pbxlens.ingest import inbox, inbox_move
from pbxlens.ingest.webhook_bodies import parse_events, parse_parameters
from pbxlens.store import Stores, schema

DR = (b"<parameters><unique_id>{uid}</unique_id><caller>3331234567</caller>"
      b"<param1>Sales</param1><param2>queue</param2></parameters>")


def ev(eid: int, name: str = "pbx.queue.enter", uid: str = "1.1", **params) -> dict:
    return {"event_id": eid, "event_name": name, "event_timestamp": "1778480000.5",
            "event_pbx_serial": "S1", "params": {"unique_id": uid, **params}}


def events(*evs) -> list[dict]:
    return parse_events(json.dumps(list(evs)).encode())


def dr(uid: str) -> list[dict]:
    return [parse_parameters(DR.replace(b"{uid}", uid.encode()), feedback=False)]


@pytest.fixture
def intake(stores):
    ib = inbox.Inbox(stores.ops)
    yield ib
    ib.close()


def q(stores, sql, params=None):
    with stores.cursor() as cur:
        return cur.execute(sql, params or []).fetchall()


def move(stores) -> dict:
    with stores.writing() as cur:
        return inbox_move.move(cur, stores.ops)


def test_committed_then_moved_once(stores, intake):
    intake.accept("events", events(ev(1), ev(2), ev(1)))
    intake.accept("events", events(ev(2), ev(3, "pbx.call.end")))  # 2 again: a resend
    intake.accept("dynamic_routing", dr("9.1"), "10.0.0.7")
    intake.accept("dynamic_routing", dr("9.1"))
    intake.reject("events", "{not json", "invalid JSON: Expecting value")
    assert inbox.backlog(stores.ops)["pending"] == 5  # committed, not yet in DuckDB
    assert q(stores, "SELECT count(*) FROM pbx_events") == [(0,)]
    res = move(stores)
    assert (res["inbox_rows"], res["pbx_events"], res["dynamic_routing_requests"]) == (5, 3, 1)
    assert (res["rows_read"], res["rows_loaded"], res["rows_quarantined"]) == (7, 4, 1)
    assert q(stores, "SELECT event_key FROM pbx_events ORDER BY 1") == [("1",), ("2",), ("3",)]
    assert q(stores, "SELECT unique_id, remote_addr, param1 FROM dynamic_routing_requests") == [
        ("9.1", "10.0.0.7", "Sales")]
    assert q(stores, "SELECT source, raw, reason FROM quarantine") == [
        ("webhook:events", "{not json", "invalid JSON: Expecting value")]
    assert q(stores, "SELECT format, rows_loaded, rows_duplicate, rows_quarantined"
                     " FROM ingest_batches") == [("webhook_inbox", 4, 3, 1)]
    assert inbox.backlog(stores.ops)["pending"] == 0
    assert move(stores)["inbox_rows"] == 0
    intake.accept("events", events(ev(1), ev(4)))  # later: only the new key is stored
    assert move(stores)["pbx_events"] == 1
    assert q(stores, "SELECT count(*) FROM pbx_events") == [(4,)]


def test_crash_between_duckdb_commit_and_ops_mark(stores, intake, monkeypatch):
    intake.accept("events", events(ev(1), ev(2)))
    intake.reject("events", "<bad>", "invalid JSON")
    real = inbox_move._mark_moved
    monkeypatch.setattr(inbox_move, "_mark_moved", lambda engine, last: None)  # "killed" here
    move(stores)
    assert inbox.backlog(stores.ops)["pending"] == 2
    monkeypatch.setattr(inbox_move, "_mark_moved", real)
    again = move(stores)
    assert again["inbox_rows"] == 0  # past the watermark: nothing moved twice
    assert inbox.backlog(stores.ops)["pending"] == 0
    assert q(stores, "SELECT count(*) FROM pbx_events") == [(2,)]
    assert q(stores, "SELECT count(*) FROM quarantine") == [(1,)]
    assert q(stores, "SELECT count(*) FROM ingest_batches") == [(1,)]


def test_the_moved_rows_are_one_number_and_pruned_after_retention(stores, intake):
    """The move records the highest id moved (one row, however many it moved); pruning takes
    moved rows past the retention, never a pending one nor the newest row."""
    from datetime import UTC, datetime, timedelta

    for i in range(1, 4):
        intake.accept("events", events(ev(i)))
    move(stores)
    intake.accept("events", events(ev(4)))  # pending
    with stores.ops_read() as c:
        assert inbox.moved_upto(c) == 3
    assert inbox.backlog(stores.ops)["pending"] == 1
    later = datetime.now(UTC) + timedelta(days=8)  # past the default 7 days
    commits: list[object] = []

    def seen(conn) -> None:
        commits.append(conn)

    sa.event.listen(stores.ops, "commit", seen)
    try:  # nothing past the retention: found in a read, no write transaction
        assert inbox_move.prune(stores.ops, datetime.now(UTC)) == {"inbox_rows": 0,
                                                                   "live_calls": 0}
    finally:
        sa.event.remove(stores.ops, "commit", seen)
    assert commits == []
    assert inbox_move.prune(stores.ops, later)["inbox_rows"] == 3
    move(stores)
    assert inbox_move.prune(stores.ops, later)["inbox_rows"] == 0  # the newest stays
    with stores.ops_read() as c:
        assert c.execute(sa.select(schema.event_inbox.c.id)).scalars().all() == [4]
    assert inbox.backlog(stores.ops)["pending"] == 0


def test_a_row_duckdb_refuses_is_quarantined_not_a_stuck_inbox(stores, intake):
    from datetime import UTC, datetime

    from pbxlens.store import schema

    intake.accept("events", events(ev(1)))
    with stores.ops_write() as c:  # e.g. written by an older version: not a valid payload
        c.execute(schema.event_inbox.insert().values(
            source="events", received_at=datetime.now(UTC), payload='[{"event_id": "x1"}]',
            rows=1))
    intake.accept("events", events(ev(2)))
    res = move(stores)
    assert res["inbox_rows"] == 3 and res["pbx_events"] == 2 and res["rows_quarantined"] == 1
    assert q(stores, "SELECT event_key FROM pbx_events ORDER BY 1") == [("1",), ("2",)]
    [(raw, reason)] = q(stores, "SELECT raw, reason FROM quarantine")
    assert raw == '[{"event_id": "x1"}]' and reason.startswith("not stored: ")
    assert inbox.backlog(stores.ops)["pending"] == 0 and move(stores)["inbox_rows"] == 0


def test_a_new_operations_store_starts_its_own_watermark(tmp_path, ops_url, intake, stores):
    intake.accept("events", events(ev(1), ev(2)))
    move(stores)
    stores.close()
    # the same DuckDB file with a fresh operations store (e.g. SQLite -> PostgreSQL): its ids
    # start again at 1 and must not be taken for moved ones
    with Stores(tmp_path / "store.duckdb", f"sqlite:///{tmp_path / 'other.sqlite'}") as other:
        ib = inbox.Inbox(other.ops)
        ib.accept("events", events(ev(3)))
        ib.close()
        with other.writing() as cur:
            assert inbox_move.move(cur, other.ops)["pbx_events"] == 1
        assert q(other, "SELECT count(*) FROM pbx_events") == [(3,)]


def test_follow_ups_are_recorded_and_survive(stores, intake):
    member = ev(7, "pbx.queuemember.pause", member_exten="201", queue="600", reason="lunch")
    intake.accept("events", events(member))
    intake.accept("dynamic_routing", dr("1778480000.77"))
    res = move(stores)
    assert res["followups"]
    # the server "dies" here: the follow-up job never ran; the next start finds the batch
    # pending in the post-batch pipeline
    with stores.cursor() as cur:
        assert pipeline.pending(cur).batches == 1
    assert q(stores, "SELECT count(*) FROM agent_events") == [(0,)]
    with stores.writing() as cur:
        assert inbox_move.follow_up(cur, stores.ops) == {"batches": 1}
        assert not pipeline.pending(cur).behind
    assert q(stores, "SELECT member_exten, reason FROM agent_events") == [("201", "lunch")]
    assert q(stores, "SELECT call_num FROM missed_requests") == [("3331234567",)]
    # the reconcile step pushed the request to the operations store
    with stores.ops.connect() as conn:
        pushed = conn.execute(sa.select(schema.callback_requests.c.call_num)).all()
    assert [tuple(r) for r in pushed] == [("3331234567",)]


def test_intake_and_move_do_not_wait_for_the_main_lane(tmp_path, ops_url):
    with Stores(tmp_path / "s.duckdb", ops_url, threaded_writer=True) as s:
        s.writer.start()
        started, release = threading.Event(), threading.Event()

        def long_job(ctx):  # an ingest-like job: a DuckDB write transaction held open
            ctx.con.execute("BEGIN TRANSACTION")
            ctx.con.execute("INSERT INTO quarantine (batch_id, source, reason)"
                            " VALUES (0, 'long job', 'open transaction')")
            started.set()
            release.wait(60)
            ctx.con.execute("COMMIT")

        job = s.writer.submit("test", "long", long_job)
        assert started.wait(30)
        mover = inbox_move.Mover(s).start()
        ib = inbox.Inbox(s.ops, on_commit=mover.kick)
        try:
            t0 = time.monotonic()
            for i in range(20):
                ib.accept("events", events(ev(100 + i)))
            assert time.monotonic() - t0 < 5  # acknowledged while the main lane is busy
            deadline = time.monotonic() + 30
            while inbox.backlog(s.ops)["pending"] and time.monotonic() < deadline:
                time.sleep(0.05)
            assert inbox.backlog(s.ops)["pending"] == 0  # moved by the inbox lane meanwhile
            assert q(s, "SELECT count(*) FROM pbx_events") == [(20,)]
            assert not job.done.is_set()
        finally:
            release.set()
            job.wait(30)
            mover.stop()
            ib.close()


def test_rows_keep_moving_without_kicks_while_they_come(tmp_path, ops_url, monkeypatch):
    """An intake process's commits kick no mover: after a move that found rows the mover goes
    on at once, instead of waiting its interval (the lag was move + interval)."""
    monkeypatch.setattr(inbox_move, "INTERVAL_S", 60.0)
    monkeypatch.setattr(inbox_move, "MIN_GAP_S", 0.05)
    real_move, sent = inbox_move.move, [1]
    with Stores(tmp_path / "s.duckdb", ops_url, threaded_writer=True) as s:
        s.writer.start()
        other = inbox.Inbox(s.ops)  # another process's intake: no on_commit

        def move_while_events_come(con, engine):
            res = real_move(con, engine)
            if res["inbox_rows"] and sent[0] < 5:  # the next event arrives during this move
                sent[0] += 1
                other.accept("events", events(ev(sent[0])))
            return res

        monkeypatch.setattr(inbox_move, "move", move_while_events_come)
        mover = inbox_move.Mover(s).start()
        try:
            other.accept("events", events(ev(1)))
            mover.kick()  # the first move, as the interval would start it
            deadline = time.monotonic() + 20  # far below the 60 s interval
            while q(s, "SELECT count(*) FROM pbx_events") != [(5,)]:
                assert time.monotonic() < deadline, "an event waited for the interval"
                time.sleep(0.02)
        finally:
            mover.stop()
            other.close()


def test_follow_ups_come_at_most_once_a_second(tmp_path, ops_url, monkeypatch):
    """Moves come up to five times a second under a steady stream; the follow-ups (the
    post-batch steps) at most once a second, and the last one still comes after the stream."""
    monkeypatch.setattr(inbox_move, "MIN_GAP_S", 0.05)
    runs: list[float] = []
    real = inbox_move.follow_up

    def counted(con, ops=None):
        runs.append(time.monotonic())
        return real(con, ops)

    monkeypatch.setattr(inbox_move, "follow_up", counted)
    with Stores(tmp_path / "s.duckdb", ops_url, threaded_writer=True) as s:
        s.writer.start()
        mover = inbox_move.Mover(s).start()
        ib = inbox.Inbox(s.ops, on_commit=mover.kick)
        try:
            t0 = time.monotonic()
            i = 0
            while time.monotonic() - t0 < 3.0:  # a steady stream for 3 s
                i += 1
                ib.accept("events", events(ev(1000 + i)))
                time.sleep(0.02)
            assert len(runs) <= 3.0 / inbox_move.FOLLOW_UP_EVERY_S + 2  # unpaced: one per move
            assert all(b - a >= inbox_move.FOLLOW_UP_EVERY_S - 0.05
                       for a, b in itertools.pairwise(runs))
            deadline = time.monotonic() + 10
            while True:
                with s.cursor() as cur:
                    stored = cur.execute("SELECT count(*) FROM pbx_events").fetchone()[0]
                    if stored == i and not pipeline.pending(cur).behind:
                        break
                assert time.monotonic() < deadline, "the last batches were never followed up"
                time.sleep(0.05)
        finally:
            mover.stop()
            ib.close()


@pytest.mark.parametrize("fault", ["python", "database"])
def test_a_live_state_fault_costs_the_wallboard_never_the_inbox(stores, intake, monkeypatch,
                                                                 fault, caplog):
    """The live state runs in the inbox's transaction without a savepoint: when it fails
    (a bug, or a statement the database refuses, which aborts a PostgreSQL transaction), the
    commit is rolled back and made again without it. Its half-done writes are gone; the inbox
    row and the live calls are committed."""
    from pbxlens.live import state as live_state

    def broken(conn, rows, now):
        row = {"tenant": "default", "queue": "half-done", "day": now.date(), "updated_at": now}
        conn.execute(schema.live_counters.insert().values(row))
        if fault == "python":
            raise RuntimeError("a bug in a handler")
        conn.execute(schema.live_counters.insert().values(row))  # a key violation

    monkeypatch.setattr(live_state, "apply", broken)
    intake.accept("events", events(ev(1), ev(2, "pbx.call.start", uid="7.1", caller="201",
                                                called="0612345678")))
    assert "live state: 2 events not applied" in caplog.text
    with stores.ops.connect() as c:
        assert c.execute(sa.select(sa.func.count()).select_from(schema.event_inbox)).scalar() == 1
        assert c.execute(sa.select(schema.live_calls.c.unique_id)).scalars().all() == ["7.1"]
        assert c.execute(sa.select(sa.func.count()).select_from(schema.live_counters)
                         ).scalar() == 0
    monkeypatch.undo()
    intake.accept("events", events(ev(3)))  # the connection is sound afterwards
    with stores.ops.connect() as c:
        assert c.execute(sa.select(schema.live_counters.c.offered)).scalars().all() == [1]


def test_a_new_stores_live_tables_get_statistics_early(stores, intake, monkeypatch):
    """PostgreSQL: after the first commits of a process, the live tables that autovacuum has
    not analyzed yet are analyzed (their look-ups otherwise scan every visit of the tenant
    until autovacuum's first pass); once analyzed they are left to autovacuum. SQLite: the
    intake leaves them alone (its look-ups are by key, and statistics cost a write turn)."""
    from pbxlens.store import ops

    monkeypatch.setattr(inbox, "ANALYZE_AFTER", (3,))
    for i in range(3):
        intake.accept("events", events(ev(i + 1, uid=f"1.{i}")))
    pg = stores.ops.dialect.name == "postgresql"
    if not pg:
        time.sleep(0.2)
        with stores.ops.connect() as c:
            assert not c.exec_driver_sql(
                "SELECT 1 FROM sqlite_master WHERE name = 'sqlite_stat1'").first()
        return
    never = sa.text("SELECT count(*) FROM pg_stat_user_tables WHERE relname = 'live_visits'"
                    " AND last_analyze IS NULL AND last_autoanalyze IS NULL")
    deadline = time.monotonic() + 20
    while True:
        with stores.ops.connect() as c:
            if c.execute(never).scalar() == 0:
                break
        assert time.monotonic() < deadline, "live_visits was not analyzed"
        time.sleep(0.05)
    assert ops.analyze_unanalyzed(stores.ops, inbox.LOOKED_UP) == []
