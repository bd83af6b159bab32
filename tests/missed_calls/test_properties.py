"""Concurrency, replays, number forms and a randomized differential test of the state machine
against the naive recomputation (naive_missed.py), on real DuckDB stores; concurrent bookings
on the operations store (SQLite and PostgreSQL), racing books and cancels, and the
PostgreSQL actions as one statement each."""

from __future__ import annotations

import itertools
import random
import threading
from datetime import timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa

from pbxlens.missed_calls import operations as op
from pbxlens.missed_calls import reconcile, sync
from pbxlens.missed_calls.actor import Actor
from pbxlens.missed_calls.numbers import national, national_sql
from pbxlens.store import schema
from tests.missed_calls import naive_missed as naive
from tests.missed_calls.helpers import Cdr, at, requests, token_of


@pytest.fixture
def con(duck):
    return duck  # the state machine alone


def _one_request(stores) -> str:
    """One open request (3331234567, missed at 09:00); its token."""
    with stores.cursor() as cur:
        c = Cdr(cur, stores.ops)
        c.dynamic_routing("3331234567", "09:00:00")
        c.commit()
    return token_of(stores, "3331234567")


def test_twenty_threads_book_the_same_request_exactly_one_wins(stores):
    key = _one_request(stores)
    barrier = threading.Barrier(20)
    results: list[str] = []

    def book(i: int) -> None:
        barrier.wait()
        try:
            op.book(stores, Actor(f"op{i}", "operator", "default", str(500 + i)), key)
            results.append(f"won:op{i}")
        except op.Conflict as exc:
            results.append(str(exc))

    threads = [threading.Thread(target=book, args=(i,)) for i in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    winners = [r for r in results if r.startswith("won:")]
    assert len(results) == 20 and len(winners) == 1
    who = winners[0][4:]
    assert results.count(f"already booked by {who}") == 19
    with stores.ops_read() as c:
        rows = c.execute(schema.missed_bookings.select()).mappings().all()
    assert [r["booked_by"] for r in rows] == [who]


def test_racing_books_and_cancels_of_one_request_keep_it_consistent(stores):
    """Ten operators book and cancel one request at once, five times each: every answer is a
    win or a refusal, the history has a row per win, and the request's `held_by` copy names the
    valid booking's holder."""
    key = _one_request(stores)
    barrier = threading.Barrier(10)
    done: list[tuple[str, str]] = []

    def work(i: int) -> None:
        me = Actor(f"op{i}", "operator", "default", str(500 + i))
        barrier.wait()
        for _ in range(5):
            for action in (op.book, op.cancel):
                try:
                    action(stores, me, key)
                    done.append((me.username, action.__name__))
                except (op.Conflict, op.NotBooked, op.Forbidden):
                    pass

    threads = [threading.Thread(target=work, args=(i,)) for i in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    r, b, h = schema.callback_requests, schema.missed_bookings, schema.missed_history
    with stores.ops_read() as conn:
        held = conn.execute(sa.select(r.c.held_by)).scalar_one()
        booked = conn.execute(sa.select(b.c.booked_by)).scalar_one_or_none()
        log = conn.execute(sa.select(h.c.actor, h.c.action).order_by(h.c.id)).all()
    books = sum(a == "book" for _, a in done)
    assert books and books - sum(a == "cancel" for _, a in done) == (booked is not None)
    assert held == booked
    assert sorted(log) == sorted(done)  # a history row per win, none per refusal
    for earlier, later in itertools.pairwise(log):
        # alternation: nobody books a booked request, nobody cancels an unbooked one
        assert (earlier[1], later[1]) in (("book", "cancel"), ("cancel", "book"))


@pytest.mark.parametrize("ops_url", ["postgresql"], indirect=True)  # SQLite: in-process
def test_a_booking_and_a_cancel_are_one_statement_on_postgresql(stores, monkeypatch):
    key = _one_request(stores)
    me = Actor("op1", "operator", "default", "501")
    seen: list[str] = []

    def count(conn, cursor, statement, *_):
        seen.append(statement.split(None, 1)[0].upper())

    op.book(stores, me, key)  # the settings' copy is read now; the pool's connection too
    op.cancel(stores, me, key)
    monkeypatch.setattr(sync, "after_change", lambda _stores: None)  # the copies' refresh
    sa.event.listen(stores.ops, "before_cursor_execute", count)
    try:
        op.book(stores, me, key)
        op.cancel(stores, me, key)
    finally:
        sa.event.remove(stores.ops, "before_cursor_execute", count)
    assert seen == ["WITH", "WITH"]  # no BEGIN, no COMMIT: each its own transaction


FORMS = ["3331234567", "+393331234567", "+39 333 1234567", "0039 333 123 4567",
         "(+39) 333-1234567", "333 12 34 567"]


def test_number_forms_are_one_number(con):
    assert {national(f) for f in FORMS} == {"3331234567"}
    assert national("03331234567", outbound=True) == "3331234567"  # seizure code 0
    assert national("0 0039 333 1234567", outbound=True) == "3331234567"
    assert national("+33 6 12 34 56 78") == "0033612345678"
    assert national("anonymous") == ""
    for f in [*FORMS, "0501234567", "+39 050 1234567", "0033612345678", "+33612345678",
              "+44 20 7946 0000", "anonymous", "", "+", "+39", "0039", "0+39 333 1234567"]:
        for outbound in (False, True):
            for bound in (False, True):  # the inline and the lambda-bound forms: one rule
                sql = national_sql("x", outbound=outbound, bound=bound)
                got = con.execute(f"SELECT {sql} FROM (SELECT ? AS x)", [f]).fetchone()[0]
                assert got == national(f, outbound), (f, outbound, bound)
    c = Cdr(con)
    t = at("09:00:00")
    for i, f in enumerate(FORMS):
        (c.inbound if i % 2 else c.dynamic_routing)(f, t + timedelta(minutes=i))
    c.commit()
    [r] = requests(con)
    assert (r["call_num"], r["num_calls"]) == ("3331234567", len(FORMS))
    c.outbound("0 333 123 4567", "11:00:00", status="OK", bill=30)  # dialled with the seizure 0
    c.commit()
    assert requests(con)[0]["closure"] == "handled_with_callback"


def test_anonymous_callers_make_no_request(con):
    c = Cdr(con)
    c.dynamic_routing("anonymous", "09:00:00")
    c.inbound("unknown", "09:01:00")
    c.commit()
    assert requests(con) == []


def _snapshot(con) -> list[tuple]:
    return con.execute("SELECT * EXCLUDE (closed_by) FROM missed_requests ORDER BY ALL").fetchall()


def test_replaying_a_file_is_a_noop(con, tmp_path):
    """Real ingest of a simulated CSV: loading it again leaves every request unchanged, and the
    incremental result equals a full rebuild."""
    from datetime import date

    from pbxlens.ingest import ingest_paths
    from pbxlens.simulate import generate

    generate(tmp_path / "sim", days=1, calls_per_day=300, seed=5, start=date(2026, 5, 11),
             formats=["csv-detailed"])
    ingest_paths(con, [tmp_path / "sim"])
    first = _snapshot(con)
    assert first, "the simulation has unanswered queue calls"
    # the same calls again, as a new file (a byte-identical file is skipped before parsing)
    src = next((tmp_path / "sim").rglob("*.csv"))
    copy = tmp_path / "again.csv"
    copy.write_bytes(src.read_bytes() + b"\n")
    ingest_paths(con, [copy])
    assert _snapshot(con) == first
    reconcile.rebuild_all(con)
    assert _snapshot(con) == first


def _random_world(seed: int):
    rng = random.Random(seed)
    numbers = {f"33{rng.randrange(10**7, 10**8)}": None for _ in range(6)}
    items, plan = [], []
    slots = rng.sample(range(60), 45)  # distinct starts on a 1000 s grid: no ties
    base = at("00:00:00")
    for s in slots:
        num = rng.choice(list(numbers))
        start = base + timedelta(seconds=1000 * s)
        kind = rng.choices(["missed_cdr", "missed_dr", "inbound", "outbound", "flush"],
                           [4, 2, 2, 4, 1])[0]
        dur = rng.randrange(1, 900)
        end = start + timedelta(seconds=dur)
        form = rng.choice(["{n}", "+39{n}", "0039 {n}", "{a} {b}"]).format(n=num, a=num[:3], b=num[3:])
        if kind.startswith("missed"):
            items.append(naive.Item("missed", num, start, start))
            plan.append((kind, form, start, {}))
        elif kind == "inbound":
            bill = rng.choice([0, 3, 5, 6, 40])
            vm = rng.random() < 0.2
            status = "OK"
            items.append(naive.Item("inbound", num, start, end, status, Decimal(bill), not vm))
            plan.append((kind, form, start, {"bill": bill, "vm": vm, "dur": max(dur, bill + 1)}))
            if vm:  # a voicemail-answered queue call is also a missed call
                items.append(naive.Item("missed", num, start, start))
        elif kind == "outbound":
            status = rng.choice(["OK", "OK", "NOANSWER", "BUSY"])
            bill = rng.choice([0, 2, 5, 6, 30]) if status == "OK" else 0
            items.append(naive.Item("outbound", num, start, end, status, Decimal(bill)))
            plan.append((kind, "0" + form, start, {"status": status, "bill": bill, "dur": max(dur, bill + 1)}))
        else:
            items.append(naive.Item("flush", num, start, start))
            plan.append((kind, num, start, {}))
    return rng, items, plan


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_random_histories_match_the_naive_state_machine(con, seed):
    rng, items, plan = _random_world(seed)
    chunks: list[list] = [[], [], []]
    for p in plan:
        chunks[rng.randrange(3)].append(p)
    for chunk in chunks:  # three batches in a random order of arrival
        c = Cdr(con)
        for kind, form, start, kw in chunk:
            if kind == "missed_cdr":
                c.inbound(form, start)
            elif kind == "missed_dr":
                c.dynamic_routing(form, start)
            elif kind == "inbound":
                if kw["vm"]:
                    c.inbound(form, start, voicemail=True, bill=kw["bill"] or 1, dur=kw["dur"])
                else:
                    c.inbound(form, start, answered=True, bill=kw["bill"], dur=kw["dur"])
            elif kind == "outbound":
                c.outbound(form, start, status=kw["status"], bill=kw["bill"], dur=kw["dur"])
            else:
                con.execute("INSERT INTO missed_flushes VALUES (nextval('missed_flush_seq'), "
                            "'default', ?, 'x', ?, 'boss')", [form, start])
        c.commit()
    # flushes are operator actions: rebuild their numbers as flush() does
    nums = [("default", n) for (n,) in con.execute("SELECT DISTINCT call_num FROM missed_flushes").fetchall()]
    reconcile.rebuild_numbers(con, nums)
    for i in items:  # voicemail "inbound" items carried bill 0 in the fixture when bill was 0
        if i.kind == "inbound" and not i.person and i.bill == 0:
            i.bill = Decimal(1)
    want = sorted((r.num, r.first_call, r.last_call, r.num_calls, r.num_recalled, r.last_recalled,
                   r.closure, r.closed_at) for r in naive.run(items))
    got = sorted((r["call_num"], r["first_call"], r["last_call"], r["num_calls"], r["num_recalled"],
                  r["last_recalled"], r["closure"], r["closed_at"]) for r in requests(con))
    assert got == want
    before = _snapshot(con)
    reconcile.rebuild_all(con)
    assert _snapshot(con) == before
