"""`pbxlens tickets ...` end to end on a real store file: import companies and tickets from CSV
(with a bad row), list as JSON, export XLSX read back with openpyxl, lookup of a number."""

from __future__ import annotations

import json

import openpyxl
from typer.testing import CliRunner

from pbxlens.cli import app

run = CliRunner().invoke


def test_cli_import_list_export_lookup(tmp_path):
    db = str(tmp_path / "s.duckdb")
    (tmp_path / "c.csv").write_text(
        "company;phones;contact;contact_phones\nAcme;0461 123456;Mario;+39 333 1234567\n;0461;;\n",
        encoding="utf-8",
    )
    r = run(app, ["tickets", "import-companies", str(tmp_path / "c.csv"), "--db", db, "--json"])
    assert r.exit_code == 1 and json.loads(r.stdout)["rejected"][0]["line"] == 3
    (tmp_path / "t.csv").write_text(
        "title,account,final_customer,status,type,priority\n"
        "Stampante,Acme,Acme,nuovo,assistenza,priorita 1\n"
        "Rete,Acme,Acme,in lavorazione,analisi,priorita 2\n",
        encoding="utf-8",
    )
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

    s = Store(db)
    with s.ops_read() as c:
        assert companies.allowed_types(c, companies.company_by_name(c, "Acme")["id"]) == ["assistenza"]
    s.close()
