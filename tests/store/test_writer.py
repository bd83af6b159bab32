"""The analytics writer: jobs run in order per lane, each recorded with its outcome; a failed
job does not stop the next; readers never wait for a running job; `exclusive` pauses it."""

from __future__ import annotations

import threading
import time

import pytest

from pbxlens.store import Stores, writer


def test_jobs_run_in_order_and_are_recorded(tmp_path):
    with Stores(tmp_path / "s.duckdb", threaded_writer=True) as s:
        s.writer.start()
        seen: list[int] = []
        jobs = [s.writer.submit("test", f"job {i}", lambda ctx, i=i: seen.append(i) or i)
                for i in range(20)]
        assert [j.wait(30) for j in jobs] == list(range(20)) and seen == list(range(20))
        bad = s.writer.submit("test", "bad", lambda ctx: 1 / 0)
        with pytest.raises(ZeroDivisionError):
            bad.wait(30)
        after = s.writer.run("test", "after", lambda ctx: "still running", timeout=30)
        assert after == "still running"
        rows = {r["id"]: r for r in writer.jobs(s, limit=100)}
        assert rows[bad.id]["state"] == "failed" and "division" in rows[bad.id]["error"]
        assert rows[jobs[0].id]["state"] == "done" and rows[jobs[0].id]["result"] == 0


def test_a_job_that_cannot_start_fails_and_the_lane_goes_on(tmp_path, monkeypatch):
    """A job whose cursor cannot be opened (the settings turned invalid under a running
    server) fails like any job: its waiter hears why and the lane runs the next one (its
    thread died, and the inbox stopped moving)."""
    from pbxlens import PbxlensError
    from pbxlens.store import analytics

    with Stores(tmp_path / "s.duckdb", threaded_writer=True) as s:
        s.writer.start()

        def broken() -> str:
            raise PbxlensError("invalid setting timezone")

        monkeypatch.setattr(analytics, "timezone", broken)
        job = s.writer.submit("test", "cannot start", lambda ctx: "ran", lane="inbox")
        with pytest.raises(PbxlensError, match="invalid setting"):
            job.wait(30)
        monkeypatch.undo()
        assert s.writer.run("test", "next", lambda ctx: "ran", lane="inbox", timeout=30) == "ran"
        assert {r["id"]: r["state"] for r in writer.jobs(s, limit=10)}[job.id] == "failed"


def test_readers_do_not_wait_for_a_running_job(tmp_path):
    with Stores(tmp_path / "s.duckdb", threaded_writer=True) as s:
        s.writer.start()
        started, release = threading.Event(), threading.Event()

        def slow(ctx):
            ctx.con.execute("BEGIN TRANSACTION")
            ctx.con.execute("CREATE TABLE t AS SELECT range AS x FROM range(10)")
            started.set()
            release.wait(30)
            ctx.con.execute("COMMIT")

        job = s.writer.submit("test", "slow", slow)
        assert started.wait(30)
        t0 = time.monotonic()
        with s.cursor() as cur:  # reads the last committed state at once
            assert cur.execute("SELECT count(*) FROM calls").fetchone()[0] == 0
        assert time.monotonic() - t0 < 2
        release.set()
        job.wait(30)
        with s.cursor() as cur:
            assert cur.execute("SELECT count(*) FROM t").fetchone()[0] == 10


def test_exclusive_waits_for_the_running_job(tmp_path):
    with Stores(tmp_path / "s.duckdb", threaded_writer=True) as s:
        s.writer.start()
        order: list[str] = []
        job = s.writer.submit("test", "slow", lambda ctx: (time.sleep(0.3), order.append("job")))
        time.sleep(0.05)
        with s.writing():
            order.append("exclusive")
        job.wait(30)
        assert order == ["job", "exclusive"]


def test_a_restarted_server_marks_unfinished_jobs_failed(tmp_path):
    path = tmp_path / "s.duckdb"
    with Stores(path) as s:
        s.writer._record_queued(writer.Job("ingest", "left over", lambda ctx: None))
    with Stores(path, threaded_writer=True) as s:
        s.writer.start()
        (row,) = writer.jobs(s)
        assert row["state"] == "failed" and "stopped" in row["error"]

