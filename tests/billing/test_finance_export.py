"""The finance workbook read back with openpyxl: the user's language (sheet names and headers),
real Excel dates and months, money rounded to the cent with totals that add up, answered
inbound calls counted even when no tariff values them; and the export's default period."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal as D

import openpyxl
import pytest

from pbxlens.billing import rating, tariffs
from pbxlens.billing.export import (
    LABELS,
    SHEETS,
    UnratedCallsError,
    default_period,
    export_xlsx,
)
from tests.billing.conftest import add_call


@pytest.fixture()
def workbook_store(con):
    """Three outbound calls of 1 s at 0.3 €/min (0.005 € each: the cent rounding shows) on two
    days of two months, two answered inbound calls and one unanswered; the only tariff has no
    inbound rate, so the inbound calls stay unrated."""
    for start in ("2026-10-31 10:00:00", "2026-11-02 10:00:00", "2026-11-02 11:00:00"):
        add_call(con, start=start, bill=1, number="0612345678")
    for start in ("2026-11-02 12:00:00", "2026-11-03 09:30:00"):
        add_call(con, direction="incoming", start=start, bill=90, number="0612345678", ext="202")
    add_call(con, direction="incoming", start="2026-11-03 10:00:00", bill=0, number="0612345678")
    tariffs.add_tariff(con, rerate=False, description="uscita", valid_from="2026-01-01",
                       rate_out="0.3")
    con.execute("BEGIN TRANSACTION")
    rating.rate_all(con)
    con.execute("COMMIT")
    return con


def _sheet(wb, name):
    rows = list(wb[name].iter_rows(values_only=True))
    return rows[0], rows[1:-1], rows[-1]


@pytest.mark.parametrize("lang", ["it", "en"])
def test_workbook_in_the_users_language(workbook_store, tmp_path, lang):
    x = tmp_path / f"finance-{lang}.xlsx"
    export_xlsx(workbook_store, x, lang=lang, unrated_calls="mark")
    wb = openpyxl.load_workbook(x)
    i = 1 if lang == "it" else 0
    assert wb.sheetnames == [("Information", "Informazioni")[i], *(v[i] for v in SHEETS.values())]
    head, _body, last = _sheet(wb, SHEETS["month"][i])
    assert list(head[1:]) == [v[i] for v in LABELS.values()]
    assert last[0] == ("Total", "Totale")[i]
    if lang == "it":
        assert "Mese" in wb.sheetnames and head[2] == "Quantità in"
        assert "arrotondati al centesimo" in wb["Mese"].cell(len(_body) + 2, 1).comment.text


def test_dates_and_months_are_excel_dates(workbook_store, tmp_path):
    x = tmp_path / "f.xlsx"
    export_xlsx(workbook_store, x, lang="it", unrated_calls="mark")
    wb = openpyxl.load_workbook(x)
    months = wb["Mese"]
    assert [months.cell(r, 1).value for r in (2, 3)] == [datetime(2026, 10, 1), datetime(2026, 11, 1)]
    assert months.cell(2, 1).is_date and "mmmm" in months.cell(2, 1).number_format
    assert "[$-410]" in months.cell(2, 1).number_format  # month names in Italian
    days = wb["Data"]
    assert [days.cell(r, 1).value for r in (2, 3, 4)] == [
        datetime(2026, 10, 31), datetime(2026, 11, 2), datetime(2026, 11, 3)]
    assert days.cell(2, 1).number_format == "dd/mm/yyyy"
    assert days.cell(2, 5).number_format == "[h]:mm:ss"  # times stay durations


def test_money_is_rounded_per_row_and_totals_add_up(workbook_store, tmp_path):
    x = tmp_path / "f.xlsx"
    export_xlsx(workbook_store, x, unrated_calls="mark")
    wb = openpyxl.load_workbook(x)
    cost = list(LABELS).index("cost") + 1
    _head, body, last = _sheet(wb, "Date")
    got = [D(str(r[cost])) for r in body]
    # 31/10: one call of 0.005 -> 0.01; 02/11: two calls, 0.01 exactly; 03/11: inbound only
    assert got == [D("0.01"), D("0.01"), D("0")]
    assert D(str(last[cost])) == sum(got) == D("0.02")
    _h, months, mlast = _sheet(wb, "Month")
    assert [D(str(r[cost])) for r in months] == [D("0.01"), D("0.01")]
    assert D(str(mlast[cost])) == D("0.02")
    # the exact per-call sum is 0.015: the sheet says which rule it follows
    assert "sum of the rounded rows" in wb["Information"].cell(7, 1).value


def test_answered_inbound_calls_are_counted_without_an_inbound_tariff(workbook_store, tmp_path):
    x = tmp_path / "f.xlsx"
    export_xlsx(workbook_store, x, unrated_calls="mark")
    wb = openpyxl.load_workbook(x)
    col = {k: list(LABELS).index(k) + 1 for k in ("calls", "calls_in", "calls_out", "seconds_in",
                                                  "cost_in")}
    _h, _b, last = _sheet(wb, "Month")
    assert (last[col["calls"]], last[col["calls_in"]], last[col["calls_out"]]) == (5, 2, 3)
    assert last[col["seconds_in"]].total_seconds() == 180 and last[col["cost_in"]] == 0
    _h, ops, _l = _sheet(wb, "Operator")
    assert any(str(r[0]).startswith("202") and r[col["calls_in"]] == 2 for r in ops)


def test_a_period_limits_the_calls(workbook_store, tmp_path):
    x = tmp_path / "f.xlsx"
    counts = export_xlsx(workbook_store, x, date_from=date(2026, 11, 1),
                         date_to=date(2026, 11, 30), unrated_calls="mark")
    assert counts["month"] == 1 and counts["date"] == 2 and counts["unrated"] == 2
    wb = openpyxl.load_workbook(x)
    assert wb["Information"].cell(3, 2).value == "01/11/2026 – 30/11/2026"


@pytest.mark.parametrize(("today", "period"), [
    (date(2026, 12, 4), (date(2026, 11, 1), date(2026, 11, 30))),
    (date(2026, 12, 1), (date(2026, 11, 1), date(2026, 11, 30))),
    (date(2027, 1, 31), (date(2026, 12, 1), date(2026, 12, 31))),
    (date(2028, 3, 15), (date(2028, 2, 1), date(2028, 2, 29))),
])
def test_default_period_is_the_previous_calendar_month(today, period):
    assert default_period(today) == period


def test_unrated_calls_refuse_or_mark_the_period(workbook_store, tmp_path, monkeypatch):
    """The two inbound calls match no tariff: the default refuses the period and writes
    nothing; "mark" (argument or setting) exports them at cost 0 with a line saying so; a
    period without unrated calls exports either way."""
    from pbxlens.config import get_settings

    x = tmp_path / "f.xlsx"
    with pytest.raises(UnratedCallsError, match="2 answered calls") as exc:
        export_xlsx(workbook_store, x, date_from=date(2026, 11, 1), date_to=date(2026, 11, 30))
    assert exc.value.status == 409 and not x.exists()
    counts = export_xlsx(workbook_store, x, date_from=date(2026, 10, 1),
                         date_to=date(2026, 10, 31))
    assert counts["month"] == 1 and "unrated" not in counts
    monkeypatch.setenv("PBXLENS_BILLING_UNRATED", "mark")
    get_settings.cache_clear()
    try:
        counts = export_xlsx(workbook_store, x, lang="it")
    finally:
        monkeypatch.delenv("PBXLENS_BILLING_UNRATED")
        get_settings.cache_clear()
    assert counts["unrated"] == 2
    info = [r[0] for r in openpyxl.load_workbook(x)["Informazioni"].iter_rows(values_only=True)]
    assert any(v and v.startswith("CHIAMATE NON TARIFFATE: 2 ") for v in info)
    tariffs.add_tariff(workbook_store, description="entrata", valid_from="2026-01-01",
                       rate_in="0.1")
    assert "unrated" not in export_xlsx(workbook_store, x)


def test_cli_export_refuses_or_marks_a_period_with_unrated_calls(workbook_store, tmp_path):
    """`pbxlens billing export`: refused (an error naming the count, no file) by default,
    written and marked with --unrated mark."""
    from typer.testing import CliRunner

    from pbxlens.cli import app

    path = workbook_store.execute("SELECT path FROM duckdb_databases() WHERE database_name = "
                                  "current_database()").fetchone()[0]
    workbook_store.close()
    x = tmp_path / "cli.xlsx"
    args = ["billing", "export", "--out", str(x), "--from", "2026-11-01", "--to", "2026-11-30",
            "--db", path]
    res = CliRunner().invoke(app, args)
    assert isinstance(res.exception, UnratedCallsError), res.output
    assert "2 answered calls" in str(res.exception) and not x.exists()
    res = CliRunner().invoke(app, [*args, "--unrated", "mark", "--lang", "it"])
    assert res.exit_code == 0, res.output
    assert "unrated 2" in res.output
    info = [r[0] for r in openpyxl.load_workbook(x)["Informazioni"].iter_rows(values_only=True)]
    assert any(v and v.startswith("CHIAMATE NON TARIFFATE: 2 ") for v in info)
    res = CliRunner().invoke(app, ["billing", "export", "--out", str(x), "--from", "2026-10-01",
                                   "--to", "2026-10-31", "--db", path])
    assert res.exit_code == 0 and "unrated" not in res.output, res.output
