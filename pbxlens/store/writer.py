"""The analytics writer: the one place that writes DuckDB. Jobs (ingest a file or an upload,
re-rate, reconcile, refresh rollups, pull the PBX) run in order, one at a time, each with its
own DuckDB cursor; readers never wait for them (DuckDB's MVCC), and no operator action waits on
them (operator actions live in the operations store).

Two lanes, each a queue run in order by one thread:
- `main`: every job that changes facts or derived facts;
- `inbox`: the webhook inbox move alone. It only appends raw event rows (new keys, no updates),
  so it cannot conflict with a main-lane job; it keeps the inbox-to-DuckDB lag within a
  second even while an ingest of minutes runs in the main lane. What the moved rows imply
  (activity facts, callback requests) is a main-lane job the move enqueues.

Each job is a row of `writer_jobs` in the operations store (state, progress, stage, result,
error): the admin page and the CLI show it. Without a server (a CLI command that opened the
files itself) the same jobs run inline, in the caller's thread.
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import queue
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import duckdb
import sqlalchemy as sa

from pbxlens.store import analytics, ops, priority, schema

if TYPE_CHECKING:
    from pbxlens.store import Stores

log = logging.getLogger("pbxlens.writer")
LANES = ("main", "inbox")
PROGRESS_EVERY_S = 0.5


@dataclass
class JobContext:
    """What a job function receives: the writer's DuckDB cursor, the operations engine and a
    way to report progress."""

    con: duckdb.DuckDBPyConnection
    stores: Stores
    job_id: int | None = None
    _last: float = 0.0

    @property
    def ops(self) -> sa.Engine:
        return self.stores.ops

    def progress(self, fraction: float, stage: str | None = None, *, force: bool = False) -> None:
        """Record progress (0..1) and the stage a person reads; throttled to two writes a
        second."""
        now = time.monotonic()
        if self.job_id is None or (not force and now - self._last < PROGRESS_EVERY_S):
            return
        self._last = now
        values: dict[str, Any] = {"progress": max(0.0, min(1.0, float(fraction)))}
        if stage is not None:
            values["stage"] = stage[:200]
        try:
            with self.stores.ops.begin() as c:
                c.execute(schema.writer_jobs.update()
                          .where(schema.writer_jobs.c.id == self.job_id).values(**values))
        except sa.exc.DBAPIError as exc:  # progress is informative: never fail a job for it
            log.warning("could not record progress of job %s: %s", self.job_id, exc)


JobFn = Callable[[JobContext], Any]


@dataclass
class Job:
    kind: str
    label: str
    fn: JobFn
    lane: str = "main"
    created_by: str | None = None
    record: bool = True  # a writer_jobs row (False for the frequent inbox moves)
    id: int | None = None
    done: threading.Event = field(default_factory=threading.Event)
    result: Any = None
    error: BaseException | None = None

    def wait(self, timeout: float | None = None) -> Any:
        """The job's result, or its exception raised here."""
        if not self.done.wait(timeout):
            raise TimeoutError(f"{self.kind} job {self.id} still running after {timeout} s")
        if self.error is not None:
            raise self.error
        return self.result


def _jsonable(value: Any) -> Any:
    if value is None or isinstance(value, str | int | float | bool):
        return value
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if hasattr(value, "public"):
        return _jsonable(value.public())
    return str(value)


