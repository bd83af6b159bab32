"""Staffing: Erlang C against anchors §2.5's formulas (textbook check values and an independent
implementation here), Erlang A against its exact special cases and an independent
discrete-event simulation of M/M/N+M, and plans from hand-made queue history."""

from __future__ import annotations

import heapq
import math
import random
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from pbxlens.ingest import ingest_paths
from pbxlens.reports import staffing, staffing_plan
from pbxlens.store import analytics as db

from .conftest import CdrBuilder, q

# ----------------------------------------------------------------------------- Erlang C


def c_direct(a: float, n: int) -> float:
    """Erlang C by its closed form, in log space: (A^N/N!·N/(N−A)) / (Σ_{k<N} A^k/k! + …)."""
    def term(k):
        return math.exp(k * math.log(a) - math.lgamma(k + 1))
    top = term(n) * n / (n - a)
    return top / (math.fsum(term(k) for k in range(n)) + top)


@pytest.mark.parametrize("a", [0.5, 2.0, 10.0, 37.5, 120.0])
def test_erlang_c_equals_the_closed_form(a):
    for n in range(math.floor(a) + 1, math.floor(a) + 16):
        c = c_direct(a, n)
        assert staffing.erlang_c(a, n) == pytest.approx(c, rel=1e-9)
        aht, t = 180.0, 20.0
        assert staffing.service_level_c(a, n, aht, t) == pytest.approx(
            1 - c * math.exp(-(n - a) * t / aht), rel=1e-9)
        assert staffing.asa_c(a, n, aht) == pytest.approx(c * aht / (n - a), rel=1e-9)
    assert staffing.erlang_c(a, math.floor(a)) == 1.0 if a >= 1 else True


def test_textbook_check_values():
    # A = 10 Erlangs (360 calls an hour of 100 s): the classic table
    assert [round(staffing.erlang_c(10, n), 4) for n in (11, 12, 13, 14)] == [
        0.6821, 0.4494, 0.2853, 0.1741]
    # 80/20 with AHT 180 s: 14 agents (SL(13) = 79.56 % < 80 % <= SL(14) = 88.84 %)
    assert staffing.agents_needed(10 / 180, 180, 0.80, 20) == 14
    assert staffing.agents_needed(10 / 180, 180, 0.80, 20, shrinkage=0.3) == math.ceil(
        staffing.exact_agents(10 / 180, 180, 0.80, 20) / 0.7)
    # the occupancy cap binds when the service level is easy
    assert staffing.exact_agents(10 / 180, 180, 0.10, 20, occupancy_cap=0.8) == 12.5


def test_rounding_once_needs_no_more_than_rounding_each_queue():
    rates = [(3 / 180, 180), (2.2 / 180, 180), (0.7 / 240, 240), (5.5 / 120, 120)]
    exact = [staffing.exact_agents(r, h, 0.8, 20, 0.85) / 0.7 for r, h in rates]
    assert staffing.round_up(sum(exact)) <= sum(staffing.round_up(x) for x in exact)
    assert staffing.round_up(sum(exact)) < sum(staffing.round_up(x) for x in exact)


# ----------------------------------------------------------------------------- Erlang A


def simulate(rate: float, aht: float, patience: float, n: int, t: float, arrivals: int,
             seed: int) -> tuple[float, float, float]:
    """M/M/N+M by events: (served within t / arrivals, abandoned / arrivals, P(wait))."""
    rnd = random.Random(seed)
    clock, free, waiting = 0.0, n, []  # waiting: (arrival, deadline), FIFO
    busy: list[float] = []             # service ends
    fast = abandoned = waited = 0
    head = 0
    for _ in range(arrivals):
        clock += rnd.expovariate(rate)
        while True:  # release servers that finished by now, serving the queue in order
            while head < len(waiting) and waiting[head][1] <= (busy[0] if busy else clock):
                head += 1
                abandoned += 1
            if busy and busy[0] <= clock:
                end = heapq.heappop(busy)
                if head < len(waiting):
                    arr, _dl = waiting[head]
                    head += 1
                    fast += end - arr <= t
                    heapq.heappush(busy, end + rnd.expovariate(1 / aht))
                else:
                    free += 1
                continue
            break
        while head < len(waiting) and waiting[head][1] <= clock:
            head += 1
            abandoned += 1
        if free:
            free -= 1
            fast += 1
            heapq.heappush(busy, clock + rnd.expovariate(1 / aht))
        else:
            waited += 1
            waiting.append((clock, clock + rnd.expovariate(1 / patience)))
    return fast / arrivals, abandoned / arrivals, waited / arrivals


