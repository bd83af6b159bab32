"""Notification recipients per the subscription matrix and blacklists (TK-4), the SMTP sender
against a real local SMTP server (aiosmtpd), attachment limits, XLSX import with bad rows, list
filters and exports (TK-7)."""

from __future__ import annotations

import csv
import io
import socket
import threading
import time
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy

import openpyxl
import pytest

from pbxlens.config import get_settings
from pbxlens.store import schema
from pbxlens.tickets import TicketError, attachments, files, listing, mailer, notify, numbering, ticket


def _new(c, w, **kw):
    args = {
        "title": "Stampante",
        "account_id": w.acme,
        "final_customer_id": w.acme,
        "type": "assistenza",
        "priority": "priorita 1",
        "user": w.users["u"],
    }
    return ticket.create(c, **(args | kw))


def _to(rs):
    return sorted(r.address for r in rs)


def test_public_reply_recipients_with_out_blacklist(world):  # TK-4
    w = world
    with w.store.ops_write() as c:
        tid = _new(c, w, owner_email="a@acme.it", assigned_user_id=w.users["tech"].id)
        mid = ticket.add_message(c, tid, w.users["sup"], "Fatto", extra_emails=["boss@acme.it"])
        replies = [r["recipient"] for r in notify.outbox(c) if r["message_id"] == mid]
        assert sorted(replies) == ["a@acme.it", "boss@acme.it", "tech@nexus.it"]
        notify.set_blacklist(c, "out", ["acme.it"])
        assert _to(notify.recipients(c, tid, "reply", extra=["boss@acme.it"])) == ["tech@nexus.it"]
        before = len(notify.outbox(c))
        ticket.add_message(c, tid, w.users["sup"], "nota", kind="internal")  # no email ...
        assert len(notify.outbox(c)) == before
        assert {r["id"]: r["unread"] for r in listing.rows(c, w.users["tech"])}[tid]  # ... the bell
        assert not listing.rows(c, w.users["sup"])[0]["unread"]  # not the author's
        ticket.mark_read(c, tid, w.users["tech"].id)
        assert listing.rows(c, w.users["tech"], listing.Filters(unread_only=True)) == []
        ticket.update(c, tid, notify=False)
        ticket.add_message(c, tid, w.users["sup"], "Ancora", extra_emails=["x@nexus.it"])
        assert len(notify.outbox(c)) == before


def test_creation_recipients_follow_the_matrix(world):
    w = world
    with w.store.ops_write() as c:
        notify.set_subscriptions(c, "ticket", "insert", ["owner", "company", "contact", "cc", "in_charge"])
        notify.set_options(c, "ticket", "insert", bcc_users=True)
        tid = _new(
            c,
            w,
            final_customer_contact_id=w.mario,
            in_charge_user_id=w.users["tech"].id,
            extra_notify_emails="boss@acme.it; Boss@acme.it, not-an-address",
        )
        rs = notify.queue(c, tid, "insert")
        assert {(r.address, r.header) for r in rs} == {
            ("u@nexus.it", "bcc"),
            ("info@acme.it", "to"),
            ("mario@acme.it", "to"),
            ("boss@acme.it", "to"),
            ("tech@nexus.it", "bcc"),
        }
        notify.set_blacklist(c, "out", ["mario@acme.it", "@nexus.it"])
        assert _to(notify.recipients(c, tid, "insert")) == ["boss@acme.it", "info@acme.it"]
        # shared users / areas
        notify.set_subscriptions(c, "ticket", "insert", ["shared_users", "shared_areas"])
        notify.set_blacklist(c, "out", [])
        t2 = _new(c, w, shares=[(w.users["sup"].id, None), (None, "Centro Analisi")])
        assert _to(notify.recipients(c, t2, "insert")) == ["sup@nexus.it", "tech@nexus.it"]


