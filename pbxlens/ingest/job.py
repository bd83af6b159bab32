"""Ingest as a job of the analytics writer: files (a CLI ingest, an upload) loaded in the
writer's lane, with progress recorded for the admin page."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import duckdb

from pbxlens.ingest.loader import FileResult
from pbxlens.store.writer import JobContext


def ingest_job(paths: list[Path], *, cleanup: Path | None = None,
               progress: Callable[[str, str], None] | None = None,
               watch: Callable[[duckdb.DuckDBPyConnection], object] | None = None,
               ) -> Callable[[JobContext], list[FileResult]]:
    """A writer job that ingests `paths` and then removes the folder `cleanup` (an upload's
    own folder), whatever happens. `progress(path, stage)` is told each stage too, and
    `watch(con)` receives the cursor that runs the job (a progress bar polls it)."""

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

            missed_sync.prepare(ctx.con, ctx.ops)  # missed-call settings and flushes of now
            # the reconcile step pushes the callback requests the files changed (ctx.ops)
            return ingest_paths(ctx.con, paths, progress=note, ops=ctx.ops)
        finally:
            if cleanup is not None:
                shutil.rmtree(cleanup, ignore_errors=True)

    return run


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
