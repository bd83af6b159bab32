"""MC-12 ... MC-16 through the report catalog (the same definitions the pages, the CLI and the
exports use), plus the recall time and an XLSX export read back."""

from __future__ import annotations

from datetime import date, timedelta

import openpyxl

from pbxlens.missed_calls import operations as op
from pbxlens.missed_calls.actor import Actor
from pbxlens.reports import Params, export, run
from tests.missed_calls.helpers import Cdr, at, requests, token_of

SUP = Actor("boss", "supervisor", "default", None)
D = date(2021, 7, 6)


def table(result, key):
    return next(t for t in result.tables if t.key == key or t.title == key)


def row(t, key):
    return next(r for r in t.rows if r["key"] == key)


def test_mc12_dashboard_partition(con, stores):
    c = Cdr(con, stores.ops)
    t0 = at("08:00:00")
    nums = [f"33300{i:05d}" for i in range(294)]
    for i, n in enumerate(nums):
        c.dynamic_routing(n, t0 + timedelta(seconds=20 * i))
    c.commit()
    for n in nums[:187]:
        c.inbound(n, "14:00:00", answered=True, bill=60)
    for n in nums[187:229]:
        c.outbound("0" + n, "15:00:00", status="OK", bill=30)
    c.commit()
    keys = [token_of(stores, n) for n in nums[229:291]]
    op.flush(stores, SUP, keys, now=at("16:00:00"))  # the writer copies them to DuckDB
    res = run(con, "missed.dashboard", Params(date_from=D, date_to=D, today=D + timedelta(days=1)))
    r = row(table(res, "total"), "total")
    assert (r["total"], r["served_inbound.n"], r["served_inbound.pct"],
            r["handled_with_callback.n"], r["handled_with_callback.pct"],
            r["forced_closure.n"], r["forced_closure.pct"], r["unanswered_callbacks.n"],
            r["not_managed.n"], r["not_managed.pct"]) == \
        (294, 187, 63.61, 42, 14.29, 62, 21.09, 0, 3, 1.02)
    assert sum(r[f"{k}.n"] for k in ("served_inbound", "handled_with_callback", "forced_closure",
                                     "unanswered_callbacks", "not_managed")) == r["total"]


def test_mc13_daily_detail_and_backlog(duck):
    con = duck  # the state machine and the reports alone
    c = Cdr(con)
    c.dynamic_routing("3400000099", "10:00:00", uid="old.1")  # 05/07, called back 06/07
    for i in range(8):
        c.dynamic_routing(f"34000000{i:02d}", at(f"09:{i:02d}:00", "2021-07-07"))
    c.commit()
    con.execute("UPDATE dynamic_routing_requests SET received_at = received_at - INTERVAL 1 DAY "
                "WHERE unique_id = 'old.1'")
    from pbxlens.missed_calls import reconcile

    reconcile.rebuild_all(con)
    c.outbound("03400000099", at("11:00:00"), status="OK", bill=20)
    for i in range(4):
        c.inbound(f"34000000{i:02d}", at("12:00:00", "2021-07-07"), answered=True, bill=30)
    c.outbound("03400000004", at("13:00:00", "2021-07-07"), status="OK", bill=30)
    c.inbound("3400000005", at("09:00:00", "2021-07-08"), answered=True, bill=30)  # next day
    c.commit()
    p = Params(date_from=date(2021, 7, 5), date_to=date(2021, 7, 8), today=date(2021, 7, 9))
    res = run(con, "missed.dashboard", p)
    r = row(table(res, "daily"), "2021-07-07")
    assert (r["total"], r["served_inbound.n"], r["served_inbound.pct"],
            r["handled_with_callback.n"], r["handled_with_callback.pct"], r["forced_closure.n"],
            r["unanswered_callbacks.n"], r["not_managed.n"], r["not_managed.pct"]) == \
        (8, 4, 50.0, 1, 12.5, 0, 0, 3, 37.5)
    now = row(table(res, "total"), "total")  # table 1 is at now: 0000005 closed on 08/07
    assert (now["served_inbound.n"], now["not_managed.n"]) == (5, 2)
    b = table(res, "backlog")
    assert row(b, "2021-07-06")["handled_with_callback.n"] == 1
    assert row(b, "2021-07-08")["served_inbound.n"] == 1
    assert "total" not in {c.group_key for c in b.columns}  # no totali / non gestite rows