def test_email_channel_sender_rules(world):
    w = world
    with w.store.ops_write() as c:
        tid = _new(c, w, creation_mode="email", owner_email="mario@newco.it", user=None)
        assert _to(notify.recipients(c, tid, "insert")) == ["mario@newco.it"]  # notify sender on opening
        notify.set_blacklist(c, "opening_sender", ["newco.it"])
        assert _to(notify.recipients(c, tid, "insert")) == []
        notify.set_blacklist(c, "opening_sender", [])
        notify.set_blacklist(c, "in", ["@newco.it"])
        assert _to(notify.recipients(c, tid, "reply", extra=["ops@newco.it", "ok@other.it"])) == [
            "ok@other.it"
        ]
        notify.set_blacklist(c, "in", [])
        notify.set_options(c, "email", "reply", skip_sender=True, only_absent=True)
        assert _to(
            notify.recipients(c, tid, "reply", extra=["cc1@x.it", "cc2@x.it"], present=["cc1@x.it"])
        ) == ["cc2@x.it"]
        # the IN blacklist is for tickets born from email only
        t2 = _new(c, w, owner_email="a@newco.it")
        notify.set_blacklist(c, "in", ["newco.it"])
        assert "a@newco.it" in _to(notify.recipients(c, t2, "reply"))


# ------------------------------------------------------------------------------------ SMTP


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_smtp_sender_against_a_real_server(world, monkeypatch):
    from aiosmtpd.controller import Controller

    got = []

    class Keep:
        async def handle_DATA(self, server, session, envelope):
            got.append(
                (sorted(envelope.rcpt_tos), message_from_bytes(envelope.content, policy=policy.default))
            )
            return "250 OK"

    w = world
    with w.store.ops_write() as c:
        notify.set_options(c, "ticket", "reply", bcc_users=True)
        tid = _new(c, w, owner_email="a@acme.it", assigned_user_id=w.users["tech"].id, user=None)
        ticket.add_message(c, tid, w.users["sup"], "Risolto, riavviare la stampante.")
    settings = get_settings()
    assert mailer.send_pending(w.store).enabled is False  # behind the setting
    port = _free_port()
    ctl = Controller(Keep(), hostname="127.0.0.1", port=port)
    ctl.start()
    try:
        for k, v in {
            "smtp_enabled": True,
            "smtp_host": "127.0.0.1",
            "smtp_port": port,
            "smtp_from": "helpdesk@nexus.it",
        }.items():
            monkeypatch.setattr(settings, k, v)
        res = mailer.send_pending(w.store)
        assert (res.sent, res.failed) == (2, 0)  # the creation and the reply
        assert mailer.send_pending(w.store).sent == 0  # nothing twice
        # the server's loop sends what arrives later
        with w.store.ops_write() as c:
            ticket.add_message(c, tid, w.users["sup"], "Ancora una cosa")
        stop = threading.Event()
        assert mailer.start_sender(w.store, stop, interval_s=0.05)
        deadline = time.time() + 20
        while len(got) < 3 and time.time() < deadline:
            time.sleep(0.05)
        stop.set()
        time.sleep(0.5)  # a pass of the loop still in flight ends; no new one starts
        # two senders at once (the server's loop and `tickets send-outbox`): each notice once
        with w.store.ops_write() as c:
            for i in range(5):
                ticket.add_message(c, tid, w.users["sup"], f"Nota {i}")
        results = []
        senders = [threading.Thread(target=lambda: results.append(mailer.send_pending(w.store)))
                   for _ in range(2)]
        for t in senders:
            t.start()
        for t in senders:
            t.join()
        assert sum(r.sent for r in results) == 5 and len(got) == 8
        assert len({m.get_content() for _rcpt, m in got}) == 8
        # a notice claimed by a sender that died: skipped until its claim is older than the lease
        o = schema.ticket_outbox
        with w.store.ops_write() as c:
            ticket.add_message(c, tid, w.users["sup"], "In volo")
            c.execute(o.update().where(o.c.sent_at.is_(None)).values(claimed_at=datetime.now(UTC),
                                                                      attempts=1))
        assert mailer.send_pending(w.store).sent == 0 and len(got) == 8
        with w.store.ops_write() as c:
            c.execute(o.update().where(o.c.sent_at.is_(None)).values(
                claimed_at=datetime.now(UTC) - mailer.LEASE - timedelta(seconds=1)))
        assert mailer.send_pending(w.store).sent == 1 and len(got) == 9
    finally:
        ctl.stop()
    by_subject = {m["Subject"]: (rcpt, m) for rcpt, m in got}
    assert set(by_subject) == {"[TICK-0001] Stampante"}
    reply = next((r, m) for r, m in got if "Risolto" in m.get_content())
    assert reply[0] == ["a@acme.it", "tech@nexus.it"]
    assert reply[1]["To"] == "a@acme.it" and reply[1]["Bcc"] is None  # tech is a user: BCC
    with w.store.ops_read() as c:
        sent = notify.outbox(c)
    assert all(r["sent_at"] is not None and r["claimed_at"] is None for r in sent)
    last = max(r["message_id"] or 0 for r in sent)  # the notice taken over: 2 attempts, the rest 1
    assert {r["message_id"] == last: r["attempts"] for r in sent} == {True: 2, False: 1}


