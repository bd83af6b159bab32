"""`pbxlens tickets ...` end to end on real stores (both operations back-ends): import companies
and tickets from CSV (with a bad row), list as JSON, export XLSX read back with openpyxl, lookup
of a number; and the same commands while `pbxlens serve` holds the store, through the server,
with the same output (the commands in this process, tests/clirun.py; the server a process of its
own)."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time

import openpyxl
import pytest
from typer.testing import CliRunner

from pbxlens.cli import app
from tests.clirun import PBX, pbxlens

run = CliRunner().invoke

COMPANIES = "company;phones;contact;contact_phones\nAcme;0461 123456;Mario;+39 333 1234567\n;0461;;\n"
TICKETS = (
    "title,account,final_customer,status,type,priority\n"
    "Stampante,Acme,Acme,nuovo,assistenza,priorita 1\n"
    "Rete,Acme,Acme,in lavorazione,analisi,priorita 2\n"
)


@pytest.fixture
def cli_ops_url(ops_url, monkeypatch):
    """The operations store of the CLI in this process: PBXLENS_OPS_URL, and settings read
    afresh after the test (they would keep this URL for the next tests otherwise)."""
    from pbxlens.config import get_settings

    monkeypatch.setenv("PBXLENS_OPS_URL", ops_url)
    yield ops_url
    monkeypatch.delenv("PBXLENS_OPS_URL")
    get_settings.cache_clear()


def test_cli_import_list_export_lookup(tmp_path, cli_ops_url):
    ops_url = cli_ops_url
    db = str(tmp_path / "s.duckdb")
    (tmp_path / "c.csv").write_text(COMPANIES, encoding="utf-8")
    r = run(app, ["tickets", "import-companies", str(tmp_path / "c.csv"), "--db", db, "--json"])
    assert r.exit_code == 1 and json.loads(r.stdout)["rejected"][0]["line"] == 3
    (tmp_path / "t.csv").write_text(TICKETS, encoding="utf-8")
    r = run(app, ["tickets", "import", str(tmp_path / "t.csv"), "--db", db])
    assert r.exit_code == 0, r.stdout
    r = run(app, ["tickets", "list", "--db", db, "--json", "--status", "nuovo"])
    assert [t["number"] for t in json.loads(r.stdout)] == ["TICK-0001"]
    r = run(app, ["tickets", "export", str(tmp_path / "t.xlsx"), "--db", db])
    assert r.exit_code == 0
    ws = openpyxl.load_workbook(tmp_path / "t.xlsx").active
    assert [ws.cell(i, 1).value for i in (2, 3)] == ["TICK-0002", "TICK-0001"]
    r = run(app, ["tickets", "lookup", "0039 333 123 4567", "--db", db, "--json"])
    d = json.loads(r.stdout)
    assert (d["company"], d["contact"], len(d["open_tickets"])) == ("Acme", "Mario", 2)
    r = run(app, ["tickets", "send-outbox", "--db", db])
    assert "disabled" in r.stdout
    r = run(app, ["tickets", "config", "company-types", "Acme", "assistenza", "--db", db])
    assert r.exit_code == 0, r.output
    r = run(app, ["tickets", "config", "type-area", "commerciale", "Vendite", "--db", db])
    assert r.exit_code == 0, r.output
    r = run(app, ["tickets", "config", "notify", "ticket", "reply", "owner,bogus", "--db", db])
    assert r.exit_code != 0
    from pbxlens.store import Stores as Store
    from pbxlens.tickets import companies

    s = Store(db, ops_url)
    with s.ops_read() as c:
        assert companies.allowed_types(c, companies.company_by_name(c, "Acme")["id"]) == ["assistenza"]
    s.close()


# ------------------------------------------------------------------ while a server runs


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_commands_through_a_running_server_equal_commands_alone(tmp_path, ops_url):
    env = {"PBXLENS_OPS_URL": ops_url}
    db = str(tmp_path / "s.duckdb")

    def cli(*args):
        # in this process (tests/clirun.py): while the server runs, the command only talks to
        # it over HTTP; the server itself stays a process of its own, holding the store
        return pbxlens("tickets", *args, "--db", db, env=env)

    (tmp_path / "c.csv").write_text(COMPANIES, encoding="utf-8")
    (tmp_path / "t.csv").write_text(TICKETS, encoding="utf-8")
    (tmp_path / "t2.csv").write_text(TICKETS.splitlines()[0] + "\nVPN,Acme,Acme,nuovo,assistenza,priorita 3\n",
                                     encoding="utf-8")
    reads = [("list", "--json"), ("lookup", "0039 333 123 4567", "--json"), ("list",),
             ("config", "notify", "ticket", "reply", "owner,bogus")]
    assert cli("import-companies", str(tmp_path / "c.csv")).returncode == 1
    assert cli("import", str(tmp_path / "t.csv")).returncode == 0
    alone = [cli(*c) for c in reads]
    server = subprocess.Popen([*PBX, "serve", "--db", db, "--port", str(_free_port())],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                              env={**os.environ, **env})
    link = tmp_path / "s.duckdb.server.json"
    try:
        for _ in range(600):
            if link.exists():
                break
            assert server.poll() is None, server.stderr.read()
            time.sleep(0.1)
        through = [cli(*c) for c in reads]
        for cmd, a, b in zip(reads, alone, through, strict=True):
            assert (b.returncode, b.stdout, b.stderr) == (a.returncode, a.stdout, a.stderr), cmd
        assert alone[3].returncode != 0 and "bogus" in alone[3].stderr
        # a write through the server lands in the same operations store
        r = cli("import", str(tmp_path / "t2.csv"))
        assert r.returncode == 0 and "1 imported" in r.stdout, r.stderr
        r = cli("export", str(tmp_path / "t.xlsx"))
        assert r.returncode == 0, r.stderr
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(60)
    ws = openpyxl.load_workbook(tmp_path / "t.xlsx").active
    assert [ws.cell(i, 1).value for i in (2, 3, 4)] == ["TICK-0003", "TICK-0002", "TICK-0001"]
    assert [t["number"] for t in json.loads(cli("list", "--json").stdout)] == [
        "TICK-0003", "TICK-0002", "TICK-0001"]
