"""The steps that run after a batch commits, whatever its source: a file, a PBX pull, a
webhook group commit, an event log.

A batch commits its facts alone (calls, call_legs, queue calls, events, dynamic-routing rows)
in one transaction. The steps then bring their derived tables up to date, in the order of
`STEPS`, each in its own transaction, each recording in `pipeline_steps` the last batch it has
finished (in that same transaction). So a kill between two steps loses nothing: the next
`run_pending` goes on from where each step stands, and a step never sees a batch twice.

A step reads the rows of its batches (their `batch_id`), never the whole history; it may run
over many batches at once (after a kill, or when one call of `run_pending` follows several
files). A step runs only when the steps that write what it reads have finished every batch
it would see, so a report never mixes a half-processed batch.

Adding a step is one line in `STEPS` (a function `run(ctx, batch_ids)` over the batches'
rows); a step with no row in `pipeline_steps` starts from batch 0, i.e. its first run derives
the whole history.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import duckdb

from pbxlens import PbxlensError
from pbxlens.billing import rating, rating_keys
from pbxlens.ingest import activity, batch_ids, derive
from pbxlens.missed_calls import reconcile
from pbxlens.missed_calls import sync as missed_sync
from pbxlens.reports import coincidence_days
from pbxlens.scale import rollups
from pbxlens.store import priority, sql

if TYPE_CHECKING:
    import sqlalchemy


class PipelineError(PbxlensError):
    exit_code = 1


@dataclass(frozen=True)
class StepContext:
    """What a step works with: the analytics store and, when there is one, the operations
    store (the reconcile step pushes its callback requests there; None leaves them noted on
    the connection for a later push)."""

    con: duckdb.DuckDBPyConnection
    ops: sqlalchemy.Engine | None = None


BatchIds = tuple[int, ...]


@dataclass(frozen=True)
class Step:
    name: str
    reads: tuple[str, ...]   # tables it reads; those with a batch_id say when it has work
    writes: tuple[str, ...]  # tables it writes; later steps that read them wait for it
    run: Callable[[StepContext, BatchIds], object]
    # after the step's transaction commits: what it carries to the operations store (a
    # failure there is the hook's own concern; the DuckDB side is already done)
    after: Callable[[StepContext], object] | None = None


def span(batch_ids: Sequence[int]) -> tuple[int, int]:
    """(first, last) of the batch ids a step is given: the steps select by this range (the
    ids in between that are not in it are batches that rolled back and hold no rows).

    Example:
        >>> span((4, 5, 9))
        (4, 9)
    """
    return min(batch_ids), max(batch_ids)


def _derive(ctx: StepContext, batch_ids: BatchIds) -> None:
    """The derived tables, and the coincidence day summaries over line_calls. The summaries
    must see the intervals the replaced calls held before their line_calls rows are replaced
    (`coincidence_days.capture`): replaced_calls keeps only a day, and an interval can cross
    midnight, so the capture runs here, in the same transaction, just before derive."""
    coincidence_days.capture(ctx.con, list(batch_ids))
    derive.refresh(ctx.con, batch_ids)
    coincidence_days.refresh(ctx.con, list(batch_ids))


def _rate(ctx: StepContext, batch_ids: BatchIds) -> None:
    """The rating keys of the batches' calls, then their costs."""
    lo, hi = span(batch_ids)
    with_calls = [b for (b,) in ctx.con.execute(
        "SELECT DISTINCT batch_id FROM calls WHERE batch_id BETWEEN ? AND ? ORDER BY 1",
        [lo, hi]).fetchall()]
    if not with_calls:
        return
    rating_keys.refresh(ctx.con, with_calls)
    for b in with_calls:
        rating.rate_batch(ctx.con, b)


def _push_requests(ctx: StepContext) -> None:
    """The callback requests the reconcile step rebuilt, into the operations store."""
    if ctx.ops is not None:
        missed_sync.push(ctx.con, ctx.ops)


STEPS: tuple[Step, ...] = (
    Step("derive", reads=("calls", "call_legs", "replaced_calls"),
         writes=(*derive.TABLES, *coincidence_days.TABLES), run=_derive),
    Step("rollups", reads=("calls", "replaced_calls", *rollups.RAW),
         writes=tuple(r.table for r in rollups.ROLLUPS),
         run=lambda ctx, ids: rollups.refresh(ctx.con, ids)),
    Step("activity", reads=("pbx_events", "calls", "call_legs", "agent_legs"),
         writes=activity.TABLES, run=lambda ctx, ids: activity.refresh(ctx.con, ids)),
    Step("rating", reads=("calls", "call_legs"),
         writes=("rating_keys", "rating_calls", "rating_choices", "call_costs"), run=_rate),
    Step("reconcile", reads=("calls", "call_legs", "queue_visits", "queue_calls",
                             "dynamic_routing_requests"),
         writes=reconcile.TABLES, run=lambda ctx, ids: reconcile.on_batches(ctx.con, ids),
         after=_push_requests),
)


