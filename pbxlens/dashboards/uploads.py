"""Uploaded export files → a job of the analytics writer. The request returns as soon as the
files are on disk and the job is queued; the admin ingest page shows its progress and outcome.
The size limit is the `max_upload_bytes` setting (Flask refuses larger bodies with 413 before
this runs)."""

from __future__ import annotations

import re
import tempfile
from pathlib import Path

from pbxlens.ingest.job import ingest_job
from pbxlens.store import Stores
from pbxlens.store.writer import Job

_SAFE = re.compile(r"[^A-Za-z0-9._-]+")


def uploads_dir(store: Stores) -> Path:
    """Uploads wait for their job beside the store (not in /tmp: they may be large)."""
    folder = store.path.with_name(store.path.name + ".uploads")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def queue_uploads(store: Stores, files, user: str | None = None) -> Job | None:
    """Save the uploaded files and queue their ingest; None when no file was chosen."""
    files = [f for f in files if f and f.filename]
    if not files:
        return None
    folder = Path(tempfile.mkdtemp(prefix="upload-", dir=uploads_dir(store)))
    paths = []
    for i, f in enumerate(files):
        name = _SAFE.sub("_", Path(f.filename).name)[:100] or f"upload{i}"
        p = folder / f"{i:02d}_{name}"
        f.save(p)
        paths.append(p)
    label = ", ".join(p.name[3:] for p in paths)
    return store.writer.submit("upload", label, ingest_job(paths, cleanup=folder, isolate=True),
                               created_by=user)
