"""Ingest files of any supported source into the store, one transaction per file; then the
post-batch steps (pbxlens.pipeline) bring the derived tables up to date."""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb

from pbxlens import PbxlensError, pipeline
from pbxlens.config import get_settings
from pbxlens.ingest import (
    asterisk,
    batch_ids,
    directory,
    kalliope_callcenter,
    kalliope_cdr,
    loader,
    normalize,
    sniff,
)
from pbxlens.ingest import events as event_log
from pbxlens.ingest.loader import FileResult

if TYPE_CHECKING:
    import sqlalchemy

log = logging.getLogger(__name__)

Progress = Callable[[str, str], None]  # (path, stage)


def ingest_paths(
    con: duckdb.DuckDBPyConnection, paths: list[Path], *, progress: Progress | None = None,
    ops: sqlalchemy.Engine | None = None,
) -> list[FileResult]:
    """Ingest every file (folders are walked), then run the post-batch steps once over all of
    them (pbxlens.pipeline; with `ops`, the reconcile step pushes the callback requests to
    the operations store). A file that cannot be read at all gets an `error` in its result
    and the others still load; a failing step raises PipelineError once the files are in."""
    files = sniff.walk(paths)
    # each file inspected once (sniff.one_run); queue_log + Master.csv of one run merge
    with sniff.one_run(), _ingest_memory(con), asterisk.pairing(files):
        results = [_load_file(con, path, progress) for path in files]
        _run_steps(pipeline.StepContext(con, ops), files[-1] if files else None, progress)
    return results


# While an ingest writes: its memory budget (beyond it DuckDB spills the staging tables and
# joins to its temp directory), and no FSST string compression (the costliest method to
# write: a quarter of the write time, for a store about a fifth larger; reads gain). A store
# in the newer format (analytics.STORAGE_VERSION) compresses strings with DICT_FSST, which this
# leaves on: without it the same rows took 6 times the blocks for a tenth less CPU.
_WRITE_SETTINGS = {"memory_limit": None, "disabled_compression_methods": "fsst"}


@contextlib.contextmanager
def _ingest_memory(con: duckdb.DuckDBPyConnection) -> Iterator[None]:
    """The ingest's settings (_WRITE_SETTINGS), restored afterwards."""
    normalize.prepare(con)
    wanted = {**_WRITE_SETTINGS, "memory_limit": get_settings().ingest_memory_limit}
    before = {k: con.execute("SELECT current_setting(?)", [k]).fetchone()[0] for k in wanted}
    for k, v in wanted.items():
        con.execute(f"SET {k} = ?", [v])
    try:
        yield
    finally:
        _rollback(con)  # an interrupted file leaves no open transaction behind
        for k, v in before.items():
            con.execute(f"SET {k} = ?", [v])


def _run_steps(ctx: pipeline.StepContext, path: Path | None, progress: Progress | None) -> None:
    note = (lambda step: progress(str(path), step)) if progress and path else None
    pipeline.run_pending(ctx, progress=note)


def _load_file(con: duckdb.DuckDBPyConnection, path: Path, progress: Progress | None
               ) -> FileResult:
    """Read, normalize and store one file as one batch (one transaction). `seconds` is the
    whole file's time."""
    note = progress or (lambda _p, _s: None)
    t0 = time.perf_counter()
    timer = loader.Timer()
    started = datetime.now(UTC)
    result = FileResult(path=str(path), format="unknown")
    try:
        kind = sniff.detect(path)
        sha = loader.sha256_of(path)
        seen = loader.already_loaded(con, sha)
        if kind.kind == "json" and directory.is_directory(path):
            result.format = "directory_json"
        elif kind.kind == "json" and event_log.is_event_log(path):
            result.format = event_log.FORMAT
        if seen:
            result.format = seen[2]
            result.rows_read = result.rows_duplicate = seen[1]
            result.skipped = f"already loaded as batch {seen[0]}"
            return result
        note(str(path), "reading")
        if result.format == "directory_json":
            _load_directory(con, path, result, sha, started, timer)
        elif kind.kind.startswith("callcenter_"):
            _load_callcenter(con, path, kind, result, sha, started, timer, note)
        elif result.format == event_log.FORMAT:
            event_log.load_file(con, path, result, sha, started, timer)
        else:
            _load_cdr(con, path, kind, result, sha, started, timer, note)
    except PbxlensError as exc:
        _rollback(con)
        result.error = str(exc)
    except duckdb.Error as exc:
        _rollback(con)
        result.error = f"{path}: {sniff.duckdb_message(exc)}"
    except Exception as exc:  # the per-file boundary: no file may stop the others loading
        _rollback(con)
        log.exception("ingest of %s failed", path)
        first = (str(exc).splitlines() or [""])[0][:300]
        result.error = f"{path}: cannot be read ({type(exc).__name__}: {first})"
    finally:
        batch_ids.done(result.batch_id)  # committed or rolled back by now
        result.seconds = round(time.perf_counter() - t0, 3)
    return result


