"""directory.json writer."""

from __future__ import annotations

import json
from pathlib import Path

from ..directory import Directory


def write_directory_json(doc: dict, out_dir: Path) -> Path:
    path = out_dir / "directory.json"
    with open(path, "w", encoding="utf-8") as f:
        json.dump(doc, f, ensure_ascii=False, indent=1)
        f.write("\n")
    return path


def write_directory(d: Directory, out_dir: Path, timezone: str) -> Path:
    return write_directory_json(d.to_json(timezone), out_dir)
