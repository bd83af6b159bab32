"""`pbxlens users`: the first admin of a new deployment, changes, passwords, tokens."""

from __future__ import annotations

import subprocess

from pbxlens.store import Stores, users
from tests.clirun import pbxlens, pbxlens_process


def _cli(*args: str) -> subprocess.CompletedProcess:
    return pbxlens("users", *args)  # in this process (tests/clirun.py)


def test_users_from_the_command_line(tmp_path):
    db = str(tmp_path / "s.duckdb")
    # a real `python -m pbxlens`, the file's one (the entry point stays covered)
    r = pbxlens_process("users", "add", "boss", "--role", "admin", "--db", db, timeout=120)
    assert r.returncode == 0 and "password:" in r.stdout
    password = r.stdout.rsplit("password:", 1)[1].strip()
    assert _cli("add", "boss", "--role", "admin", "--db", db).returncode == 2  # exists
    assert _cli("add", "x", "--role", "king", "--db", db).returncode == 2      # no such role
    assert _cli("set", "boss", "--privacy", "--extension", "201", "--db", db).returncode == 0
    token = _cli("token", "boss", "--db", db).stdout.strip()
    with Stores(db) as s:
        u = users.authenticate(s, "boss", password, "127.0.0.1")
        assert (u.role, u.privacy, u.extension) == ("admin", True, "201")
        assert users.token_user(s, token).username == "boss"
    assert "boss" in _cli("list", "--db", db).stdout