# ------------------------------------------------------------------------------ attachments


def test_attachment_limits(world, tmp_path):
    w = world
    folder = tmp_path / "att"
    pdf = b"%PDF-1.4\n" + b"x" * 1000
    with w.store.ops_write() as c:
        tid = _new(c, w)
        aid = attachments.save(
            c,
            folder,
            tid,
            "../../offerta.pdf",
            io.BytesIO(pdf),
            declared_type="application/pdf",
            max_bytes=2000,
        )
        row, path = attachments.open_attachment(c, folder, aid)
        assert (row["filename"], row["size_bytes"], path.read_bytes()) == ("offerta.pdf", len(pdf), pdf)
        for name, data, declared, msg in (
            ("big.pdf", b"%PDF-" + b"x" * 3000, None, "larger than"),
            ("tool.exe", b"MZ..", None, "not allowed"),
            ("page.html", b"<html>", "text/html", "not allowed"),
            ("fake.pdf", b"MZ\x90\x00", None, "content is not"),
            ("photo.png", b"\x89PNG\r\n\x1a\n...", "application/pdf", "declared as"),
            ("empty.txt", b"", None, "empty"),
        ):
            with pytest.raises(attachments.AttachmentError, match=msg):
                attachments.save(c, folder, tid, name, data, declared_type=declared, max_bytes=2000)
        attachments.save(c, folder, tid, "note.txt", b"ciao\n", declared_type="text/plain")
        assert [a["filename"] for a in attachments.list_for(c, tid)] == ["offerta.pdf", "note.txt"]
    # refused files leave nothing on disk, not even a partial file
    assert len([p for p in folder.iterdir()]) == 2
    with pytest.raises(attachments.AttachmentError):
        attachments.content_type("x.pdf", None, ["image/png"])  # the allow-list decides


# ------------------------------------------------------------------------------ import / export


def _xlsx(path, rows):
    wb = openpyxl.Workbook()
    ws = wb.active
    for r in rows:
        ws.append(r)
    wb.save(path)
    return path