def test_mc14_caller_queue(duck):
    con = duck
    c = Cdr(con)
    q = "Q"
    c.inbound("3470000001", "09:00:00", answered=True, bill=60, queue=q)   # A
    c.inbound("3470000001", "10:00:00", queue=q)                          # A
    c.inbound("3470000002", "11:00:00", queue=q)                          # B
    c.inbound("3470000002", "11:05:00", queue=q)                          # B
    c.inbound("3470000003", "12:00:00", answered=True, bill=60, queue=q)  # C
    c.inbound("3470000005", "13:00:00", queue=q)                          # E
    c.commit()
    c.outbound("03470000002", at("10:00:00", "2021-07-07"), status="OK", bill=40)
    c.outbound("03470000005", at("10:10:00", "2021-07-07"), status="NOANSWER")
    c.commit()
    res = run(con, "missed.caller_queue", Params(date_from=D, date_to=D, filters={"queue": ["Q"]}))
    [t] = res.tables
    r = row(t, D.isoformat())
    got = {k: r[f"{g}.{k}"] for g, ks in (("calls", ("tel_ans", "tel_unans")),
                                          ("numbers", ("numbers", "num_ans", "num_unans")),
                                          ("recall", ("ok", "ko", "never"))) for k in ks}
    assert got == {"tel_ans": 2, "tel_unans": 4, "numbers": 4, "num_ans": 2, "num_unans": 3,
                   "ok": 1, "ko": 1, "never": 1}
    assert got["num_unans"] == got["ok"] + got["ko"] + got["never"]


def _mc15(con, stores):
    c = Cdr(con, stores.ops)
    prev = "2021-07-05"
    c.dynamic_routing("3900000099", at("10:00:00", prev))  # X, backlog: 2 calls
    c.dynamic_routing("3900000099", at("10:05:00", prev))
    c.dynamic_routing("3900000001", "09:00:00")            # A, A
    c.dynamic_routing("3900000001", "09:10:00")
    c.dynamic_routing("3900000002", "09:20:00")            # B
    c.dynamic_routing("3900000003", "09:30:00")            # C
    c.commit()
    c.outbound("03900000001", "10:00:00", status="OK", bill=60)
    c.outbound("03900000099", "10:30:00", status="NOANSWER", bill=0)
    c.commit()
    op.book(stores, Actor("michael", "operator", "default", "515"),
            token_of(stores, "3900000002"), now=at("11:00:00"))  # copied to DuckDB by the writer


def test_mc15_todays_report(con, stores):
    _mc15(con, stores)
    res = run(con, "missed.today", Params(date_from=D, date_to=D, today=D))
    r = row(res.tables[0], D.isoformat())
    g = {k.split(".", 1)[1]: v for k, v in r.items() if "." in k}
    assert g == {"calls": 4, "customers": 3, "managed": 1, "unmanaged": 2, "inquiries": 3,
                 "called_back": 2, "avg_bill": 60, "avg_recalled": 0.5, "to_manage": 2,
                 "pct_to_manage": 66.67, "unbooked": 1, "pct_unbooked": 50.0,
                 "not_contacted": 2, "bl_calls": 2, "bl_requests": 1, "bl_customers": 1,
                 "bl_called": 1, "bl_unbooked": 1, "bl_pct_unbooked": 100.0}


def test_mc16_history_and_recall_time(con, stores, tmp_path):
    _mc15(con, stores)
    res = run(con, "missed.history", Params(date_from=D, date_to=D, today=D))
    r = row(res.tables[0], D.isoformat())
    assert (r["customers.n"], r["customers.called"], r["customers.open"], r["calls"]) == (3, 1, 2, 4)
    assert (r["recall.recalls"], r["recall.min"], r["recall.avg"], r["recall.max"]) == \
        (1, 3600, 3600, 3600)  # A: missed 09:00, called back 10:00
    two = run(con, "missed.history", Params(date_from=date(2021, 7, 5), date_to=D, today=D))
    assert two.tables[0].totals["calls"] == 6
    path = tmp_path / "h.xlsx"
    export.to_xlsx(two, path)
    ws = openpyxl.load_workbook(path).worksheets[0]
    values = [c.value for row_ in ws.iter_rows() for c in row_]
    assert 6 in values and 4 in values


def test_reports_respect_the_tenant(con, stores):
    _mc15(con, stores)
    res = run(con, "missed.today", Params(date_from=D, date_to=D, today=D, tenant="acme"))
    assert row(res.tables[0], D.isoformat())["today.calls"] == 0
    assert requests(con)