@pytest.mark.parametrize("rate, aht, patience, n, t", [
    (10 / 180, 180, 120, 11, 20),     # A = 10, short patience
    (30 / 200, 200, 400, 31, 30),     # A = 30, patient callers
    (4 / 100, 100, 60, 4, 10),        # overloaded without abandons: A = N
])
def test_erlang_a_against_a_simulation(rate, aht, patience, n, t):
    got = staffing.erlang_a(rate, aht, patience, n, t)
    sl, ab, pw = simulate(rate, aht, patience, n, t, 150_000, seed=7)
    assert got.service_level == pytest.approx(sl, abs=0.012)
    assert got.p_abandon == pytest.approx(ab, abs=0.006)
    assert got.p_wait == pytest.approx(pw, abs=0.012)


def test_erlang_a_special_cases():
    # without abandonment it is Erlang C
    for n in (11, 12, 14):
        c = staffing.erlang_a(10 / 180, 180, 1e12, n, 20)
        assert c.p_wait == pytest.approx(staffing.erlang_c(10, n), abs=1e-6)
        assert c.service_level == pytest.approx(staffing.service_level_c(10, n, 180, 20),
                                                abs=1e-6)
        assert staffing.erlang_a(10 / 180, 180, math.inf, n, 20).p_abandon == 0
    # patience = AHT: the number in the system is Poisson(A), as in M/M/∞
    a, n = 7.0, 9
    r = staffing.erlang_a(a / 150, 150, 150, n, 15)
    tail = 1 - math.fsum(math.exp(-a) * a ** k / math.factorial(k) for k in range(n))
    assert r.p_wait == pytest.approx(tail, abs=1e-9)
    queued = math.fsum((k - n) * math.exp(-a) * a ** k / math.factorial(k)
                       for k in range(n, 80))
    assert r.p_abandon == pytest.approx(queued / a, abs=1e-9)  # θ·E[Q]/λ with θ = μ
    # abandons lighten the load: Erlang A never needs more agents than Erlang C
    for rate in (2 / 180, 10 / 180, 25 / 180):
        assert staffing.agents_needed(rate, 180, 0.8, 20, patience_s=90) <= \
            staffing.agents_needed(rate, 180, 0.8, 20)


# ----------------------------------------------------------------------------- plans

MONDAY = date(2026, 5, 4)


