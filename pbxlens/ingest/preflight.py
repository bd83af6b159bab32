"""Read an uploaded file once in a child process with a memory limit, before the server's
writer loads it: a file whose reading would exhaust memory ends that child, never the server.

CSV layouts are not read here: DuckDB streams them within its line-size limit and the
ingest memory limit. Workbooks, JSON and XML are parsed by Python readers, which hold the
records in memory: those are the ones tried first (`python -m pbxlens.ingest.preflight`).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

STREAMED = {"csv", "asterisk_master", "asterisk_queue_log", "callcenter_csv"}
UNREADABLE = 2  # the child's exit code for a file it refused with a message


def check(path: Path, limit_bytes: int, timeout_s: float = 3600) -> str | None:
    """None when the file can be read within `limit_bytes` of address space; else the
    one-line error to report for it."""
    cmd = [sys.executable, "-m", "pbxlens.ingest.preflight", str(int(limit_bytes)), str(path)]
    try:
        # few malloc arenas: each thread's arena would reserve address space the limit counts
        env = {**os.environ, "MALLOC_ARENA_MAX": "2"}
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout_s, env=env)
    except subprocess.TimeoutExpired:
        return f"{path}: reading it took longer than {int(timeout_s)} s: not loaded"
    if r.returncode == 0:
        return None
    lines = r.stdout.strip().splitlines()
    if r.returncode == UNREADABLE and lines:
        return lines[-1]
    return (f"{path}: reading it needs more than {limit_bytes} bytes of memory (setting"
            " upload_parse_memory_bytes): not loaded")


def _child(limit_bytes: int, path: Path) -> int:
    import resource

    resource.setrlimit(resource.RLIMIT_AS, (limit_bytes, limit_bytes))
    from pbxlens import PbxlensError
    from pbxlens.ingest import sniff
    from pbxlens.store import pandas_probe

    pandas_probe.skip()  # pandas' import would count against the limit, for nothing

    try:
        kind = sniff.detect(path)
        if kind.kind in STREAMED:
            return 0
        from pbxlens.ingest import ingest_paths
        from pbxlens.store import analytics

        con = analytics.connect(":memory:")
        con.execute("SET memory_limit = ?", [f"{max(limit_bytes // 4, 64 << 20)}B"])
        con.execute("SET threads = 1")  # one thread: its buffers are all the limit must hold
        [result] = ingest_paths(con, [path])
    except PbxlensError as exc:
        print(str(exc))
        return UNREADABLE
    except MemoryError:
        return 3
    if result.error and "MemoryError" in result.error:
        return 3
    if result.error:
        print(result.error)
        return UNREADABLE
    return 0


if __name__ == "__main__":
    sys.exit(_child(int(sys.argv[1]), Path(sys.argv[2])))