def _rollback(con: duckdb.DuckDBPyConnection) -> None:
    with contextlib.suppress(duckdb.Error):  # no transaction was open
        con.execute("ROLLBACK")


def _load_directory(con, path, result, sha, started, timer) -> None:
    d = directory.parse(path)
    parse_s = timer.lap()
    result.batch_id = loader.begin_batch(con)
    n = directory.load(con, d)
    result.rows_read = result.rows_loaded = n
    loader.finish_batch(con, result, sha=sha, started=started, parse_s=parse_s,
                        load_s=timer.lap())


def _load_cdr(con, path, kind, result, sha, started, timer, note) -> None:
    try:
        _load_cdr_batch(con, path, kind, result, sha, started, timer, note)
    finally:
        # the staging tables of this file (they can hold millions of rows)
        kalliope_cdr.drop_temp(con, (*kalliope_cdr.SCRATCH, *normalize.SCRATCH))


def _load_cdr_batch(con, path, kind, result, sha, started, timer, note) -> None:
    raw = {**kalliope_cdr.READERS, **asterisk.READERS}[kind.kind](con, path, kind)
    result.format = raw.format
    note(str(path), "normalizing")
    try:
        normalize.stage(con, tz=get_settings().timezone,
                        years=raw.years or normalize.years_in(con), after_norm=raw.after_scan,
                        null_columns=raw.null_columns)
    except duckdb.InvalidInputException as exc:  # the CSV reader gave up on the whole file
        raise sniff.UnreadableFileError(
            f"{path}: cannot read as CSV: {sniff.duckdb_message(exc)}") from None
    result.rows_read = raw.rows_read if raw.rows_read is not None else con.execute(
        "SELECT (SELECT count(*) FROM norm) + (SELECT count(*) FROM raw_rejects)").fetchone()[0]
    parse_s = timer.lap()
    note(str(path), "loading")
    result.batch_id = loader.begin_batch(con)
    _take_counts(result, loader.load_cdr(con, result.batch_id, has_detail=raw.has_detail,
                                         fmt=raw.format))
    result.rows_quarantined = loader.quarantine(con, result.batch_id, str(path))
    loader.finish_batch(con, result, sha=sha, started=started, parse_s=parse_s,
                        load_s=timer.lap())


def _load_callcenter(con, path, kind, result, sha, started, timer, note) -> None:
    """A Call Center CDR file: same batch, idempotency and quarantine rules."""
    cc = kalliope_callcenter
    try:
        raw = cc.READERS[kind.kind.removeprefix("callcenter_")](con, path, kind)
        result.format = raw.format
        note(str(path), "normalizing")
        cc.stage(con, tz=get_settings().timezone)
        result.rows_read = raw.rows_read
        parse_s = timer.lap()
        note(str(path), "loading")
        result.batch_id = loader.begin_batch(con)
        _take_counts(result, cc.load(con, result.batch_id, has_events=raw.has_events))
        result.rows_quarantined = cc.quarantine(con, result.batch_id, str(path))
        loader.finish_batch(con, result, sha=sha, started=started, parse_s=parse_s,
                            load_s=timer.lap())
    finally:
        cc.drop_scratch(con)


def _take_counts(result: FileResult, counts: dict[str, int]) -> None:
    """A loader's counts (CDR or Call Center) into the file's result."""
    result.rows_loaded = counts["rows_loaded"]
    result.rows_duplicate = counts["rows_duplicate"]
    result.calls_loaded = counts["calls_loaded"]
