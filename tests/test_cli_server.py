"""The CLI while `pbxlens serve` holds the store: each command goes through the server (a
token file beside the store, readable only by its user) and prints the same output with the
same exit code as without a server."""

from __future__ import annotations

import json
import os
import signal
import socket
import stat
import subprocess
import sys
import time
from datetime import date

import httpx
import pytest

from pbxlens.simulate import generate


def _cli(*args, env=None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pbxlens", *args], capture_output=True,
                          text=True, timeout=300, env=env)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def served(tmp_path):
    sim = tmp_path / "sim"
    generate(sim, days=2, calls_per_day=200, seed=5, start=date(2026, 5, 11),
             formats=["csv-detailed"])
    db = tmp_path / "store.duckdb"
    assert _cli("ingest", str(sim), "--db", str(db)).returncode == 0
    yield tmp_path, db


COMMANDS = [
    ("report", "cdr.queues", "--from", "2026-05-11", "--to", "2026-05-12", "--format", "json"),
    ("report", "cdr.operators", "--from", "2026-05-11", "--to", "2026-05-12", "--format", "csv"),
    ("report", "cdr.nope"),
    ("status",),
    ("quarantine",),
]


def test_commands_through_the_server_equal_commands_alone(served):
    tmp_path, db = served
    alone = [_cli(*c, "--db", str(db)) for c in COMMANDS]
    port = _free_port()
    server = subprocess.Popen([sys.executable, "-m", "pbxlens", "serve", "--db", str(db),
                               "--port", str(port)], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True)
    link = db.with_name(db.name + ".server.json")
    try:
        for _ in range(600):
            if link.exists():
                break
            assert server.poll() is None, server.stderr.read()
            time.sleep(0.1)
        assert stat.S_IMODE(os.stat(link).st_mode) == 0o600
        info = json.loads(link.read_text())
        # the endpoint refuses a missing or wrong token
        r = httpx.post(f"{info['url']}/api/local/cli", json={"command": "x"})
        assert r.status_code == 403
        r = httpx.post(f"{info['url']}/api/local/cli", json={"command": "x"},
                       headers={"X-Pbxlens-Local-Token": info["token"] + "x"})
        assert r.status_code == 403
        through = [_cli(*c, "--db", str(db)) for c in COMMANDS]
        for cmd, a, b in zip(COMMANDS, alone, through, strict=True):
            assert (b.returncode, b.stdout, b.stderr) == (a.returncode, a.stdout, a.stderr), cmd
        # an ingest through the server is a writer job: loading the same files is a no-op
        again = _cli("ingest", str(tmp_path / "sim"), "--db", str(db), "--json")
        assert again.returncode == 0, again.stderr
        files = json.loads(again.stdout)["files"]
        assert files and all(f["rows_loaded"] == 0 for f in files)
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(60)
    assert not link.exists()  # withdrawn when the server stops
    assert _cli("status", "--db", str(db)).stdout == alone[3].stdout
