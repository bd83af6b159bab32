"""Ingest: read files of any supported source into the store, one transaction per file; then
the post-batch steps (pbxlens.pipeline) bring the derived tables up to date.

The work is in `pbxlens.ingest.files`; its entry points are loaded on first use, so that a
module of this package (the inbox, the activity CLI, the sniffer) does not load the whole
ingest and the pipeline with it (most of a CLI command's start-up)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pbxlens.ingest.files import FileResult, Progress, ingest_paths

__all__ = ["FileResult", "Progress", "ingest_paths"]


def __getattr__(name: str):
    if name in __all__:
        from pbxlens.ingest import files

        return getattr(files, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
