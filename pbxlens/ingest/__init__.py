"""Ingest: read files of any supported source into the store, one transaction per file."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from pbxlens import PbxlensError
from pbxlens.billing import rating, rating_keys
from pbxlens.config import get_settings
from pbxlens.ingest import activity as activity_facts
from pbxlens.ingest import (
    asterisk,
    derive,
    directory,
    kalliope_callcenter,
    kalliope_cdr,
    loader,
    normalize,
    sniff,
)
from pbxlens.ingest import events as event_log
from pbxlens.ingest.loader import FileResult
from pbxlens.missed_calls import reconcile as missed
from pbxlens.reports import coincidence_days
from pbxlens.store import sql

log = logging.getLogger(__name__)

Progress = Callable[[str, str], None]  # (path, stage)


def ingest_paths(
    con: duckdb.DuckDBPyConnection, paths: list[Path], *, progress: Progress | None = None
) -> list[FileResult]:
    """Ingest every file (folders are walked). A file that cannot be read at all gets an
    `error` in its result and the others still load."""
    normalize.prepare(con)
    files = sniff.walk(paths)
    stage = _attach_stage(con)
    before = con.execute("SELECT current_setting('memory_limit')").fetchone()[0]
    con.execute("SET memory_limit = ?", [get_settings().ingest_memory_limit])
    try:
        with asterisk.pairing(files):  # queue_log + Master.csv of one run merge (asterisk.py)
            return [ingest_file(con, path, progress=progress) for path in files]
    finally:
        _rollback(con)  # an interrupted file leaves no open transaction on the stage
        con.execute("SET memory_limit = ?", [before])
        con.execute(f"DETACH DATABASE IF EXISTS {normalize.STAGE}")
        if stage:
            for f in (stage, Path(f"{stage}.wal")):
                f.unlink(missing_ok=True)


def _attach_stage(con: duckdb.DuckDBPyConnection) -> Path | None:
    """A scratch database beside the store for the big staging tables: unlike temp tables its
    blocks spill to disk, so memory stays within `ingest_memory_limit`. In memory for an
    in-memory store; whatever a killed run left there is discarded."""
    store = con.execute(
        "SELECT path FROM duckdb_databases() WHERE database_name = current_database()"
    ).fetchone()[0]
    con.execute(f"DETACH DATABASE IF EXISTS {normalize.STAGE}")
    if not store:
        con.execute(f"ATTACH ':memory:' AS {normalize.STAGE}")
        return None
    path = Path(f"{store}.stage")
    for f in (path, Path(f"{path}.wal")):
        f.unlink(missing_ok=True)
    con.execute(f"ATTACH {sql.literal(path)} AS {normalize.STAGE}")  # takes no bound parameter
    return path


def ingest_file(
    con: duckdb.DuckDBPyConnection, path: Path, *, progress: Progress | None = None
) -> FileResult:
    note = progress or (lambda _p, _s: None)
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
        result.seconds = round(result.seconds or timer.lap(), 3)
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
    raw = {**kalliope_cdr.READERS, **asterisk.READERS}[kind.kind](con, path, kind)
    result.format = raw.format
    note(str(path), "normalizing")
    try:
        normalize.stage(con, tz=get_settings().timezone,
                        years=raw.years or normalize.years_in(con), after_norm=raw.after_scan)
    except duckdb.InvalidInputException as exc:  # the CSV reader gave up on the whole file
        raise sniff.UnreadableFileError(
            f"{path}: cannot read as CSV: {sniff.duckdb_message(exc)}") from None
    result.rows_read = raw.rows_read if raw.rows_read is not None else con.execute(
        "SELECT (SELECT count(*) FROM norm) + (SELECT count(*) FROM raw_rejects)").fetchone()[0]
    parse_s = timer.lap()
    note(str(path), "loading")
    result.batch_id = loader.begin_batch(con)
    counts = loader.load_cdr(con, result.batch_id, has_detail=raw.has_detail, fmt=raw.format)
    result.rows_loaded = counts["rows_loaded"]
    result.rows_duplicate = counts["rows_duplicate"]
    result.calls_loaded = counts["calls_loaded"]
    if result.calls_loaded:
        coincidence_days.capture(con, result.batch_id)  # the days replaced calls held
        derive.refresh(con, result.batch_id)
        coincidence_days.refresh(con, result.batch_id)
        activity_facts.refresh_talk(con, result.batch_id)
        rating_keys.refresh(con, result.batch_id)
        rating.rate_batch(con, result.batch_id)
        missed.on_batch(con, result.batch_id)
    result.rows_quarantined = loader.quarantine(con, result.batch_id, str(path))
    loader.finish_batch(con, result, sha=sha, started=started, parse_s=parse_s,
                        load_s=timer.lap())
    _drop_scratch(con)


def _load_callcenter(con, path, kind, result, sha, started, timer, note) -> None:
    """A Call Center CDR file (issue 6): same batch, idempotency and quarantine rules."""
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
        counts = cc.load(con, result.batch_id, has_events=raw.has_events)
        result.rows_loaded = counts["rows_loaded"]
        result.rows_duplicate = counts["rows_duplicate"]
        result.calls_loaded = counts["calls_loaded"]
        if result.calls_loaded:
            missed.on_batch(con, result.batch_id)  # unanswered queue calls -> callbacks
        result.rows_quarantined = cc.quarantine(con, result.batch_id, str(path))
        loader.finish_batch(con, result, sha=sha, started=started, parse_s=parse_s,
                            load_s=timer.lap())
    finally:
        cc.drop_scratch(con)


def _drop_scratch(con: duckdb.DuckDBPyConnection) -> None:
    """Free the staging tables of the last file (they can hold millions of rows)."""
    kalliope_cdr.drop_temp(con, (*kalliope_cdr.SCRATCH, *normalize.SCRATCH))
