from __future__ import annotations

from pathlib import Path

from pbxlens.ingest import ingest_paths

CALL_SNAPSHOT = (
    "SELECT * EXCLUDE (batch_id, extra) FROM calls ORDER BY tenant, unique_id, leg_branch"
)
LEG_SNAPSHOT = "SELECT * EXCLUDE (batch_id) FROM call_legs ORDER BY tenant, unique_id, leg_branch, seq"


def load(con, *paths: Path):
    results = ingest_paths(con, list(paths))
    return results[0] if len(results) == 1 else results


def snapshot(con):
    return con.execute(CALL_SNAPSHOT).fetchall(), con.execute(LEG_SNAPSHOT).fetchall()


def csv_lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines()
