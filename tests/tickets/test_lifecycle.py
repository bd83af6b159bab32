"""Ticket life cycle (TK-1..TK-3, TK-6), numbering under concurrency, lookup of numbers written
in different forms, the trace mask (TR-1, TR-2) over a real CDR in the store, and what users
without the privacy right see of tickets and trace records. Every test runs on both operations
back-ends (SQLite, PostgreSQL)."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest

from pbxlens.models import phone
from pbxlens.tickets import TicketError, companies, listing, numbering, ticket, trace, tracking


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


def test_create_track_take_charge_and_status_rules(world):
    w = world
    with w.store.ops_write() as c:
        numbering.bump_to(c, "TICK", 125)  # "the latest number is TICK-0125"
        tid = _new(c, w)
        t = ticket.get(c, tid)
        assert (t["number"], t["status"], t["area"]) == ("TICK-0126", "nuovo", "Assistenza")  # TK-1
        assert t["sla_start"] == t["created_at"]
        tracking.add(c, tid, duration="00:30", type="analisi", billable=True, user=w.users["u"])
        assert ticket.get(c, tid)["status"] == "in_lavorazione"  # TK-2
        ticket.set_status(c, tid, "sospeso")
        tracking.add(c, tid, duration="01:00", type="analisi", user=w.users["u"])
        t = ticket.get(c, tid)
        assert (t["status"], t["tracking_s"]) == ("sospeso", 5400)  # only `nuovo` moves
        ticket.take_charge(c, tid, w.users["tech"])  # TK-3
        t = ticket.get(c, tid)
        assert (t["in_charge_user_id"], t["status"]) == (w.users["tech"].id, "sospeso")
        ticket.set_status(c, tid, "closed")
        with pytest.raises(TicketError, match="reopened"):
            ticket.set_status(c, tid, "sospeso")
        with pytest.raises(TicketError, match="reopen"):
            tracking.add(c, tid, duration="00:10", type="analisi")
        assert ticket.set_status(c, tid, "in lavorazione") == "in_lavorazione"
        rows = listing.rows(c, w.users["sup"])
        assert rows[0]["tracking_s"] == 5400 and tracking.format_hm(rows[0]["tracking_s"]) == "01:30"


def test_refused_tickets_write_nothing(world):
    w = world
    with w.store.ops_write() as c:
        for kw, msg in (
            ({"title": " "}, "title"),
            ({"priority": "urgentissima"}, "priority"),
            ({"final_customer_id": 999}, "final customer"),
            ({"final_customer_contact_id": w.anna}, "not a contact"),
            ({"status": "boh"}, "status"),
        ):
            with pytest.raises(TicketError, match=msg):
                _new(c, w, **kw)
        assert numbering.current(c, "TICK") == 0
        assert listing.rows(c, w.users["sup"]) == []


def test_types_by_company(world):  # TK-6
    w = world
    with w.store.ops_write() as c:
        companies.set_default_types(c, ["analisi", "assistenza", "commerciale"])
        companies.set_company_types(c, w.acme, ["assistenza"])
        assert companies.allowed_types(c, w.acme) == ["assistenza"]
        assert companies.allowed_types(c, w.nextup) == ["analisi", "assistenza", "commerciale"]
        with pytest.raises(TicketError, match="not available"):
            _new(c, w, type="analisi")
        _new(c, w, final_customer_id=w.nextup, type="analisi")


def test_area_visibility(world):
    w = world
    with w.store.ops_write() as c:
        a = _new(c, w, type="assistenza", user=w.users["sup"])  # area Assistenza
        b = _new(c, w, type="analisi", user=w.users["sup"])  # area Centro Analisi
        n = _new(c, w, type="commerciale", user=w.users["sup"])  # no area
        seen = {u: {r["id"] for r in listing.rows(c, w.users[u])} for u in ("u", "tech", "sup")}
    assert seen == {"u": {a, n}, "tech": {b, n}, "sup": {a, b, n}}


def test_twenty_concurrent_creations_take_twenty_consecutive_numbers(world):
    """20 users save at the same instant, each in its own transaction: 20 distinct numbers,
    consecutive, none lost, none twice (UPDATE ... RETURNING on the counter)."""
    w = world
    with w.store.ops_write() as c:
        numbering.bump_to(c, "TICK", 125)
    start, made, errors = threading.Barrier(20), [], []

    def worker(i):
        try:
            start.wait(timeout=30)
            with w.store.ops_write() as c:
                made.append(ticket.get(c, _new(c, w, title=f"call {i}"))["number"])
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    assert sorted(made) == [f"TICK-{i:04d}" for i in range(126, 146)]
    with w.store.ops_read() as c:
        assert numbering.current(c, "TICK") == 145
        assert sorted(r["number"] for r in listing.rows(c, w.users["sup"])) == sorted(made)


def test_a_rolled_back_ticket_gives_its_number_back(world):
    w = world
    with pytest.raises(TicketError), w.store.ops_write() as c:
        _new(c, w)
        raise TicketError("the user cancels")
    with w.store.ops_write() as c:
        assert ticket.get(c, _new(c, w))["number"] == "TICK-0001"


def test_trace_numbers_per_direction(world):
    w = world
    with w.store.ops_write() as c:
        nums = [
            trace.create(
                c,
                direction=d,
                type="assistenza",
                priority="priorita 3",
                caller="3478127773",
                called="0461999000",
            )[1]
            for d in ("in", "out", "in")
        ]
    assert nums == ["CHM-IN-0001", "CHM-OUT-0001", "CHM-IN-0002"]


def test_lookup_from_numbers_written_in_different_forms(world):
    for written in (
        "+39 333 1234567",
        "0039 333 1234567",
        "333 123 4567",
        "3331234567",
        "+39-333-123-4567",
        " (333) 1234567 ",
    ):
        with world.store.ops_read() as c:
            m = companies.lookup(c, written)
        assert m.company["name"] == "Acme" and m.contact["name"] == "Mario Rossi", written
        assert m.number == "3331234567" and phone.e164(written) == "+393331234567"


def test_contact_match_wins_and_homonyms_are_candidates(world):
    w = world
    with w.store.ops_write() as c:
        other = companies.create_company(c, "Other", phones=("0461123456",))  # Acme's number too
        m = companies.lookup(c, "+39 0461 123456")
        assert m.company["id"] == other and [x["company"]["id"] for x in m.candidates] == [w.acme]
        companies.add_phone(c, w.acme, "0461-123456", contact_id=w.mario)
        m = companies.lookup(c, "0461123456")
        assert (m.company["id"], m.contact["id"]) == (w.acme, w.mario)


# ------------------------------------------------------------------------------------- trace


def _calls(store, rows):
    """Minimal CDR rows in `calls` (the trace reads them like any report)."""
    with store.writing() as cur:
        for i, (caller, called, direction, minutes_ago) in enumerate(rows):
            ts = datetime(2026, 5, 11, 12, tzinfo=UTC) - timedelta(minutes=minutes_ago)
            cur.execute(
                "INSERT INTO calls (tenant, unique_id, leg_branch, status, start_ts, start_local,"
                " duration_s, bill_s, direction, path_len, path_incomplete, content_hash, batch_id,"
                " caller, called) VALUES ('default', ?, 0, 'OK', ?, ?, 60, 55, ?, 1, false, 0, 0, ?, ?)",
                [f"17786{i:05d}.{i}", ts, ts.replace(tzinfo=None), direction, caller, called],
            )


def test_trace_mask_inbound_known_unknown_and_linking(world, monkeypatch):  # TR-1
    w = world
    full = w.users["full"]  # the privacy right: whole numbers
    _calls(
        w.store,
        [
            ("3478127773", "0461999000", "incoming", 5),
            ("+393478127773", "0461999000", "incoming", 50),
            ("201", "03478127773", "outgoing", 20),  # seizure code 0 + number
            ("0212345678", "0461999000", "incoming", 1),
            ("3478127774", "0461999000", "incoming", 2),
        ],
    )
    from pbxlens.config import get_settings

    monkeypatch.setattr(get_settings(), "line_prefix", "0")
    with w.store.ops_write() as c:
        tid = _new(c, w, final_customer_id=w.nextup, account_id=w.nextup, title="Rete")
    m = trace.mask(w.store, full, direction="in", caller="3478127773", called="0461999000",
                   unique_id="1778600000.0")
    assert m.caller.match.company["name"] == "NEXTUP SRL"
    assert m.caller.match.contact["name"] == "Anna Bianchi"
    assert m.financial["outlook"] == "buono" and m.financial["bad_debts"] == "ND"
    assert [r["caller"] for r in m.recent_calls] == ["3478127773", "201", "+393478127773"]
    assert [t["id"] for t in m.open_tickets] == [tid]
    with w.store.ops_write() as c:
        _rid, num = trace.create(
            c,
            direction="in",
            type="assistenza",
            priority="priorita 1",
            caller="3478127773",
            called="0461999000",
            unique_id="1778600000.0",
            caller_company_id=w.nextup,
            caller_contact_id=w.anna,
            user=w.users["u"],
        )
    assert num == "CHM-IN-0001"
    unknown = trace.mask(w.store, full, direction="in", caller="0212345678")
    assert not unknown.caller.match.found and set(unknown.financial.values()) == {"ND"}
    with w.store.ops_write() as c:
        foo = companies.create_company(c, "Foo")
        trace.create(
            c,
            direction="in",
            type="assistenza",
            priority="priorita 2",
            caller="0212345678",
            caller_company_id=foo,
            caller_actions={"link_company"},
        )
    assert trace.mask(w.store, full, direction="in", caller="+39 02 1234 5678").caller.match.company["name"] == "Foo"
    with w.store.ops_write() as c:
        for _ in range(2):  # blacklisting twice is a no-op
            trace.create(
                c,
                direction="in",
                type="assistenza",
                priority="priorita 2",
                caller="0212345678",
                caller_actions={"blacklist"},
            )
        assert trace.is_blacklisted(c, "0039 02 12345678")
        assert [r["number"] for r in trace.records(c, full, text="3478127773")] == ["CHM-IN-0001"]
    # the same mask for a user without the privacy right: every number masked
    m = trace.mask(w.store, w.users["sup"], direction="in", caller="3478127773")
    assert m.caller.shown == "3478127xxx" and m.caller.match.company["name"] == "NEXTUP SRL"
    assert [r["caller"] for r in m.recent_calls] == ["3478127xxx", "201", "+393478127xxx"]
    assert {r["called"] for r in m.recent_calls} == {"0461999xxx", "03478127xxx"}


def test_trace_outbound_lists_at_most_50_calls(world):  # TR-2
    w = world
    _calls(
        w.store,
        [("201", "3333914797", "outgoing", i) for i in range(60)] + [("201", "3333914798", "outgoing", 0)],
    )
    m = trace.mask(w.store, w.users["full"], direction="out", caller="201", called="3333914797")
    assert m.caller is None and len(m.recent_calls) == 50
    assert {r["called"] for r in m.recent_calls} == {"3333914797"}
    with w.store.ops_write() as c:
        _rid, num = trace.create(
            c,
            direction="out",
            type="assistenza",
            priority="priorita 3",
            caller="201",
            called="3333914797",
            caller_actions={"blacklist"},
        )
        assert num == "CHM-OUT-0001" and not trace.is_blacklisted(c, "201")


def test_sql_and_python_normalizers_agree(store):
    forms = [
        "+39 333 123 4567",
        "0039-333-1234567",
        "333 1234567",
        "+44 20 7946 0958",
        "0044 20 7946 0958",
        "201",
        "02 1234 5678",
        "+",
        "",
        None,
        "+39",
        "0461/123456",
    ]
    with store.cursor() as cur:
        cur.execute("CREATE TEMP TABLE f (v TEXT)")
        cur.executemany("INSERT INTO f VALUES (?)", [[x] for x in forms])
        got = dict(cur.execute(f"SELECT v, {phone.national_sql('v')} FROM f").fetchall())
    assert got == {x: phone.national(x) for x in forms}