# ---------------------------------------------------------------------------- running
@dataclass
class StepRun:
    step: str
    batches: int = 0          # batches it went through in this run
    seconds: float = 0.0
    skipped: str | None = None  # why it did not run (waiting for an earlier step)
    error: str | None = None


def _marks(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    return dict(con.execute("SELECT step, last_batch FROM pipeline_steps").fetchall())


def _last_batch(con: duckdb.DuckDBPyConnection) -> int:
    return con.execute("SELECT coalesce(max(batch_id), 0) FROM ingest_batches").fetchone()[0]


_BATCH_TABLES: set[str] = set()


def _batch_tables(con: duckdb.DuckDBPyConnection) -> set[str]:
    if not _BATCH_TABLES:
        _BATCH_TABLES.update(t for (t,) in con.execute(
            "SELECT table_name FROM duckdb_columns() WHERE column_name = 'batch_id'"
            " AND NOT internal").fetchall())
    return _BATCH_TABLES


def _has_rows(con: duckdb.DuckDBPyConnection, tables: Sequence[str], lo: int, hi: int) -> bool:
    """Whether any of these tables holds rows of batches lo..hi (zone maps on batch_id: the
    tables are appended batch after batch, so this reads the last row groups only)."""
    last = _last_rows(con, tables, lo, hi)
    return any(b is not None for b in last.values())


def _last_rows(con: duckdb.DuckDBPyConnection, tables: Sequence[str], lo: int, hi: int
               ) -> dict[str, int | None]:
    """Each table's highest batch among lo..hi that holds rows of it (None: none), in one
    statement (a webhook follow-up asks for about fifteen tables a few times a second)."""
    names = sorted(set(tables) & _batch_tables(con))
    if not names:
        return {}
    parts = " UNION ALL ".join(
        f"SELECT {i} AS i, max(batch_id) AS b FROM {sql.identifier(t)}"  # noqa: S608 -- a step's table
        " WHERE batch_id BETWEEN $lo AND $hi" for i, t in enumerate(names))
    got = dict(con.execute(parts, {"lo": lo, "hi": hi}).fetchall())
    return {t: got.get(i) for i, t in enumerate(names)}


def _upstream(step: Step) -> list[Step]:
    """The earlier steps that write a table this one reads."""
    before = STEPS[:STEPS.index(step)]
    return [s for s in before if set(s.writes) & set(step.reads)]


def _run_one(ctx: StepContext, step: Step, hi: int) -> StepRun:
    """One step over every batch up to `hi` it has not finished, in one transaction. `hi` is
    fixed for the whole run: a batch another lane commits meanwhile (a webhook move) is left
    to the next run. Read afresh per step, it made each step wait for the one before, which
    had stopped at the older last batch: under a steady webhook load the reconcile of a
    200k-call file was put off until the next ingest, its callback requests with it."""
    con = ctx.con
    out = StepRun(step.name)
    t0 = time.perf_counter()
    con.execute("BEGIN TRANSACTION")
    try:
        marks = _marks(con)
        lo = marks.get(step.name, 0) + 1
        waiting = [s.name for s in _upstream(step) if marks.get(s.name, 0) < hi]
        if hi < lo or waiting:
            out.skipped = f"waiting for {', '.join(waiting)}" if waiting else None
            con.execute("ROLLBACK")
            return out
        ids = tuple(b for (b,) in con.execute(
            "SELECT batch_id FROM ingest_batches WHERE batch_id BETWEEN ? AND ? ORDER BY 1",
            [lo, hi]).fetchall())
        if _has_rows(con, step.reads, lo, hi):
            step.run(ctx, ids)
        out.batches, out.seconds = len(ids), round(time.perf_counter() - t0, 3)
        con.execute(
            "INSERT OR REPLACE INTO pipeline_steps (step, last_batch, finished_at, seconds, error)"
            " VALUES (?, ?, ?, ?, NULL)", [step.name, hi, datetime.now(UTC), out.seconds])
        con.execute("COMMIT")
    except (duckdb.Error, PbxlensError) as exc:
        con.execute("ROLLBACK")
        out.error = str(exc).splitlines()[0]
        con.execute("INSERT INTO pipeline_steps (step, last_batch, error) VALUES (?, 0, ?)"
                    " ON CONFLICT (step) DO UPDATE SET error = excluded.error",
                    [step.name, out.error])
        return out
    if step.after is not None:  # operations-store writes: not at a lowered lane's priority
        priority.unlowered(step.after, ctx)
    return out


def _advance_idle(con: duckdb.DuckDBPyConnection) -> tuple[set[str], dict[str, int], int]:
    """In one transaction: move every step that has nothing to do in its pending batches
    (no table it reads got rows there) to the last batch. Returns the steps that have work,
    how many batches each idle step passed, and that last batch (the run's end). (A webhook
    group commit, say, concerns one or two steps: the others cost one shared commit, not one
    each.)"""
    with batch_ids.snapshot() as bounded:  # not past a lower batch still being loaded
        con.execute("BEGIN TRANSACTION")
        try:
            hi = bounded(_last_batch(con))
        except BaseException:
            con.execute("ROLLBACK")
            raise
    try:
        marks = _marks(con)
        los = {s.name: marks.get(s.name, 0) + 1 for s in STEPS}
        los = {name: lo for name, lo in los.items() if lo <= hi}
        busy, idle = set(), {}
        if los:
            last = _last_rows(con, [t for s in STEPS if s.name in los for t in s.reads],
                              min(los.values()), hi)
            counts = {lo: con.execute(
                "SELECT count(*) FROM ingest_batches WHERE batch_id BETWEEN ? AND ?",
                [lo, hi]).fetchone()[0] for lo in set(los.values())}
            for s in STEPS:
                if s.name not in los:
                    continue
                lo = los[s.name]
                if any((last.get(t) or 0) >= lo for t in s.reads):
                    busy.add(s.name)
                else:
                    idle[s.name] = counts[lo]
        if idle:
            con.execute("INSERT OR REPLACE INTO pipeline_steps (step, last_batch, finished_at,"
                        " seconds, error) SELECT unnest($names), $hi, $now, 0, NULL",
                        {"names": sorted(idle), "hi": hi, "now": datetime.now(UTC)})
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return busy, idle, hi


def run_pending(ctx: StepContext, *, progress: Callable[[str], None] | None = None
                ) -> list[StepRun]:
    """Run every step over the batches it has not finished yet, in order. A step that fails
    is rolled back (its error kept in pipeline_steps); the steps that read what it writes wait,
    the others go on. Raises PipelineError at the end if a step failed."""
    busy, idle, hi = _advance_idle(ctx.con)
    runs = []
    for step in STEPS:
        if step.name not in busy:
            runs.append(StepRun(step.name, batches=idle.get(step.name, 0)))
            continue
        if progress:
            progress(step.name)
        runs.append(_run_one(ctx, step, hi))
    if busy or idle:
        _prune(ctx.con)
    failed = [r for r in runs if r.error]
    if failed:
        raise PipelineError("post-batch step " + "; ".join(
            f"{r.step} failed: {r.error}" for r in failed)
            + " (the batches are stored; the step resumes at the next ingest)")
    return runs


def rebuild(ctx: StepContext, parts: Sequence[Callable[[duckdb.DuckDBPyConnection], object]]
            ) -> list[StepRun]:
    """Recompute derived tables from every fact (repairs, a setting that changes them): every
    step is first brought through every batch, then `parts` (such as `activity.rebuild`) run
    in one transaction. So a rebuild reads settled facts, and no step later applies a batch
    the rebuild already covered, nor misses one it did not."""
    runs = run_pending(ctx)
    con = ctx.con
    con.execute("BEGIN TRANSACTION")
    try:
        for part in parts:
            part(con)
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return runs


def _prune(con: duckdb.DuckDBPyConnection) -> None:
    """Forget the replaced calls of the batches every step has passed."""
    marks = _marks(con)
    done = min((marks.get(s.name, 0) for s in STEPS), default=0)
    con.execute("DELETE FROM replaced_calls WHERE batch_id <= ?", [done])


# ---------------------------------------------------------------------------- reading
@dataclass(frozen=True)
class Pending:
    settled_batch: int  # every step has finished every batch up to this one
    batches: int        # batches after it (some step has not finished them)
    calls: int          # the calls those batches loaded

    @property
    def behind(self) -> bool:
        return self.batches > 0


def pending(con: duckdb.DuckDBPyConnection) -> Pending:
    """How far the store is from having every step through every batch: a report reads the
    settled batches, and says "processing N calls" while `calls` > 0."""
    marks = _marks(con)
    settled = min((marks.get(s.name, 0) for s in STEPS), default=0)
    n, calls = con.execute(
        "SELECT count(*), coalesce(sum(calls_loaded), 0) FROM ingest_batches WHERE batch_id > ?",
        [settled]).fetchone()
    return Pending(settled, int(n), int(calls))


@dataclass(frozen=True)
class StepStatus:
    step: str
    last_batch: int
    batches_behind: int
    calls_behind: int
    finished_at: datetime | None
    seconds: float | None
    error: str | None


def status(con: duckdb.DuckDBPyConnection) -> list[StepStatus]:
    """Where each step stands (for `pbxlens status`)."""
    rows = {r[0]: r[1:] for r in con.execute(
        "SELECT step, last_batch, finished_at, seconds, error FROM pipeline_steps").fetchall()}
    out = []
    for s in STEPS:
        last, finished, secs, err = rows.get(s.name, (0, None, None, None))
        n, calls = con.execute(
            "SELECT count(*), coalesce(sum(calls_loaded), 0) FROM ingest_batches"
            " WHERE batch_id > ?", [last]).fetchone()
        out.append(StepStatus(s.name, int(last), int(n), int(calls), finished, secs, err))
    return out
