"""Hand-computed billing reports: multiservice (MS-1, MS-2), money formats, XLSX read back,
import re-rating only what it touches, the CLI over the catalog."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from datetime import date
from decimal import Decimal as D

import openpyxl
import pytest

from pbxlens.billing import multiservice as ms
from pbxlens.billing import tariffs
from pbxlens.billing.files import BillingFileError
from pbxlens.reports import Params, export, run
from pbxlens.reports import format as fmt
from tests.billing.conftest import add_call
from tests.clirun import pbxlens

JUN = Params(date_from=date(2022, 6, 1), date_to=date(2022, 6, 30))


def test_ms1_ms2_multiservice(con):
    ms.set_contract(con, "ACME", "2022-06-01", "2022-08-31")
    ms.set_contract(con, "NEXT", "2022-01-01", None)
    cin = ms.add_service(con, name="chiamate in", kind="calls_in", rate="0.25", free_limit=10,
                         answer_charge="5")
    ms.add_service(con, name="chiamate out", kind="calls_out", rate="0.1")
    visura = ms.add_service(con, name="visura camerale", rate="24")
    ms.add_quantity(con, "NEXT", visura, "2022-06-01", "2022-06-30", 10)  # MS-1
    ms.add_quantity(con, "NEXT", visura, "2022-07-01", "2022-07-31", 99)  # another period
    for h in (9, 10, 11):  # MS-2: three answered inbound calls of 240 s inside competenza
        add_call(con, direction="incoming", start=f"2022-06-15 {h:02d}:00:00", bill=240, ext="201")
    add_call(con, direction="incoming", start="2022-05-31 10:00:00", bill=240, ext="201")  # before
    add_call(con, direction="incoming", start="2022-06-15 12:00:00", bill=0, ext="201")  # unanswered
    lines = {(r["company"], r["service"]): r for r in ms.lines(con, date(2022, 6, 1), date(2022, 6, 30))}
    a = lines[("ACME", "chiamate in")]
    assert (a["qty"], a["secs"], a["cost"]) == (3, 720, D("15.50000"))  # 3×5 + 0.25×(12−10)
    assert lines[("ACME", "chiamate out")]["cost"] == D("0")
    assert lines[("NEXT", "visura camerale")]["cost"] == D("240.00000")  # MS-1
    r = run(con, "billing.multiservice", JUN)
    t = r.tables[0]
    acme = next(row for row in t.rows if row["company"] == "ACME")
    assert acme["label"] == "Acme (01/06/2022 – 31/08/2022)"
    assert acme["chiamate_in.q"] == 3 and acme["chiamate_in.s"] == 720
    assert acme["chiamate_in.cost"] == D("15.50000") and acme["total.cost"] == D("15.50000")
    assert t.totals["total.cost"] == D("255.50000")
    assert [c.group for c in t.columns][:4] == ["chiamate in"] * 3 + ["chiamate out"]
    # "Export fatturazione": the generic XLSX, money typed with the euro format
    buf = io.BytesIO()
    export.to_xlsx(r, buf)
    ws = openpyxl.load_workbook(io.BytesIO(buf.getvalue())).worksheets[0]
    rows = list(ws.iter_rows(min_row=4))
    last = rows[-1]
    assert last[0].value == "Total"
    assert last[-1].value == pytest.approx(255.5) and "€" in last[-1].number_format
    assert ms.list_services(con, ids=[cin])[0]["free_limit"] == 10


def test_multiservice_validation(con):
    cin = ms.add_service(con, name="chiamate in", kind="calls_in", rate="0.25")
    with pytest.raises(BillingFileError, match="kind"):
        ms.add_service(con, name="x", kind="fax", rate="1")
    with pytest.raises(BillingFileError, match="exists"):
        ms.add_service(con, name="chiamate in", kind="calls_in", rate="1")
    with pytest.raises(BillingFileError, match="rate"):
        ms.add_service(con, name="y", rate="-1")
    with pytest.raises(BillingFileError, match="answer_charge"):
        ms.add_service(con, name="z", rate="1", answer_charge="2")
    unit = ms.add_service(con, name="visura", rate="24")
    with pytest.raises(BillingFileError, match="no contract"):
        ms.add_quantity(con, "ACME", unit, "2022-06-01", "2022-06-30", 1)
    ms.set_contract(con, "ACME", "01/06/2022")
    with pytest.raises(BillingFileError, match="counted from the CDR"):
        ms.add_quantity(con, "ACME", cin, "2022-06-01", "2022-06-30", 1)
    with pytest.raises(BillingFileError, match="whole number"):
        ms.add_quantity(con, "ACME", unit, "2022-06-01", "2022-06-30", "1.5")
    with pytest.raises(BillingFileError, match="before"):
        ms.set_contract(con, "ACME", "2022-06-01", "2022-05-01")


def test_money_display_and_json(con):
    assert fmt.money(D("20086.005"), lang="it") == "€ 20.086,01"  # rounded once, half-up
    assert fmt.money(D("20575.175"), lang="en") == "€ 20,575.18"
    assert fmt.cell(D("0.00000"), "money") == "€ 0,00"
    add_call(con, start="2022-06-01 10:00:00", bill=61)
    add_call(con, start="2022-06-02 10:00:00", bill=59, ext="202")
    tariffs.add_tariff(con, description="terzi", valid_from="2022-01-01", rate_out="0.33333",
                       answer_charge="0.00001")
    r = run(con, "billing.by_date", JUN)
    d = json.loads(export.to_json(r))
    t = d["tables"][0]
    # 61 s × 0.33333/60 = 0.3388855 -> 0.33889 (+ 0.00001); 59 s -> 0.3277745 -> 0.32777 (+1)
    assert [row["cost.cost"] for row in t["rows"]] == ["0.33890", "0.32778"]
    assert t["totals"]["cost.cost"] == "0.66668"
    assert {c["unit"] for c in t["columns"] if c["key"].startswith("cost.")} == {"money"}
    csv_text = export.to_csv(r)
    assert "0.66668" in csv_text


def test_import_rerates_only_its_gateway_and_twice_is_noop(con, tmp_path):
    roma = [add_call(con, direction="incoming", gateway="GW-Roma", bill=60) for _ in range(3)]
    mil = [add_call(con, direction="incoming", gateway="GW-Milano", bill=60) for _ in range(3)]
    tariffs.add_tariff(con, description="tutti", valid_from="2022-01-01", rate_in="0.1")
    f = tmp_path / "t.csv"
    f.write_text("id,description,inbound_gateway,valid_from,status,tariffa in\n"
                 "50,Roma,GW-Roma,01/01/2022,attiva,\"0,5\"\n", encoding="utf-8")
    s = tariffs.import_tariffs(con, f)
    assert s["added"] == 1 and s["calls"] == 3  # only the GW-Roma calls were rated again
    run_id = con.execute("SELECT max(run_id) FROM call_costs").fetchone()[0]
    got = dict(con.execute("SELECT unique_id, cost FROM call_costs WHERE run_id = ?", [run_id]).fetchall())
    assert set(got) == set(roma) and all(v == D("0.50000") for v in got.values())
    assert all(c not in got for c in mil)
    again = tariffs.import_tariffs(con, f)
    assert (again["added"], again["updated"], again["written"]) == (0, 0, 0)
    bad = tmp_path / "bad.csv"  # file line 3 (header = line 1) is wrong: nothing is imported
    bad.write_text("description,valid_from,tariffa out\nok,2022-01-01,1\nbad,2022-13-01,1\n")
    with pytest.raises(BillingFileError, match="row 3: valid_from"):
        tariffs.import_tariffs(con, bad)
    assert len(tariffs.list_tariffs(con)) == 2


def test_cli_report_billing(tmp_path, con):
    add_call(con, start="2022-06-01 10:00:00", bill=60)
    tariffs.add_tariff(con, description="x", valid_from="2022-01-01", rate_out="0.6")
    path = con.execute("SELECT path FROM duckdb_databases() WHERE database_name = current_database()"
                       ).fetchone()[0]
    con.close()
    # a real `python -m pbxlens`, the file's one (the other commands run in this process)
    out = subprocess.run([sys.executable, "-m", "pbxlens", "report", "billing.by_month", "--db", path,
                          "--from", "2022-06-01", "--to", "2022-06-30", "--format", "json"],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    d = json.loads(out.stdout)
    assert d["tables"][0]["totals"]["cost.cost"] == "0.60000"


def test_profile_line_change_rerates_only_that_line(con, tmp_path):
    from pbxlens.billing import profiles

    on_l1 = [add_call(con, line="L1", bill=61) for _ in range(2)]
    on_l2 = [add_call(con, line="L2", bill=61) for _ in range(2)]
    f = tmp_path / "p.csv"
    f.write_text("name;type;selection;connectionfee;connectionduration;nextunitsfee;"
                 "nextunitsduration;enabled\nbilling;any;;0,01;1;0,05;60;t\n", encoding="utf-8")
    assert profiles.import_profiles(con, f)["calls"] == 0  # attached to no line yet
    s = profiles.set_line(con, "L1", "billing")
    assert s["calls"] == 2 and s["written"] == 2  # the two L1 calls only
    got = dict(con.execute("SELECT unique_id, cost FROM call_costs WHERE method = 'profile'").fetchall())
    assert got == {u: D("0.06000") for u in on_l1}  # PB-1: 0,01 + 0,05 × ceil(60/60)
    assert profiles.set_line(con, "L1", None)["deleted"] == 2
    assert not con.execute("SELECT count(*) FROM call_costs WHERE method = 'profile'").fetchone()[0]
    assert all(u not in got for u in on_l2)


def test_rerates_equal_a_full_rating(con):
    """Exhausted and open allowance pools, calls moving between pools: every incremental
    re-rating leaves exactly what rating the store from scratch gives."""
    from pbxlens.billing import rating

    for m in (1, 2, 3):
        for d in (1, 2):
            for n in ("0612345678", "3331234567"):
                add_call(con, start=f"2022-0{m}-0{d} 10:0{d}:00", bill=100, number=n)
    tariffs.add_tariff(con, description="free", valid_from="2022-01-01", rate_out="0.5",
                       free_minutes=2)
    open_pool = tariffs.add_tariff(con, description="big", valid_from="2022-01-01", prefix="06",
                                   rate_out="0.4", free_minutes=5)
    mob = tariffs.add_tariff(con, description="mob", valid_from="2022-02-01", prefix="3", rate_out="1")
    tariffs.update_tariff(con, mob, rate_out="2", valid_from="2022-03-01")
    tariffs.update_tariff(con, open_pool, valid_from="2022-02-01")
    cols = "unique_id, method, tariff_id, free_s, charged_s, cost, cost_nofree"
    incremental = con.execute(f"SELECT {cols} FROM call_costs ORDER BY ALL").fetchall()
    con.execute("DELETE FROM call_costs")
    con.execute("BEGIN TRANSACTION")
    rating.rate_all(con)
    con.execute("COMMIT")
    assert con.execute(f"SELECT {cols} FROM call_costs ORDER BY ALL").fetchall() == incremental
    assert any(r[3] for r in incremental)


def test_cli_multiservice(tmp_path):
    from pbxlens.store import analytics as db

    path = str(tmp_path / "m.duckdb")
    db.connect(path).close()

    def cli(*args):
        return pbxlens("billing", *args, "--db", path)  # in this process (tests/clirun.py)

    assert cli("service", "visura camerale", "--rate", "24").returncode == 0
    assert cli("contract", "ACME", "--from", "2022-06-01").returncode == 0
    assert cli("quantity", "ACME", "1", "10", "--from", "2022-06-01", "--to", "2022-06-30").returncode == 0
    bad = cli("quantity", "ACME", "1", "-2", "--from", "2022-06-01", "--to", "2022-06-30")
    assert bad.returncode == 2 and "quantity" in (bad.stderr + bad.stdout)
    r = pbxlens("report", "billing.multiservice", "--db", path, "--from", "2022-06-01", "--to",
                "2022-06-30", "--format", "json")
    assert json.loads(r.stdout)["tables"][0]["totals"]["total.cost"] == "240.00000"


def test_free_limit_percentage_is_a_whole_percent():
    """BL-11: the consumption footer shows `(0%)`, a whole percent rounded half-up."""
    from pbxlens.reports import get
    from pbxlens.reports.engine import pct_int
    from pbxlens.reports.format import cell

    assert (pct_int(0, 6000), pct_int(30, 6000), pct_int(6000, 6000), pct_int(5, 0)) \
        == (0, 1, 100, None)  # 0.5 % rounds half-up to 1 %
    assert pct_int(2, 3) == 67
    metric = next(m for g in get("billing.consumption").layout if getattr(g, "key", "") == "free"
                  for m in g.metrics if m.key == "pct")
    assert metric.kind == "pct_int"
    assert cell(0, "percent", "pct_int") == "0%" and cell(67, "percent", "pct_int") == "67%"