class AnalyticsWriter:
    """Runs jobs in order per lane. `threaded=False`: inline, in the caller's thread (CLI)."""

    def __init__(self, stores: Stores, *, threaded: bool = False) -> None:
        self.stores = stores
        self.threaded = threaded
        self._queues: dict[str, queue.Queue[Job | None]] = {lane: queue.Queue() for lane in LANES}
        self._threads: list[threading.Thread] = []
        # Held by each lane while it runs a job; `exclusive()` takes them all.
        self._lane_locks = {lane: threading.RLock() for lane in LANES}
        self.current: dict[str, Job | None] = dict.fromkeys(LANES)
        # DuckDB's pool while the main lane has jobs: no core is left to other processes until
        # the server starts intake processes (`reserve_cores`)
        self._reserve = priority.CoreReserve(stores.con)

    # ------------------------------------------------------------------ public
    def start(self) -> None:
        if not self.threaded or self._threads:
            return
        ops.mark_shared(self.stores.ops)  # the jobs yield the SQLite lock to the requests
        self._fail_orphans()
        for lane in LANES:
            t = threading.Thread(target=self._loop, args=(lane,), name=f"pbxlens-writer-{lane}",
                                 daemon=True)
            t.start()
            self._threads.append(t)
        # Stopped before the interpreter ends: a lane killed inside DuckDB aborts the process
        # (see pbxlens.background).
        atexit.register(self.stop)

    def stop(self, timeout: float = 30.0) -> None:
        for lane in LANES:
            self._queues[lane].put(None)
        for t in self._threads:
            t.join(timeout)
        self._threads.clear()

    def submit(self, kind: str, label: str, fn: JobFn, *, lane: str = "main",
               created_by: str | None = None, record: bool = True) -> Job:
        """Queue a job (run it now when inline); returns at once with the Job to wait on."""
        if lane not in LANES:
            raise ValueError(f"unknown lane {lane!r}")
        job = Job(kind=kind, label=label[:500], fn=fn, lane=lane, created_by=created_by,
                  record=record)
        if record:
            job.id = self._record_queued(job)
        if self.threaded:
            self._queues[lane].put(job)
        else:
            self._execute(job)
        return job

    def run(self, kind: str, label: str, fn: JobFn, *, lane: str = "main",
            created_by: str | None = None, record: bool = True,
            timeout: float | None = None) -> Any:
        """Submit and wait: the job's result, or its exception."""
        return self.submit(kind, label, fn, lane=lane, created_by=created_by,
                           record=record).wait(timeout)

    @contextmanager
    def exclusive(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A DuckDB cursor in the caller's thread while no job runs in any lane (tests, tools,
        the upgrade). Request handlers submit jobs instead: this waits for the running one."""
        with contextlib.ExitStack() as stack:
            for lane in LANES:
                stack.enter_context(self._lane_locks[lane])
            cur = analytics.cursor(self.stores.con)
            try:
                yield cur
            finally:
                cur.close()

    def pending(self, lane: str = "main") -> int:
        return self._queues[lane].qsize() + (1 if self.current.get(lane) else 0)

    def idle(self) -> bool:
        return all(self.pending(lane) == 0 for lane in LANES)

    def reserve_cores(self, n: int) -> None:
        """While the main lane has jobs, DuckDB leaves `n` cores to other processes (the
        server's intake processes: `priority.CoreReserve`)."""
        self._reserve.reserved = n

    # ----------------------------------------------------------------- private
    def _loop(self, lane: str) -> None:
        reserve = None
        if lane != "inbox":  # the inbox's moves are small and have a lag to keep (2 s)
            priority.lower_this_thread()  # a server's requests come first (store.priority)
            reserve = self._reserve
        q = self._queues[lane]
        while True:
            job = q.get()
            if job is None:
                return
            if reserve is not None:
                reserve.narrow()
            self._execute(job)
            if reserve is not None and q.empty():
                reserve.widen()

    def _execute(self, job: Job) -> None:
        with self._lane_locks[job.lane]:
            self._execute_locked(job)

    def _execute_locked(self, job: Job) -> None:
        self.current[job.lane] = job
        con = None
        # The set-up is inside the try: a cursor that cannot open (invalid settings) fails the
        # job, not the lane's thread (it died, leaving the job unfinished, the lane stopped).
        try:
            # a cursor of its own: no temp table or macro of one job leaks into the next
            con = analytics.cursor(self.stores.con)
            ctx = JobContext(con=con, stores=self.stores, job_id=job.id)
            self._record(job, state="running", started_at=datetime.now(UTC))
            job.result = job.fn(ctx)
        except BaseException as exc:  # the job failed; the writer goes on with the next one
            job.error = exc
            if con is not None:
                self._rollback(con)
            if not isinstance(exc, Exception):
                log.error("writer job %s interrupted: %r", job.id, exc)
            self._record(job, state="failed", finished_at=datetime.now(UTC),
                         error=str(exc)[:2000] or type(exc).__name__)
        else:
            self._record(job, state="done", finished_at=datetime.now(UTC), progress=1.0,
                         result=_jsonable(job.result))
        finally:
            if con is not None:
                con.close()
            self.current[job.lane] = None
            job.done.set()

    @staticmethod
    def _rollback(con: duckdb.DuckDBPyConnection) -> None:
        with contextlib.suppress(duckdb.Error):  # no transaction was open
            con.execute("ROLLBACK")

    def _record_queued(self, job: Job) -> int | None:
        try:
            with self.stores.ops.begin() as c:
                return c.execute(schema.writer_jobs.insert().values(
                    kind=job.kind, label=job.label, state="queued", progress=0.0,
                    created_by=job.created_by, created_at=datetime.now(UTC))
                    .returning(schema.writer_jobs.c.id)).scalar_one()
        except sa.exc.DBAPIError as exc:  # the job still runs; only its listing is missing
            log.warning("could not record a %s job: %s", job.kind, exc)
            return None

    def _record(self, job: Job, **values: Any) -> None:
        if job.id is None:
            return
        try:  # from a lane's thread: a write turn is not held at a lowered priority
            priority.unlowered(self._update_job, job.id, values)
        except sa.exc.DBAPIError as exc:
            log.warning("could not record job %s: %s", job.id, exc)

    def _update_job(self, job_id: int, values: dict[str, Any]) -> None:
        with self.stores.ops.begin() as c:
            c.execute(schema.writer_jobs.update()
                      .where(schema.writer_jobs.c.id == job_id).values(**values))

    def _fail_orphans(self) -> None:
        """Jobs left queued or running by a server that died: they did not finish."""
        t = schema.writer_jobs
        with self.stores.ops.begin() as c:
            c.execute(t.update().where(t.c.state.in_(("queued", "running")))
                      .values(state="failed", finished_at=datetime.now(UTC),
                              error="the server stopped before this job finished"))


def jobs(stores: Stores, limit: int = 50) -> list[dict]:
    """The newest jobs, for the admin page and `pbxlens status`."""
    t = schema.writer_jobs
    with ops.reading(stores.ops) as c:  # a read: no SQLite write turn
        rows = c.execute(sa.select(t).order_by(t.c.id.desc()).limit(limit)).mappings().all()
    return [dict(r) for r in rows]


def job(stores: Stores, job_id: int) -> dict | None:
    t = schema.writer_jobs
    with ops.reading(stores.ops) as c:
        r = c.execute(sa.select(t).where(t.c.id == job_id)).mappings().first()
    return dict(r) if r else None