@pytest.fixture(scope="module")
def history(tmp_path_factory):
    """Two weeks of queue 800: each weekday 09:00-09:59 has 12 calls (every 5 minutes, talk
    200 s, answered after 10 s) and 10:00-10:14 two abandoned calls (waited 60 s); weekends
    nothing. Two agents logged in 09:00-11:00 on weekdays, one pause 09:30-09:45."""
    b = CdrBuilder()
    for d in range(14):
        day = MONDAY + timedelta(days=d)
        if day.isoweekday() > 5:
            continue
        for i in range(12):
            t = datetime.combine(day, datetime.min.time()) + timedelta(hours=9, minutes=5 * i)
            fmt = "%Y-%m-%d %H:%M:%S"
            ans, end = t + timedelta(seconds=10), t + timedelta(seconds=210)
            b.call(t.strftime(fmt), end.strftime(fmt),
                   [q(t.strftime(fmt), end.strftime(fmt), "NCC", ans.strftime(fmt), "301")],
                   answer=ans.strftime(fmt), up=t.strftime(fmt), bill="200.000",
                   answered_by="301")
        for m in (0, 7):
            t = datetime.combine(day, datetime.min.time()) + timedelta(hours=10, minutes=m)
            end = t + timedelta(seconds=60)
            b.call(t.strftime("%Y-%m-%d %H:%M:%S"), end.strftime("%Y-%m-%d %H:%M:%S"),
                   [q(t.strftime("%Y-%m-%d %H:%M:%S"), end.strftime("%Y-%m-%d %H:%M:%S"),
                      "CANCELED")], status="CANCELED", up=t.strftime("%Y-%m-%d %H:%M:%S"))
    folder = tmp_path_factory.mktemp("staffing")
    b.write(folder / "src")
    con = db.connect(folder / "store.duckdb")
    ingest_paths(con, [folder / "src"])
    rome = ZoneInfo("Europe/Rome")
    rows = []
    for d in range(14):
        day = MONDAY + timedelta(days=d)
        if day.isoweekday() > 5:
            continue
        at = datetime.combine(day, datetime.min.time(), rome)
        for member in ("301", "302"):
            rows.append((member, member, "logged", at + timedelta(hours=9),
                         at + timedelta(hours=11)))
        rows.append(("302", "302", "paused", at + timedelta(hours=9, minutes=30),
                     at + timedelta(hours=9, minutes=45)))
    con.executemany("INSERT INTO agent_intervals VALUES ('default', ?, ?, NULL, '800', '800', "
                    "'Coda Test', ?, '', ?, ?)", rows)
    yield con
    con.close()


def test_plan_from_history(history):
    p = staffing_plan.queue_plan(history, "default", "800", MONDAY, MONDAY + timedelta(days=13),
                                 minutes=30, day_kind="weekdays", shrinkage=0.25)
    assert p.days == 10 and p.aht_s == 200 and p.threshold_s == 20 and p.target_pct == 80
    assert p.patience_s == (12 * 10 * 10 + 2 * 10 * 60) / 20  # Σ waits / abandons
    by = {iv.label: iv for iv in p.intervals}
    assert len(p.intervals) == 48
    nine = by["09:00"]
    assert nine.calls == 6 and nine.traffic == pytest.approx(6 * 200 / 1800)
    want = staffing.exact_agents(6 / 1800, 200, 0.8, 20, 0.85)
    assert nine.exact == pytest.approx(want) and nine.agents == staffing.round_up(want)
    assert nine.scheduled == staffing.round_up(want / 0.75)
    # logged in: 2 agents × 30 min, minus the 15-minute pause at 09:30
    assert nine.logged_in == pytest.approx(2.0) and by["09:30"].logged_in == pytest.approx(1.5)
    assert nine.actual_occupancy == pytest.approx(100 * nine.traffic / 2, abs=0.01)
    assert by["10:00"].calls == 2 and by["10:00"].agents >= 1
    assert by["12:00"].calls == 0 and by["12:00"].agents == 0 and by["12:00"].logged_in is None
    sat = staffing_plan.queue_plan(history, "default", "800", MONDAY,
                                   MONDAY + timedelta(days=13), minutes=60, day_kind="sat")
    assert all(iv.calls == 0 for iv in sat.intervals)
    hourly = staffing_plan.queue_plan(history, "default", "800", MONDAY,
                                      MONDAY + timedelta(days=13), minutes=60)
    assert {iv.label: iv.calls for iv in hourly.intervals}["09:00"] == 12


def test_plans_of_several_queues_round_once(history):
    p = staffing_plan.plan(history, "default", ["800", "800"], MONDAY,
                           MONDAY + timedelta(days=13), minutes=15, erlang_a=True)
    assert p.queues[0].model == "erlang_a"
    for i, total in enumerate(p.total_scheduled):
        assert total == staffing.round_up(sum(q.intervals[i].exact for q in p.queues) / 0.7)
        assert total <= p.summed_scheduled[i]
    with pytest.raises(staffing_plan.StaffingError):
        staffing_plan.queue_plan(history, "default", "800", MONDAY, MONDAY, minutes=20)
