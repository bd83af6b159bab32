"""Carrier reconciliation: an invoice with deliberately missing, extra and mispriced calls
reconciled exactly; bad lines put aside with their reason and line; importing twice is a
no-op; the report's XLSX read back."""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D

import openpyxl
import pytest

from pbxlens.billing import carrier, tariffs
from pbxlens.reports import Params, export, run
from pbxlens.reports.drilldown import Cell, drill
from tests.billing.conftest import add_call

INVOICE = """Numero;Data;Durata;Importo
+39 06 12345678;01/06/2022 10:00:03;60;0,6
3331234567;01/06/2022 11:00:30;00:02:01;1,50
0039 0612 999999;01/06/2022 12:00:00;45;0,45
0287654321;01/07/2022 10:00:00;61;0,61
bad;xx;10;1
0612345678;01/06/2022 13:00:00;abc;0,1
"""
COLUMNS = "number=Numero,start=Data,duration=Durata,cost=Importo"


@pytest.fixture()
def store(con, tmp_path):
    calls = {
        "ok": add_call(con, number="0612345678", start="2022-06-01 10:00:00", bill=60,
                       line="TRUNK1"),
        "mispriced": add_call(con, number="3331234567", start="2022-06-01 11:00:00", bill=120,
                              line="TRUNK1"),
        "missing": add_call(con, number="0612345678", start="2022-06-02 09:00:00", bill=30,
                            line="TRUNK1"),
        "july": add_call(con, number="0287654321", start="2022-07-01 10:00:00", bill=61,
                         line="TRUNK1"),
        "other_line": add_call(con, number="0612345678", start="2022-06-01 10:00:00", bill=60,
                               line="TRUNK2", cfg="=CFG2()"),
    }
    tariffs.add_tariff(con, description="uscita", valid_from="2022-01-01", rate_out="0.6")
    f = tmp_path / "fattura.csv"
    f.write_text(INVOICE, encoding="utf-8")
    return con, calls, f


def test_invoice_reconciled_exactly(store, tmp_path):
    con, calls, f = store
    s = carrier.import_invoice(con, f, "TRUNK1", columns_spec=COLUMNS,
                               start_format="%d/%m/%Y %H:%M:%S")
    assert (s["lines"], s["rejected"], s["matched"]) == (4, 2, 3)
    assert con.execute("SELECT line_no, reason FROM carrier_invoice_rejects ORDER BY 1"
                       ).fetchall() == [(6, "number: missing"),
                                        (7, "duration: not seconds or HH:MM:SS")]
    again = carrier.import_invoice(con, f, "TRUNK1", columns_spec=COLUMNS,
                                   start_format="%d/%m/%Y %H:%M:%S")
    assert again["already"] == 1 and again["invoice_id"] == s["invoice_id"]
    assert con.execute("SELECT count(*) FROM carrier_invoice_lines").fetchone()[0] == 4
    matched = dict(con.execute("SELECT line_no, unique_id FROM carrier_matches").fetchall())
    assert matched == {2: calls["ok"], 3: calls["mispriced"], 5: calls["july"]}

    p = Params(date_from=date(2022, 6, 1), date_to=date(2022, 7, 31))
    r = run(con, "billing.carrier", p)
    t = r.tables[0]
    june, july = t.rows
    assert june["key"] == "TRUNK1|2022-06" and july["key"] == "TRUNK1|2022-07"
    assert (june["lines.matched"], june["lines.mispriced"], june["lines.only_invoice"],
            june["lines.only_pbx"]) == (2, 1, 1, 1)
    assert (june["money.inv"], june["money.pbx"], june["money.diff"],
            june["money.diff_matched"]) == (D("2.55000"), D("2.10000"), D("0.45000"),
                                            D("0.30000"))
    assert (july["lines.matched"], july["money.diff"]) == (1, D("0.00000"))
    assert t.totals["money.diff"] == D("0.45000")
    cell = drill(con, "billing.carrier", p,
                 Cell("billing.carrier", "carrier", "TRUNK1|2022-06", "lines.mispriced"))
    assert [(x["unique_id"], x["diff"]) for x in cell.rows] == [(calls["mispriced"],
                                                                  D("0.30000"))]
    only = drill(con, "billing.carrier", p,
                 Cell("billing.carrier", "carrier", "TRUNK1|2022-06", "lines.only_pbx"))
    assert [x["unique_id"] for x in only.rows] == [calls["missing"]]
    x = tmp_path / "carrier.xlsx"
    export.to_xlsx(r, x)
    cells = [c for row in openpyxl.load_workbook(x).active.iter_rows(values_only=True)
             for c in row]
    assert 2.55 in cells and 0.45 in cells


def test_tolerances_and_gateway_by_outbound_configuration(store, monkeypatch):
    from pbxlens.config import get_settings

    con, _calls, f = store
    monkeypatch.setenv("PBXLENS_CARRIER_COST_TOLERANCE", "0.5")
    monkeypatch.setenv("PBXLENS_CARRIER_MATCH_WINDOW_S", "5")
    get_settings.cache_clear()
    try:
        s = carrier.import_invoice(con, f, "=CFG1()", columns_spec=COLUMNS,
                                   start_format="%d/%m/%Y %H:%M:%S")
        assert s["matched"] == 2  # 11:00:30 is 30 s from its call: outside a 5 s window
        r = run(con, "billing.carrier", Params(date_from=date(2022, 6, 1),
                                               date_to=date(2022, 6, 30)))
        june = r.tables[0].rows[0]
        assert (june["lines.matched"], june["lines.mispriced"], june["lines.only_invoice"],
                june["lines.only_pbx"]) == (1, 0, 2, 2)
    finally:
        monkeypatch.delenv("PBXLENS_CARRIER_COST_TOLERANCE")
        monkeypatch.delenv("PBXLENS_CARRIER_MATCH_WINDOW_S")
        get_settings.cache_clear()


def test_bad_files(store, tmp_path):
    con, _calls, f = store
    with pytest.raises(carrier.CarrierFileError, match="no column 'number', 'start'"):
        carrier.import_invoice(con, f, "TRUNK1")
    with pytest.raises(carrier.CarrierFileError, match="need number"):
        carrier.import_invoice(con, f, "TRUNK1", columns_spec="number=Numero")
    with pytest.raises(carrier.CarrierFileError, match="no such file"):
        carrier.import_invoice(con, tmp_path / "nope.csv", "TRUNK1")


def test_cli_import(store):
    from typer.testing import CliRunner

    from pbxlens.cli import app

    con, _calls, f = store
    path = con.execute("SELECT path FROM duckdb_databases() WHERE database_name = "
                       "current_database()").fetchone()[0]
    con.close()
    args = ["billing", "carrier", "import", str(f), "--gateway", "TRUNK1", "--db", path,
            "--columns", COLUMNS, "--start-format", "%d/%m/%Y %H:%M:%S"]
    res = CliRunner().invoke(app, args)
    assert res.exit_code == 0, res.output
    assert "lines 4, rejected 2, matched 3" in res.output
    res = CliRunner().invoke(app, ["billing", "carrier", "reconcile", "1", "--db", path])
    assert res.exit_code == 0 and "3 lines matched" in res.output