def test_import_companies_then_tickets_with_bad_rows(world, tmp_path):
    w = world
    comp = _xlsx(
        tmp_path / "c.xlsx",
        [
            ["Azienda", "Partita IVA", "Email", "Telefoni", "Referente", "Contact email", "Contact phones"],
            [
                "Beta SpA",
                "IT0123",
                "info@beta.it",
                "+39 02 1111111; 0039 02 2222222",
                "Luca",
                "luca@beta.it",
                "347 0000001",
            ],
            ["Beta SpA", None, None, None, "Sara", None, "3470000002"],
            [None, None, None, "021", None, None, None],  # line 4: no company
            ["Gamma", None, "not-an-email", None, None, None, None],  # line 5
            ["Delta", None, None, "abc", None, None, None],  # line 6
        ],
    )
    with w.store.ops_write() as c:
        rep = files.import_companies(c, comp)
    assert (rep.rows, rep.imported) == (5, 2)
    assert [ln for ln, _ in rep.rejected] == [4, 5, 6]
    assert [r for _, r in rep.rejected] == [
        "missing company", "email: not an email address: 'not-an-email'",
        "phones: not a phone number: 'abc'"]
    with w.store.ops_read() as c:
        m = files.companies.lookup(c, "02 2222222")
        assert (
            m.company["name"] == "Beta SpA"
            and files.companies.lookup(c, "+393470000002").contact["name"] == "Sara"
        )
        assert files.companies.company_by_name(c, "Gamma") is None  # rejected rows write nothing
    tick = _xlsx(
        tmp_path / "t.xlsx",
        [
            [
                "Numerazione",
                "Titolo",
                "Account",
                "Final Customer",
                "Stato",
                "Tipologia",
                "Priorità",
                "Tags",
                "Stima",
            ],
            [
                "TICK-0125",
                "Rete lenta",
                "Acme",
                "Beta SpA",
                "in lavorazione",
                "assistenza",
                "priorita 2",
                "rete, vpn",
                2.5,
            ],
            [None, "Fattura", "Acme", "Acme", "chiuso", "amministrazione", "priorita 3", None, None],
            [None, "Ghost", "Nessuno", "Acme", "nuovo", "assistenza", "priorita 1", None, None],  # line 4
            [None, "Bad type", "Acme", "Acme", "nuovo", "boh", "priorita 1", None, None],  # line 5
            [None, None, "Acme", "Acme", "nuovo", "assistenza", "priorita 1", None, None],  # line 6
            ["TICK-0125", "Again", "Acme", "Acme", "nuovo", "assistenza", "priorita 1", None, None],  # line 7
            [None, "Odd", "Acme", "Acme", "forse", "assistenza", "priorita 1", None, "x"],  # line 8
        ],
    )
    with w.store.ops_write() as c:
        before = numbering.current(c, "TICK")
    with pytest.raises(files.StrictImportError) as e, w.store.ops_write() as c:
        files.import_tickets(c, tick, strict=True)
    assert [ln for ln, _ in e.value.report.rejected] == [4, 5, 6, 7, 8]
    assert [r.split(";")[0] for _, r in e.value.report.rejected] == [
        "account: unknown company 'Nessuno'", "type: unknown 'boh'", "missing title",
        "number TICK-0125 exists", "status: unknown status 'forse'"]
    with w.store.ops_read() as c:  # strict: nothing written
        assert listing.rows(c, w.users["sup"]) == [] and numbering.current(c, "TICK") == before
    with w.store.ops_write() as c:
        rep = files.import_tickets(c, tick)
        assert (rep.imported, [ln for ln, _ in rep.rejected]) == (2, [4, 5, 6, 7, 8])
        rows = listing.rows(c, w.users["sup"])
        assert [(r["number"], r["status"], r["tags"]) for r in rows] == [
            ("TICK-0126", "chiuso", ""),
            ("TICK-0125", "in_lavorazione", "rete, vpn"),
        ]
        assert notify.outbox(c) == []  # imports notify nobody


def test_quick_filters_and_exports(world, tmp_path):  # TK-7
    w = world
    seed = {"nuovo": 3, "in_lavorazione": 3, "chiuso": 87, "annullato": 5}
    with w.store.ops_write() as c:
        for status in ("nuovo", "in_lavorazione"):  # through the API ...
            for i in range(3):
                _new(
                    c,
                    w,
                    status=status,
                    title=f"{status} {i}",
                    notify_on=False,
                    tags=["vip"] if i == 0 else [],
                    priority="priorita 3" if i % 2 else "priorita 1",
                )
    now = datetime.now(UTC)
    with w.store.ops_write() as c:  # ... and the closed history in one go
        c.execute(schema.tickets.insert(), [
            {"number": f"TICK-{100 + i:04d}", "title": f"old {i}", "account_id": w.acme,
             "final_customer_id": w.acme, "status": "chiuso" if i < 87 else "annullato",
             "priority": "priorita 3", "type": "assistenza", "area": "Assistenza",
             "created_at": now, "updated_at": now} for i in range(92)])
    with w.store.ops_write() as c:
        f = listing.Filters(status=["nuovo", "in_lavorazione"])
        rows = listing.rows(c, w.users["sup"], f)
        counts = listing.quick_counts(c, w.users["sup"], f)
    assert len(rows) == 6
    assert dict(counts["status"]) == seed  # a facet ignores its own filter
    assert dict(counts["priority"]) == {"priorita 1": 4, "priorita 3": 2}
    assert dict(counts["tags"]) == {"vip": 2}
    files.export_tickets(rows, tmp_path / "t.csv")
    with (tmp_path / "t.csv").open() as fh:
        got = list(csv.reader(fh))
    assert got[0] == [files.LABELS[k] for k in listing.COLUMNS] and len(got) == 7
    assert [r[0] for r in got[1:]] == [r["number"] for r in rows]
    files.export_tickets(rows, tmp_path / "t.xlsx")
    ws = openpyxl.load_workbook(tmp_path / "t.xlsx").active
    header = [c.value for c in ws[1]]
    assert header == got[0] and ws.max_row == 7
    created = ws.cell(2, header.index("created_at") + 1).value
    assert created.year >= 2026  # a typed date cell, not text
    with pytest.raises(TicketError):
        listing.rows(c, w.users["sup"], listing.Filters(status=["forse"]))
