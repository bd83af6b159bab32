"""Schedules end to end on both operations back-ends: a run missed while the server was down is
sent once after the restart (never twice, whatever runs again), the mail reaches a real SMTP
server with the attachment, the XLSX read back equals the page's numbers, the PDF carries the
report's title, and the owner's rights decide the masking."""

from __future__ import annotations

import io
import subprocess
import threading
import time
from datetime import UTC, date, datetime, timedelta

import openpyxl
import pytest
import sqlalchemy as sa

from pbxlens import PbxlensError, delivery
from pbxlens.dashboards import service
from pbxlens.dashboards.components.report_view import row_data
from pbxlens.reports import format as fmt
from pbxlens.store import schema as T
from pbxlens.views import saved, schedules
from pbxlens.views.query import ReportQuery
from tests.delivery.servers import smtp_server, use_smtp
from tests.views.conftest import DAY1, DAY2


def utc(*a) -> datetime:
    return datetime(*a, tzinfo=UTC)


# Monday 11 May 2026 10:00 in Rome; the schedule is daily at 07:00 (05:00 UTC, CEST)
CREATED = utc(2026, 5, 11, 8)


def _view(world, who="sup", report="cdr.queues", q=None, name="Code ieri"):
    return saved.save(world.stores, world.users[who], name, report,
                      q or ReportQuery("yesterday"), shared=True)


def _outbox(world):
    with world.stores.ops_read() as c:
        return delivery.messages(c)


def test_a_run_missed_during_downtime_is_sent_once_after_the_restart(world, monkeypatch):
    s, sup = world.stores, world.users["sup"]
    v = _view(world)
    sched = schedules.create(s, sup, v.id, "daily", "07:00", fmt="csv",
                             users=[sup.id], emails=["boss@acme.it"], at=CREATED)
    assert sched.next_due_at == utc(2026, 5, 12, 5)
    # down from Monday 12:00 to Thursday 09:30: three 07:00 runs missed, one is sent
    restart = utc(2026, 5, 14, 7, 30)
    first = schedules.run_due(s, at=restart)
    assert (first.runs, first.queued, first.failed) == (1, 2, [])
    again = schedules.run_due(s, at=restart + timedelta(minutes=1))  # the next pass
    assert again.runs == 0
    # a second process on the same stores (another node, `schedules run-due` from cron)
    from pbxlens.store import Stores

    with Stores(s.path, s.ops_url) as other:
        assert schedules.run_due(other, at=restart).runs == 0
    msgs = _outbox(world)
    assert sorted(m["target"] for m in msgs) == ["boss@acme.it", "sup@example.it"]
    assert {m["dedupe_key"].split(":")[2] for m in msgs} == {"2026-05-14T05"}
    # "yesterday" is seen from the due day (Thursday 14): Wednesday 13, PBX time
    assert all(m["subject"] == "Code ieri · 13/05/2026 – 13/05/2026" for m in msgs)
    row = schedules.listing(s)[0]
    assert row.last_due_at == utc(2026, 5, 14, 5) and row.next_due_at == utc(2026, 5, 15, 5)
    with smtp_server() as sink:
        use_smtp(monkeypatch, sink.port)
        sent = delivery.send_pending(s)
        assert (sent.sent, sent.failed) == (2, 0)
        assert delivery.send_pending(s).sent == 0
        assert len(sink.wait_for(2)) == 2
    assert {tuple(r) for r, _ in sink.messages} == {("boss@acme.it",), ("sup@example.it",)}


def test_a_run_interrupted_while_rendering_is_rendered_at_restart_and_queued_once(
        world, monkeypatch):
    s, sup = world.stores, world.users["sup"]
    v = _view(world)
    schedules.create(s, sup, v.id, "daily", "07:00", fmt="csv", users=[sup.id], at=CREATED)
    from pbxlens.views import render

    real = render.render_view

    def crash(*a, **k):
        raise KeyboardInterrupt  # the process stops in the middle of the report

    monkeypatch.setattr(render, "render_view", crash)
    with pytest.raises(KeyboardInterrupt):
        schedules.run_due(s, at=utc(2026, 5, 12, 5, 1))
    assert _outbox(world) == [] and schedules.runs(s, 1)[0]["state"] == "rendering"
    monkeypatch.setattr(render, "render_view", real)
    restarted = schedules.run_due(s, at=utc(2026, 5, 12, 5, 3))
    assert (restarted.runs, restarted.queued) == (0, 1)  # not a new run: the old one finished
    assert schedules.run_due(s, at=utc(2026, 5, 12, 5, 4)).queued == 0
    assert len(_outbox(world)) == 1 and schedules.runs(s, 1)[0]["state"] == "queued"


