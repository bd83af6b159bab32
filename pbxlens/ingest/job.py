"""Ingest as a job of the analytics writer: files (a CLI ingest, an upload) loaded in the
writer's lane, with progress recorded for the admin page."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import duckdb

from pbxlens.ingest.loader import FileResult
from pbxlens.store import priority
from pbxlens.store.writer import JobContext


def ingest_job(paths: list[Path], *, cleanup: Path | None = None,
               progress: Callable[[str, str], None] | None = None,
               watch: Callable[[duckdb.DuckDBPyConnection], object] | None = None,
               isolate: bool = False,
               ) -> Callable[[JobContext], list[FileResult]]:
    """A writer job that ingests `paths` and then removes the folder `cleanup` (an upload's
    own folder), whatever happens. `progress(path, stage)` is told each stage too, and
    `watch(con)` receives the cursor that runs the job (a progress bar polls it). With
    `isolate` (uploads to the server), each file is first read in a child process with a
    memory limit (`preflight`): one that cannot be read there gets its error and is skipped."""

    def run(ctx: JobContext) -> list[FileResult]:
        from pbxlens.ingest import ingest_paths
        from pbxlens.ingest.sniff import walk
        from pbxlens.missed_calls import sync as missed_sync

        try:
            if watch is not None:
                watch(ctx.con)
            files = walk(paths)
            done: list[str] = []

            def note(path: str, stage: str) -> None:
                if path not in done:
                    done.append(path)
                ctx.progress((len(done) - 1) / max(len(files), 1),
                             f"{stage} {Path(path).name}")
                if progress is not None:
                    progress(path, stage)

            refused = _preflight(files) if isolate else {}
            missed_sync.prepare(ctx.con, ctx.ops)  # missed-call settings and flushes of now
            ok = [f for f in files if f not in refused]
            # the reconcile step pushes the callback requests the files changed (ctx.ops)
            loaded = iter(ingest_paths(ctx.con, ok, progress=note, ops=ctx.ops))
            # what prepare's flushes left (else a no-op); its writes hold SQLite's write turn
            priority.unlowered(missed_sync.push, ctx.con, ctx.ops)
            return [refused[f] if f in refused else next(loaded) for f in files]
        finally:
            if cleanup is not None:
                shutil.rmtree(cleanup, ignore_errors=True)

    return run


def _preflight(files: list[Path]) -> dict[Path, FileResult]:
    from pbxlens.config import get_settings
    from pbxlens.ingest import preflight

    limit = get_settings().upload_parse_memory_bytes
    out = {}
    for f in files:
        error = preflight.check(f, limit)
        if error:
            out[f] = FileResult(path=str(f), format="unknown", error=error)
    return out


def summary_of(results: list[dict] | None, strip: int = 0) -> str:
    """One line per file for a person (from the job's recorded result, `FileResult.public()`
    dicts): loaded, duplicate, quarantined, or the error."""
    parts = []
    for r in results or []:
        name = Path(r["path"]).name[strip:]
        if r.get("error"):
            parts.append(f"{name}: {r['error']}")
        else:
            parts.append(f"{name}: {r['rows_loaded']} loaded, {r['rows_duplicate']} duplicate, "
                         f"{r['rows_quarantined']} quarantined"
                         + (f" ({r['skipped']})" if r.get("skipped") else ""))
    return "; ".join(parts)
