"""Uploaded export files → `pbxlens.ingest.ingest_paths`, in the server process, under the
store's write lock. The size limit is the `max_upload_bytes` setting (Flask refuses larger
bodies with 413 before this runs)."""

from __future__ import annotations

import re
import tempfile
from pathlib import Path

from pbxlens.dashboards.store import Store

_SAFE = re.compile(r"[^A-Za-z0-9._-]+")


def ingest_uploads(store: Store, files) -> str:
    from pbxlens.ingest import ingest_paths

    files = [f for f in files if f and f.filename]
    if not files:
        return "no file chosen"
    with tempfile.TemporaryDirectory(prefix="pbxlens-upload-") as tmp:
        paths = []
        for i, f in enumerate(files):
            name = _SAFE.sub("_", Path(f.filename).name)[:100] or f"upload{i}"
            p = Path(tmp) / f"{i:02d}_{name}"
            f.save(p)
            paths.append(p)
        with store.writing() as cur:
            results = ingest_paths(cur, paths)
    parts = []
    for r in results:
        name = Path(r.path).name[3:]
        if r.error:
            parts.append(f"{name}: {r.error}")
        else:
            parts.append(f"{name}: {r.rows_loaded} loaded, {r.rows_duplicate} duplicate, "
                         f"{r.rows_quarantined} quarantined" + (f" ({r.skipped})" if r.skipped
                                                                 else ""))
    return "; ".join(parts)