def test_the_server_threads_send_a_missed_run_once(world, monkeypatch):
    """The restart path of `pbxlens serve`: the scheduler's first pass and the sender."""
    s, sup = world.stores, world.users["sup"]
    v = _view(world, q=ReportQuery("fixed", DAY1, DAY2))
    schedules.create(s, sup, v.id, "daily", "07:00", fmt="xlsx", users=[sup.id],
                     at=datetime.now(UTC) - timedelta(days=3))
    stop = threading.Event()
    with smtp_server() as sink:
        use_smtp(monkeypatch, sink.port)
        schedules.start_scheduler(s, stop, interval_s=0.05)
        delivery.start_sender(s, stop, interval_s=0.05)
        got = sink.wait_for(1)
        time.sleep(0.5)  # several more passes of both loops
        stop.set()
    assert len(got) == 1 and len(sink.messages) == 1
    with s.ops_read() as c:
        runs = c.execute(sa.select(T.view_schedule_runs)).mappings().all()
    assert len(runs) == 1 and runs[0]["state"] == "queued"


def _sheet_numbers(ws) -> list[list]:
    """Rows under the two-level header: label, then the typed cells."""
    return [list(r) for r in ws.iter_rows(min_row=4, values_only=True)]


def test_the_mail_carries_the_xlsx_and_it_equals_the_page(world, monkeypatch):
    s, sup = world.stores, world.users["sup"]
    v = _view(world, q=ReportQuery("fixed", DAY1, DAY2), name="Code maggio")
    sched = schedules.create(s, sup, v.id, "weekly", "07:00", weekday=1, fmt="xlsx",
                             emails=["ext@partner.example"], users=[sup.id], lang="it",
                             at=CREATED)
    with smtp_server() as sink:
        use_smtp(monkeypatch, sink.port)
        assert schedules.send_now(s, sup, sched.id) == 2
        assert delivery.send_pending(s).sent == 2
        mails = sink.wait_for(2)
    _, msg = next(m for m in mails if m[0] == ["ext@partner.example"])
    assert msg["Subject"] == "Code maggio · 11/05/2026 – 12/05/2026"
    body = msg.get_body(("plain",)).get_content()
    assert "Voip Report Cdr Code" in body and f"http://localhost:8050/views/{v.id}" in body
    (att,) = list(msg.iter_attachments())
    assert att.get_filename() == "Code_maggio_2026-05-11_2026-05-12.xlsx"
    ws = openpyxl.load_workbook(io.BytesIO(att.get_content())).worksheets[0]
    # the page: the same service call and the grid's own cells
    page = service.run_report(s, sup, "cdr.queues", v.query.params(date(2026, 5, 13), "it"))
    table = page.tables[0]
    grid_rows, grid_totals = row_data(table, "it")
    sheet = _sheet_numbers(ws)
    assert len(sheet) == len(table.rows) + 1
    for cells, raw, shown in zip(sheet, [*table.rows, table.totals], [*grid_rows, grid_totals],
                                 strict=True):
        assert cells[0].strip() == shown["label"].strip()
        for k, col in enumerate(table.columns):
            x = cells[k + 1]
            value = None if x is None else (
                round(x.total_seconds()) if isinstance(x, timedelta) else  # [h]:mm:ss cells
                round(x * 86400) if col.unit in ("duration", "duration_h") else
                round(x * 100, 2) if col.unit == "percent" else x)
            want = raw.get(col.key)
            assert value == (None if want is None else (round(float(want), 2)
                                                        if col.unit == "percent" else want)), col.key
            assert fmt.cell(value, col.unit, col.kind, lang="it",
                            thousands=col.thousands) == shown[f"c{k}"]
    with s.ops_read() as c:
        log = delivery.log_for(c, tenant="default", owner=sup.id)
    assert {r["outcome"] for r in log} == {"sent"} and all(r["size_bytes"] > 4000 for r in log)


def test_the_pdf_is_chromiums_print_with_the_title_and_the_tables(world, monkeypatch, tmp_path):
    s, sup = world.stores, world.users["sup"]
    v = _view(world, q=ReportQuery("fixed", DAY1, DAY2), name="Code PDF")
    sched = schedules.create(s, sup, v.id, "monthly", "07:00", month_day=-1, fmt="pdf",
                             users=[sup.id], lang="it", at=CREATED)
    with smtp_server() as sink:
        use_smtp(monkeypatch, sink.port)
        schedules.send_now(s, sup, sched.id)
        delivery.send_pending(s)
        (_, msg), = sink.wait_for(1)
    (att,) = list(msg.iter_attachments())
    data = att.get_content()
    assert att.get_content_type() == "application/pdf" and data[:5] == b"%PDF-"
    (tmp_path / "r.pdf").write_bytes(data)
    text = subprocess.run(["pdftotext", "-layout", str(tmp_path / "r.pdf"), "-"],
                          capture_output=True, text=True, check=True).stdout
    assert "Voip Report Cdr Code" in text and "Queue report" in text
    assert "11/05/2026 – 12/05/2026" in text and "Totali" in text
    assert "risposte" in text.lower()  # the charts' legends are drawn, as text


def test_scheduled_output_follows_the_owners_privacy_right(world, monkeypatch):
    """A schedule never sends a number its owner could not see, whoever receives it."""
    s, u = world.stores, world.users
    number = "0461123456"
    q = ReportQuery("fixed", DAY1, DAY2, {"source": [number]})
    texts = {}
    with smtp_server() as sink:
        use_smtp(monkeypatch, sink.port)
        for who in ("sup", "supfull"):
            v = saved.save(s, u[who], f"Fonte {who}", "cdr.dashboard", q)
            sched = schedules.create(s, u[who], v.id, "daily", "07:00", fmt="pdf",
                                     emails=["boss@acme.it"], at=CREATED)
            schedules.send_now(s, u[who], sched.id)
        delivery.send_pending(s)
        for _, msg in sink.wait_for(2):
            (att,) = list(msg.iter_attachments())
            pdf = subprocess.run(["pdftotext", "-", "-"], input=att.get_content(),
                                 capture_output=True, check=True).stdout.decode()
            texts[msg["Subject"].split(" · ")[0]] = msg.get_body(("plain",)).get_content() + pdf
    assert "0461123xxx" in texts["Fonte sup"] and number not in texts["Fonte sup"]
    assert number in texts["Fonte supfull"]


def test_rows_with_numbers_are_masked_in_scheduled_files(world, monkeypatch):
    """A report whose rows are caller numbers (registered for this test only)."""
    from pbxlens.reports import Report, catalog
    from pbxlens.reports.catalog import Group
    from pbxlens.reports.common import QTY
    from pbxlens.reports.engine import RawTable, RowSpec

    def build(con, report, p, d_from, d_to):
        facts = {"0461123456": {"total": {"n": 2}}, "3331234567": {"total": {"n": 1}}}
        return [RawTable("t", "callers", [RowSpec(k, k) for k in facts], facts)], []

    test_report = Report(id="test.callers", en="Callers", it="Chiamanti", source="CDR call",
                         build=build, tables_doc="one row per caller", filters=(),
                         layout=(Group("total", "TOTAL", "TOTALE", (QTY,)),))
    monkeypatch.setitem(catalog._REPORTS, test_report.id, test_report)
    s, u = world.stores, world.users
    v = saved.save(s, u["sup"], "Chiamanti", "test.callers", ReportQuery("fixed", DAY1, DAY2))
    from pbxlens.views import render

    for file_format in ("xlsx", "csv"):
        out = render.render_view(s, v, u["sup"], file_format, today=DAY2)
        if file_format == "xlsx":
            ws = openpyxl.load_workbook(io.BytesIO(out.attachment.data)).worksheets[0]
            text = " ".join(str(c) for r in ws.iter_rows(values_only=True) for c in r)
        else:
            text = out.attachment.data.decode()
        assert "0461123xxx" in text and "3331234xxx" in text, file_format
        assert "0461123456" not in text and "3331234567" not in text, file_format
    full = render.render_view(s, v, u["supfull"], "csv", today=DAY2)
    assert "0461123456" in full.attachment.data.decode()


def test_failures_are_visible_on_the_run(world):
    s, u = world.stores, world.users
    v = _view(world, who="sup")
    sched = schedules.create(s, u["sup"], v.id, "daily", "07:00", users=[u["sup"].id],
                             at=CREATED)
    from pbxlens.store import users

    users.update_user(s, u["sup"].id, disabled=True)
    res = schedules.run_due(s, at=utc(2026, 5, 12, 6))
    assert res.runs == 1 and "disabled" in res.failed[0]
    run = schedules.runs(s, sched.id)[0]
    assert run["state"] == "failed" and "owner" in run["error"]
    assert _outbox(world) == []


def test_schedule_rules_recipients_and_rights(world):
    s, u = world.stores, world.users
    v = _view(world)
    with pytest.raises(schedules.ScheduleError, match="recipient"):
        schedules.create(s, u["sup"], v.id, "daily", "07:00")
    with pytest.raises(schedules.ScheduleError, match="no user"):
        schedules.create(s, u["sup"], v.id, "daily", "07:00", users=[u["acme"].id])
    with pytest.raises(delivery.DeliveryError, match="not an email"):
        schedules.create(s, u["sup"], v.id, "daily", "07:00", emails=["nobody"])
    with pytest.raises(PbxlensError, match="format"):
        schedules.create(s, u["sup"], v.id, "daily", "07:00", fmt="docx", users=[u["sup"].id])
    with pytest.raises(saved.ViewNotFound):  # a view the user may not open
        schedules.create(s, u["acme"], v.id, "daily", "07:00", emails=["a@b.it"])
    sched = schedules.create(s, u["sup"], v.id, "weekly", "18:15", weekday=5,
                             users=[u["sup"].id], at=CREATED)
    assert sched.next_due_at == utc(2026, 5, 15, 16, 15)  # Friday 18:15 CEST
    assert [x.id for x in schedules.listing(s, u["supfull"])] == []  # others' schedules
    assert [x.id for x in schedules.listing(s, u["admin"])] == [sched.id]
    with pytest.raises(schedules.ScheduleError):
        schedules.delete(s, u["supfull"], sched.id)
    schedules.set_enabled(s, u["sup"], sched.id, False)
    assert schedules.run_due(s, at=utc(2026, 6, 1)).runs == 0  # paused
    schedules.set_enabled(s, u["sup"], sched.id, True, at=utc(2026, 6, 1))
    assert schedules.by_id(s, sched.id).next_due_at == utc(2026, 6, 5, 16, 15)  # no catch-up



