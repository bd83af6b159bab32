"""Discrete-event call-center simulation.

Calls are processed in arrival order (a global time-ordered sweep). Shared resources carry their
state across calls: every operator has a ``busy until`` instant (ringing and talking occupy the
phone) and a ``queue-free from`` instant (the queue's rest interval and dynamic pauses), every
gateway a heap of channel release instants, every queue a heap of the instants its waiting
callers leave. Because arrivals are processed in time order and each call books resources only
from its own arrival onwards, earlier callers are served first (FIFO queues) and a gateway's
channel limit can be checked exactly at arrival time.

Calls the simulation itself causes later (a caller who redials, an operator's callback, the
PBX's automatic callback, a notification campaign) wait in a heap of pending calls that is
merged with the day's arrivals, so calls still start in time order.

Everything is driven by one ``random.Random(seed)`` (the directory and the planned pauses use
their own seeded generators); no clock, no global random state, no iteration over sets.

The class is split by subject: queues (queues.py), ring groups and direct calls (paths.py),
calls placed by operators and PBX services (origins.py), the missed-call ledger and the
callback team (callbacks.py).
"""

from __future__ import annotations

import bisect
import heapq
import itertools
import random
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from math import exp, log
from operator import attrgetter
from zoneinfo import ZoneInfo

import holidays as _holidays

from . import numbers
from .callbacks import CallbackTeam, MissedLedger
from .directory import Directory, Operator
from .origins import OriginMixin
from .paths import RoutingMixin
from .queues import QueueMixin
from .scenarios import Scenario, get_scenario
from .truth import Call, CallContext, Leg

ANSWER_TYPES = frozenset(("local_exten", "obl", "voicemail", "service", "conference", "fax"))

_STATUS_OF_CAUSE = {
    "CANCELED": "CANCELED", "NOANSWER": "NOANSWER", "TIMEOUT": "NOANSWER",
    "JOINEMPTY": "NOANSWER", "CLOSED": "NOANSWER", "DECLINED": "NOANSWER",
    "ANSWERED_ELSEWHERE": "NOANSWER", "ANSWNOACC": "NOANSWER", "QUEUE_CALLBACK": "NOANSWER",
    "CCBS": "NOANSWER", "FULL": "NOANSWER", "LEAVEEMPTY": "NOANSWER",
    "BUSY": "BUSY", "UNAVAILABLE": "UNAVAILABLE", "BLOCKED": "FAILED", "CONGESTION": "FAILED",
    "FORBIDDEN_NOCLASS": "FAILED", "FORBIDDEN_NORULE": "FAILED", "?": "??",
}


def status_from_legs(legs: list[Leg]) -> str:
    """OK iff an extension / external party / voicemail / service answered; otherwise the status
    maps the exit cause of the last detail line."""
    for lg in legs:
        if lg.t_answer is not None and lg.dtype in ANSWER_TYPES:
            return "OK"
    if not legs:
        return "FAILED"
    return _STATUS_OF_CAUSE.get(legs[-1].cause, "NOANSWER")


_NV_MAGIC = 4 * exp(-0.5) / 2.0 ** 0.5  # random.NV_MAGICCONST
NEVER = 1 << 62
_DAY_MS = 86_400_000


class Pause:
    """A member's pause: planned (with a reason or none), after-call work or automatic."""

    __slots__ = ("end", "kind", "op", "queue", "reason", "start")

    def __init__(self, op: int, start: int, end: int, reason: str, queue: str | None,
                 kind: str):
        self.op, self.start, self.end = op, start, end
        self.reason, self.queue, self.kind = reason, queue, kind


class Engine(QueueMixin, RoutingMixin, OriginMixin):
    def __init__(self, directory: Directory, *, seed: int, start: date, days: int,
                 calls_per_day: int, tz: str = "Europe/Rome",
                 scenario: Scenario | str | None = None):
        self.d = directory
        self.sc = sc = get_scenario(scenario)
        self.seed = seed
        self.rng = random.Random(seed)
        self._rand = self.rng.random
        self._ct_maps: dict[tuple[str, int], bytes] = {}
        self._night_cache: dict[int, bool] = {}
        self.start = start
        self.days = days
        self.cpd = calls_per_day
        self.tz = ZoneInfo(tz)
        years = range(start.year - 1, (start + timedelta(days=days + 60)).year + 1)
        self.hol = _holidays.country_holidays("IT", years=list(years))
        nops = len(directory.operators)
        self.busy = [0] * nops  # the phone rings or talks until
        self.qfree = [0] * nops  # queues may present calls again from (rest interval, pauses)
        self.last_q = [0] * nops
        self.gw_heap: dict[str, list[int]] = {g: [] for g in directory.gateways}
        self.gw_limit = {g.name: g.channel_limit for g in directory.gateways.values()}
        self.outage: dict[str, tuple[int, int]] = {}  # gateway -> the day's down window
        self.q_heap: dict[str, list[int]] = {q: [] for q in directory.queues}
        self.rr: dict[str, int] = {q: 0 for q in directory.queues}
        self.seq_box = [0]  # the PBX's call sequence (shared by the tenants of one PBX)
        self.stats = {"inbound_rejected_full": 0, "outbound_blocked": 0, "skipped_no_operator": 0,
                      "redials": 0, "callbacks": 0, "reserved_callbacks": 0}
        self.gw_primary = {g.name: g.numbers[0] for g in directory.gateways.values()}
        # recurring customers: a pool of numbers reused by inbound callers
        self.pool = [numbers.external_number(self.rng, p_mobile=0.5, p_intl=0.02)
                     for _ in range(sc.caller_pool)]
        self.pool_set = set(self.pool)
        # number -> end of its current call: a person is in one call at a time (customers
        # and missed callers only; fresh numbers are drawn at random)
        self.line_busy: dict[str, int] = {}
        self.pauses: list[Pause] = []
        self._dyn_pause_end = [0] * nops
        self._build_shifts()
        self._plan_pauses()
        self._did_cum = list(itertools.accumulate(x.weight for x in directory.dids))
        self._h24_did = next((x for x in directory.dids
                              if x.checktime is None and x.kind != "fax"), None)
        self.ddi_ops = [o.idx for o in directory.operators if int(o.extension) < 300]
        # per-operator account choice: (accounts, weights, total weight, {account: ip:port})
        self._acc = [(tuple(a for a, _k in o.accounts), tuple(o.account_weights),
                      sum(o.account_weights),
                      {a: f"{o.ip}:{5060 + k}" for k, (a, _kd) in enumerate(o.accounts)})
                     for o in directory.operators]
        self._gw_e164 = {g: numbers.to_e164(n) for g, n in self.gw_primary.items()}
        # cumulative weights for Random.choices-equivalent draws (same draws, same picks)
        self._bc_cum = list(itertools.accumulate((5, 3, 1, 1)))
        self._svc_cum = list(itertools.accumulate(x[3] for x in directory.services))
        self._ivr_cum = {k: list(itertools.accumulate(o[0] for o in v.options))
                         for k, v in directory.ivrs.items()}
        self._campaign_q = next((q for q in directory.queues.values() if q.outbound), None)
        self._tenant = directory.tenant
        self.visits: list[tuple[Call, Leg]] = []  # queue lines, for the truth tables
        self.pending: list[tuple] = []  # (t, order, handler name, payload)
        self._pending_n = 0
        self.ledger = MissedLedger()
        self.team = CallbackTeam(self)

    # ------------------------------------------------------------------ random helpers
    def _lognorm(self, mu: float, sigma: float) -> float:
        """``Random.lognormvariate`` inlined (same draws, same value)."""
        rand = self._rand
        while True:
            u1 = rand()
            u2 = 1.0 - rand()
            z = _NV_MAGIC * (u1 - 0.5) / u2
            if z * z / 4.0 <= -log(u2):
                return exp(mu + z * sigma)

    def _ri(self, a: int, b: int) -> int:
        """Uniform integer in [a, b] (faster than Random.randint, same determinism)."""
        return a + int(self._rand() * (b - a + 1))

    def _patience(self) -> int:
        """How long a caller waits before hanging up (ms); some never do."""
        rand = self._rand
        if rand() < self.sc.p_patient:
            return 10**12
        # (expovariate(1 / mean) inlined)
        return int(1000 * (2 + -log(1.0 - rand()) * self.sc.patience_mean_s))

    def _talk(self, mean_s: float) -> int:
        # lognormal with the given mean, sigma 0.8
        return int(1000 * max(3.0, self._lognorm(0, 0.8) * mean_s / 1.377))

    # ------------------------------------------------------------------ time helpers
    def local_ms(self, day: date, hh: int, mm: int = 0) -> int:
        # wall-clock arithmetic on the naive components, then localize (fold=0)
        naive = datetime(day.year, day.month, day.day) + timedelta(hours=hh, minutes=mm)
        dt = naive.replace(tzinfo=self.tz)
        return int(dt.timestamp()) * 1000

    def is_office_day(self, day: date) -> bool:
        return day.weekday() < 5 and day not in self.hol

    def ct_open(self, ct: str, t_ms: int) -> bool:
        """Whether checktime `ct` (directory rules: weekdays 1-7, from-to, holidays) is open:
        one byte per minute of the span, built per day on first use."""
        m = t_ms // 60000
        day = m // 1440
        cm = self._ct_maps.get((ct, day))
        if cm is None:
            cm = self._ct_maps[(ct, day)] = self._ct_day(ct, day * 86400)
        return cm[m - day * 1440] == 1

    def _ct_day(self, ct: str, t_s: int) -> bytes:
        """The open (1) / closed (0) minutes of the UTC day from t_s, from the local time of
        each quarter hour (zones change offset on quarter hours)."""
        spec = self.d.checktimes[ct]
        rules = [(set(r["weekdays"]), *(int(a) * 60 + int(b) for a, b in
                                        (r["from"].split(":"), r["to"].split(":"))))
                 for r in spec["rules"]]
        out = bytearray(1440)
        for qk in range(96):
            dt = datetime.fromtimestamp(t_s + qk * 900, self.tz)
            if spec.get("holidays") and dt.date() in self.hol:
                continue
            wd = dt.isoweekday()
            m0 = dt.hour * 60 + dt.minute
            for wds, lo, hi in rules:
                a, b = max(m0, lo), min(m0 + 15, hi)
                if wd in wds and a < b:
                    out[qk * 15 + a - m0:qk * 15 + b - m0] = b"\x01" * (b - a)
        return bytes(out)

    def next_open(self, ct: str, t_ms: int) -> int:
        """The first instant >= t_ms at which checktime `ct` opens (or t_ms if open)."""
        if self.ct_open(ct, t_ms):
            return t_ms
        day = datetime.fromtimestamp(t_ms / 1000, self.tz).date()
        spec = self.d.checktimes[ct]
        for k in range(15):
            d = day + timedelta(days=k)
            if spec.get("holidays") and d in self.hol:
                continue
            for r in sorted(spec["rules"], key=lambda r: r["from"]):
                if d.isoweekday() in r["weekdays"]:
                    h, m = map(int, r["from"].split(":"))
                    o = self.local_ms(d, h, m)
                    if o >= t_ms:
                        return o
        return t_ms + 14 * _DAY_MS

    def _night(self, t_ms: int) -> bool:
        """Local time between 20:00 and 07:00 (cached per quarter hour: zones change offset
        on quarter hours)."""
        key = t_ms // 900_000
        v = self._night_cache.get(key)
        if v is None:
            h = datetime.fromtimestamp(key * 900, self.tz).hour
            v = self._night_cache[key] = h >= 20 or h < 7
        return v

    # ------------------------------------------------------------------ shifts
    def _build_shifts(self) -> None:
        rng = random.Random(self.rng.random())
        ops = self.d.operators
        self.shift_starts: list[list[int]] = [[] for _ in ops]
        self.shift_ends: list[list[int]] = [[] for _ in ops]
        night_ops = [o.idx for o in ops if o.shift == "night"]
        for di in range(-1, self.days + 2):
            day = self.start + timedelta(days=di)
            office = self.is_office_day(day)
            for o in ops:
                for a, b in self._shift_of(rng, o, di, day, office, night_ops):
                    self.shift_starts[o.idx].append(a)
                    self.shift_ends[o.idx].append(b)
        for i in range(len(ops)):
            pairs = sorted(zip(self.shift_starts[i], self.shift_ends[i], strict=True))
            self.shift_starts[i] = [a for a, _ in pairs]
            self.shift_ends[i] = [b for _, b in pairs]
        self._lmap = self._minute_map(None)

    def _shift_of(self, rng, o: Operator, di: int, day: date, office: bool,
                  night_ops: list[int]) -> list[tuple[int, int]]:
        iv: list[tuple[int, int]] = []
        if o.shift == "night":
            k = night_ops.index(o.idx)
            if (di + k) % 2 == 0:
                iv.append((self.local_ms(day, 20), self.local_ms(day, 32, 30)))
            elif not office:
                iv.append((self.local_ms(day, 8, 30), self.local_ms(day, 20)))
        elif not office:
            if day.weekday() == 5 and rng.random() < 0.1:
                iv.append((self.local_ms(day, 9), self.local_ms(day, 13)))
        elif rng.random() < 0.05:
            pass  # absent (holiday / sick)
        else:
            j1 = self._ri(-20, 15)
            j2 = self._ri(-15, 30)
            if o.shift == "part_am":
                iv.append((self.local_ms(day, 8, 30 + j1), self.local_ms(day, 13, j2 % 30)))
            elif o.shift == "part_pm":
                iv.append((self.local_ms(day, 13, 30 + j1), self.local_ms(day, 18, j2)))
            elif o.shift == "manager":
                iv.append((self.local_ms(day, 9, j1 + 20), self.local_ms(day, 19, j2)))
            else:
                lunch = self._ri(0, 60)
                iv.append((self.local_ms(day, 8, 30 + j1), self.local_ms(day, 12, 30 + lunch)))
                iv.append((self.local_ms(day, 13, 30 + lunch), self.local_ms(day, 17, 45 + j2)))
        return iv

    def _plan_pauses(self) -> None:
        """Planned pauses of queue members (own generator): 0-3 per shift with a reason (or
        none), on the member's queues or queue-less; night shifts often pause around midnight.
        Queues present no call to a member during one (`_qmap`)."""
        sc = self.sc
        rng = random.Random(f"pbxlens-pauses-{self.seed}")
        queues_of = self.queues_of()
        reasons = [r for r, _w in sc.pause_reasons]
        rweights = [w for _r, w in sc.pause_reasons]
        lo_s, hi_s = sc.pause_s
        self.pause_starts: list[list[int]] = [[] for _ in self.d.operators]
        self.pause_ends: list[list[int]] = [[] for _ in self.d.operators]
        for o in self.d.operators:
            qs = queues_of.get(o.idx)
            if not qs:
                continue
            mine: list[Pause] = []
            for a, b in zip(self.shift_starts[o.idx], self.shift_ends[o.idx], strict=True):
                want = rng.choices(range(len(sc.pauses_per_shift)), sc.pauses_per_shift)[0]
                if o.shift == "night" and rng.random() < 0.6:
                    want += 1
                placed: list[tuple[int, int]] = []
                for k in range(want):
                    dur = rng.randint(lo_s, hi_s) * 1000 + rng.randint(0, 999)
                    for _try in range(12):
                        if k == 0 and o.shift == "night" and (b - a) > 10 * 3_600_000:
                            s = a + 3 * 3_600_000 + rng.randint(0, 3_000_000)
                        else:
                            lo, hi = a + 60_000, b - dur - 60_000
                            if hi <= lo:
                                break
                            s = rng.randint(lo, hi)
                        e = s + dur
                        if a < s and e < b and all(e + 1000 < x or s > y + 1000
                                                   for x, y in placed):
                            placed.append((s, e))
                            break
                for s, e in placed:
                    reason = rng.choices(reasons, rweights)[0]
                    q = None if rng.random() >= sc.p_queue_pause else "*"
                    mine.append(Pause(o.idx, s, e, reason, q, "planned"))
            mine.sort(key=lambda p: p.start)
            self.pauses.extend(mine)
            self.pause_starts[o.idx] = [p.start for p in mine]
            self.pause_ends[o.idx] = [p.end for p in mine]
        self._qmap = self._minute_map(self.pause_starts, self.pause_ends)

    def queues_of(self) -> dict[int, list[str]]:
        """Operator index -> ids of the inbound queues it is a member of (directory order)."""
        out: dict[int, list[str]] = {}
        for q in self.d.queues.values():
            if q.outbound:
                continue
            for i, _p in q.members:
                if q.id not in out.setdefault(i, []):
                    out[i].append(q.id)
        return out

    def _minute_map(self, p_starts, p_ends=None) -> list[bytearray]:
        """Per operator, one byte per minute of the simulated span: 0 = out (logged out, or
        paused when pauses are given) the whole minute, 1 = in the whole minute, 2 = ask
        ``logged()`` / ``q_avail()`` (a boundary inside the minute, or outside the span)."""
        lo = min((st[0] for st in self.shift_starts if st), default=0) // 60000 - 1
        # 30 days of "logged out" past the last shift end (queries never get that far)
        hi = max((en[-1] for en in self.shift_ends if en), default=0) // 60000 + 30 * 1440
        self._m0 = lo
        size = hi - lo
        maps: list[bytearray] = []
        for i, (st, en) in enumerate(zip(self.shift_starts, self.shift_ends, strict=True)):
            bm = bytearray(size)
            prev_end = None
            for a, b in zip(st, en, strict=True):
                x = -(-a // 60000) - lo  # first whole minute
                y = b // 60000 - lo  # end of the last whole minute
                if y > x:
                    bm[x:y] = b"\x01" * (y - x)
                if a % 60000:
                    bm[a // 60000 - lo] = 2
                if b % 60000:
                    bm[b // 60000 - lo] = 2
                if prev_end is not None and a < prev_end:  # overlap: keep bisect semantics
                    x = a // 60000 - lo
                    bm[x:prev_end // 60000 - lo + 1] = b"\x02" * (prev_end // 60000 - lo + 1 - x)
                prev_end = b if prev_end is None else max(prev_end, b)
            if p_starts is not None:
                for a, b in zip(p_starts[i], p_ends[i], strict=True):
                    x = -(-a // 60000) - lo
                    y = b // 60000 - lo
                    if y > x:
                        bm[x:y] = bytes(y - x)
                    bm[a // 60000 - lo] = 2
                    bm[b // 60000 - lo] = 2
            maps.append(bm)
        return maps

    def logged(self, i: int, t: int) -> bool:
        st = self.shift_starts[i]
        k = bisect.bisect_right(st, t) - 1
        return k >= 0 and t < self.shift_ends[i][k]

    def paused(self, i: int, t: int) -> bool:
        st = self.pause_starts[i]
        k = bisect.bisect_right(st, t) - 1
        return k >= 0 and t < self.pause_ends[i][k]

    def is_logged(self, i: int, t: int) -> bool:
        """``logged()`` through the per-minute map (same result)."""
        m = t // 60000 - self._m0
        bm = self._lmap[i]
        if 0 <= m < len(bm):
            v = bm[m]
            if v != 2:
                return v == 1
        return self.logged(i, t)

    def q_avail(self, i: int, t: int) -> bool:
        """Logged in and not on a planned pause (queues may present calls)."""
        m = t // 60000 - self._m0
        bm = self._qmap[i]
        if 0 <= m < len(bm):
            v = bm[m]
            if v != 2:
                return v == 1
        return self.logged(i, t) and not self.paused(i, t)

    def dynamic_pause(self, i: int, s: int, dur: int, reason: str, queue: str | None,
                      kind: str) -> int:
        """Pause member i from s for dur ms (after-call work, automatic pause) unless it is
        logged out or already paused then; clipped before its next planned pause and its shift
        end. Returns the end (s when no pause was taken)."""
        if s < self._dyn_pause_end[i] or not self.logged(i, s) or self.paused(i, s):
            return s
        e = s + dur
        k = bisect.bisect_right(self.pause_starts[i], s)
        if k < len(self.pause_starts[i]):
            e = min(e, self.pause_starts[i][k] - 1000)
        j = bisect.bisect_right(self.shift_starts[i], s) - 1
        e = min(e, self.shift_ends[i][j] - 1000)
        if e - s < 5000:
            return s
        self._dyn_pause_end[i] = e
        self.pauses.append(Pause(i, s, e, reason, queue, kind))
        if self.qfree[i] < e:
            self.qfree[i] = e
        return e

    # ------------------------------------------------------------------ gateways
    def gw_down(self, gw: str, t: int) -> bool:
        w = self.outage.get(gw)
        return w is not None and w[0] <= t < w[1]

    def gw_free(self, gw: str, t: int, extra: int) -> bool:
        if self.outage and self.gw_down(gw, t):
            return False
        h = self.gw_heap[gw]
        while h and h[0] <= t:
            heapq.heappop(h)
        return len(h) + extra < self.gw_limit[gw]

    # ------------------------------------------------------------------ arrivals
    def arrivals(self, day: date) -> list[tuple[int, int]]:
        rng = self.rng
        sc = self.sc
        f = sc.weekday_factor[day.weekday()] * (sc.holiday_factor if day in self.hol else 1.0)
        n = max(0, round(self.cpd * f * rng.uniform(0.93, 1.07)))
        hour_ms = [self.local_ms(day, h) for h in range(25)]
        out: list[tuple[int, int]] = []
        counts = [0, 0, 0]
        m0, m1 = sc.mix[0], sc.mix[0] + sc.mix[1]
        for _ in range(n):
            r = rng.random()
            counts[0 if r < m0 else 1 if r < m1 else 2] += 1
        office = self.is_office_day(day)
        for kind, prof in enumerate((sc.in_profile, sc.out_profile, sc.int_profile)):
            if not counts[kind]:
                continue
            if not office:  # weekend/holiday: flatten daytime a little
                prof = tuple(p if (h < 8 or h > 19) else p * 0.6 for h, p in enumerate(prof))
            hours = rng.choices(range(24), weights=prof, k=counts[kind])
            for h in hours:
                a = hour_ms[h]
                span = max(1000, hour_ms[h + 1] - a)
                out.append((a + int(rng.random() * span), kind))
        out.sort()
        return out

    def schedule(self, t: int, handler: str, payload) -> None:
        """A call the simulation causes later (see ``run``)."""
        self._pending_n += 1
        heapq.heappush(self.pending, (t, self._pending_n, handler, payload))

    def run(self) -> Iterator[list[Call]]:
        """Yield, day by day, the calls that start that day, in start order: the day's
        arrivals merged with the pending calls (a pending call first at equal instants), as
        `step` does one event at a time for the tenants of a provider's PBX."""
        handlers = (self.inbound, self.outbound, self.internal)
        pend = self.pending
        flush = self.ledger.flush
        took = self._took
        for di in range(self.days):
            self.begin_day(di)
            day_end = self._day_end
            calls: list[Call] = []
            for t, kind in self._arr:
                while pend and pend[0][0] <= t:
                    self._run_pending(calls)
                flush(t)
                c = handlers[kind](t)
                if c is not None:
                    took(calls, c)
            while pend and pend[0][0] < day_end:
                self._run_pending(calls)
            yield calls
        self.end_run()

    def _run_pending(self, calls: list[Call]) -> None:
        t, _n, handler, payload = heapq.heappop(self.pending)
        self.ledger.flush(t)
        c = getattr(self, handler)(t, payload)
        if c is not None:
            self._took(calls, c)

    def begin_day(self, di: int) -> None:
        day = self.start + timedelta(days=di)
        self._day_end = self.local_ms(day + timedelta(days=1), 0)
        t0 = self.local_ms(day, 0)
        self.line_busy = {k: v for k, v in self.line_busy.items() if v > t0}
        self.plan_day(day)
        self._arr = self.arrivals(day)
        self._ai = 0

    def next_t(self) -> int:
        """The instant of the day's next event (an arrival or a pending call), or NEVER."""
        a = self._arr[self._ai][0] if self._ai < len(self._arr) else NEVER
        pend = self.pending
        if pend and pend[0][0] < self._day_end and pend[0][0] <= a:
            return pend[0][0]
        return a

    def step(self, calls: list[Call]) -> None:
        """Simulate the next event: a pending call first when due no later than the arrival."""
        pend = self.pending
        ai = self._ai
        a = self._arr[ai][0] if ai < len(self._arr) else NEVER
        if pend and pend[0][0] <= a and pend[0][0] < self._day_end:
            t, _n, handler, payload = heapq.heappop(pend)
            self.ledger.flush(t)
            c = getattr(self, handler)(t, payload)
        else:
            t, kind = self._arr[ai]
            self._ai = ai + 1
            self.ledger.flush(t)
            c = (self.inbound, self.outbound, self.internal)[kind](t)
        if c is not None:
            self._took(calls, c)

    def end_run(self) -> None:
        self.pending.clear()  # calls caused past the last day are not simulated
        self.ledger.finish()

    def _took(self, calls: list[Call], c: Call) -> None:
        calls.append(c)
        if c.direction == "internal":
            return  # extensions only: nothing for the ledger or the customers' lines
        self.ledger.observe(c)
        num = c.caller if c.src_type == "ibl" else c.called
        if (num in self.pool_set or num in self.ledger.numbers) \
                and self.line_busy.get(num, 0) < c.t_end:
            self.line_busy[num] = c.t_end

    # ------------------------------------------------------------------ call helpers
    def _new_call(self, t: int) -> Call:
        c = Call()
        box = self.seq_box
        box[0] = seq = box[0] + 1
        c.seq = seq
        c.unique_id = f"{t // 1000}.{seq}"
        c.t_start = t
        c.tenant = self._tenant
        return c

    def _finish(self, c: Call, reserved: list[str]) -> Call:
        legs = c.legs
        if len(legs) > 1:
            legs.sort(key=_enter_key)
        # status_from_legs() and the first answer, in one pass
        best = None
        bt = 0
        end = c.t_end
        for lg in legs:
            ta = lg.t_answer
            if ta is not None and lg.dtype in ANSWER_TYPES and (best is None or ta < bt):
                best = lg
                bt = ta
            if lg.t_exit > end:
                end = lg.t_exit
        if best is not None:
            c.status = "OK"
            c.t_answer = bt
            c.answered_by = best.answered_by
            if c.t_up is None or c.t_up > bt:
                c.t_up = bt
        elif legs:
            c.status = _STATUS_OF_CAUSE.get(legs[-1].cause, "NOANSWER")
        else:
            c.status = "FAILED"
        c.t_end = end
        for gw in reserved:
            heapq.heappush(self.gw_heap[gw], end)
        return c

    def _pick_account(self, o: Operator) -> str:
        accs, weights, total, _ip = self._acc[o.idx]
        if len(accs) == 1:
            return accs[0]
        u = self._rand() * total
        for a, w in zip(accs, weights):  # noqa: B905 - same length by construction
            u -= w
            if u < 0:
                return a
        return accs[-1]

    def _free_op(self, t: int, exclude: int = -1, present: bool = True) -> int | None:
        rand = self._rand
        n = len(self.busy)
        busy = self.busy
        lmap = self._lmap
        m = t // 60000 - self._m0
        for _ in range(12):
            i = int(rand() * n)
            if i != exclude and busy[i] <= t:
                if not present:
                    return i
                v = lmap[i][m]
                if v == 1 or (v == 2 and self.logged(i, t)):
                    return i
        return None

    # ------------------------------------------------------------------ inbound
    def inbound(self, t: int, redial: tuple | None = None, did=None) -> Call | None:
        """An inbound call (`redial`: (caller, did) of a caller calling again; `did`: the
        number dialled, when an incident makes everyone call the same one)."""
        rng = self.rng
        rand = self._rand
        d = self.d
        sc = self.sc
        if did is not None:
            pass
        elif redial is None:
            if rand() < sc.p_forbidden_in:
                return self._forbidden_inbound(t)
            night = self._night_cache.get(t // 900_000)
            if night is None:
                night = self._night(t)
            if night and self._h24_did is not None and rand() < sc.night_h24_share:
                did = self._h24_did  # at night most callers use the 24-hour number
            else:
                did = d.dids[bisect.bisect(self._did_cum, rand() * self._did_cum[-1])]
        else:
            if self.line_busy.get(redial[0], 0) > t:
                return None  # the caller is on another call (a callback, say)
            did = redial[1]
        gw = did.gateway
        h = self.gw_heap[gw]
        while h and h[0] <= t:
            heapq.heappop(h)
        if len(h) >= self.gw_limit[gw] or (self.outage and self.gw_down(gw, t)):
            self.stats["inbound_rejected_full"] += 1  # the carrier rejects it: no CDR row
            return None
        reserved = [gw]
        c = self._new_call(t)
        c.direction = "in"
        c.src_type = "ibl"
        c.gateway = gw
        c.ip_port = d.gateways[gw].ip
        if redial is not None:
            caller = redial[0]
            anon = 1 if caller == "anonymous" else 0
            c.why = "redial"
        else:
            anon = 1 if rand() < sc.p_anonymous else 0
            if anon:
                caller = "anonymous"
            elif rand() < sc.p_known_caller:
                caller = self.pool[int(len(self.pool) * rand() ** 1.7)]
                if self.line_busy.get(caller, 0) > t:  # that customer is on another call
                    caller = numbers.external_number(rng, p_mobile=0.5, p_intl=0.02)
            else:
                caller = numbers.external_number(rng, p_mobile=0.5, p_intl=0.02)
        c.caller = caller
        c.anonymous = anon
        called = did.number
        kind, target = did.kind, did.target
        if kind == "local_exten":
            if redial is not None and len(redial) > 2:
                target = redial[2]
            else:
                target = d.operators[rng.choice(self.ddi_ops)].extension
            called = d.ddi_prefix + target
        c.called = called
        c.dst_type = kind
        ctx = CallContext(c, caller, anon, reserved, t + self._patience())
        now = t + self._ri(20, 400)
        if did.checktime:
            inh = self.ct_open(did.checktime, now)
            c.legs.append(Leg("checktime", did.checktime, d.checktimes[did.checktime]["name"],
                              "", caller, anon, now, now + self._ri(5, 60),
                              "" if inh else "CLOSED", ct_in=1 if inh else 0))
            now = c.legs[-1].t_exit
            if not inh:
                c.t_up = now
                vm_ext = self._closed_vm(kind, target)
                if vm_ext and rng.random() < 0.55:
                    self._voicemail(ctx, now + self._ri(6000, 15000), vm_ext)
                else:
                    c.t_end = now + self._ri(5000, 15000)
                return self._after_inbound(self._finish(c, reserved), did, target)
        self._route(ctx, now, kind, target)
        return self._after_inbound(self._finish(c, reserved), did, target)

    def burst(self, t: int, did) -> Call | None:
        return self.inbound(t, None, did)

    def _after_inbound(self, c: Call, did, target: str) -> Call:
        """A caller nobody answered may call again a few minutes later."""
        if c.status == "OK":
            for lg in c.legs:
                if lg.t_answer is not None and lg.dtype in _PERSON:
                    return c
        p = self.sc.p_redial * (0.5 if c.why == "redial" else 1.0)
        if self._rand() < p:
            lo, hi = self.sc.redial_s
            self.stats["redials"] += 1
            self.schedule(c.t_end + self._ri(lo * 1000, hi * 1000), "inbound",
                          (c.caller, did, target) if did.kind == "local_exten"
                          else (c.caller, did))
        return c

    def _forbidden_inbound(self, t: int) -> Call:
        """A call from an unknown inbound line: status FORBIDDEN, no path (L13666-13675)."""
        c = self._new_call(t)
        c.direction = "in"
        c.src_type = "ibl"
        c.caller = numbers.external_number(self.rng, p_mobile=0.4, p_intl=0.1)
        c.called = self.d.dids[0].number[:-2] + f"{self._ri(0, 99):02d}"
        c.ip_port = f"203.0.113.{self._ri(2, 250)}:5060"
        c.t_end = t + self._ri(50, 900)
        self._finish(c, [])
        c.status = "FORBIDDEN"
        return c

    def _closed_vm(self, kind: str, target: str) -> str:
        d = self.d
        if kind == "queue":
            return d.queues[target].voicemail_ext
        if kind == "callg":
            return d.ring_groups[target].voicemail_ext
        if kind == "local_exten":
            return target
        if kind == "fax":
            return ""
        q = next((q for q in d.queues.values() if q.voicemail_ext and not q.outbound), None)
        return q.voicemail_ext if q else ""

    def _route(self, ctx: CallContext, now: int, kind: str, target: str) -> None:
        if kind == "ivr":
            self._ivr(ctx, now, target)
        elif kind == "queue":
            self._queue(ctx, now, self.d.queues[target], 0)
        elif kind == "callg":
            self._group(ctx, now, target)
        elif kind == "fax":
            self._fax_in(ctx, now)
        else:
            self._direct(ctx, now, target)

    def _voicemail(self, ctx: CallContext, now: int, ext: str) -> None:
        rng = self.rng
        o = self.d.by_ext[ext]
        ans = now + self._ri(200, 1500)
        leave = ans + (self._ri(2000, 6000) if rng.random() < 0.35 else
                       self._ri(8000, 60000))
        ctx.call.legs.append(Leg("voicemail", ext, o.name, ext, ctx.caller, ctx.anon, now, leave,
                                 "NCC", t_answer=ans, answered_by=ext))
        if ctx.call.t_up is None:
            ctx.call.t_up = ans
        ctx.call.t_end = leave

    def _fax_in(self, ctx: CallContext, now: int) -> None:
        """A fax received by the PBX's fax server (a `fax` line, answered)."""
        fid, fname = self.d.fax
        ans = now + self._ri(300, 2000)
        ok = self._rand() < 0.9
        end = ans + (self._ri(20000, 180000) if ok else self._ri(2000, 9000))
        ctx.call.legs.append(Leg("fax", fid, fname, fid, ctx.caller, ctx.anon, now, end,
                                 "NCC", t_answer=ans, answered_by=fid))
        ctx.call.t_up = ans
        ctx.call.t_end = end

    def _ivr(self, ctx: CallContext, now: int, ivr_id: str) -> None:
        rng = self.rng
        ivr = self.d.ivrs[ivr_id]
        c = ctx.call
        ans = now + self._ri(50, 400)
        if c.t_up is None:
            c.t_up = ans
        r = rng.random()
        if r < 0.06:
            ex = ans + self._ri(2000, 15000)
            c.legs.append(Leg("ivr", ivr.id, ivr.name, "", ctx.caller, ctx.anon, now, ex,
                              "CANCELED", t_answer=ans))
            c.t_end = ex
            return
        if r < 0.085:
            ex = ans + self._ri(24000, 32000)
            c.legs.append(Leg("ivr", ivr.id, ivr.name, "", ctx.caller, ctx.anon, now, ex,
                              "NOANSWER", t_answer=ans))
            c.t_end = ex + 1000
            return
        ex = ans + self._ri(3000, 18000)
        c.legs.append(Leg("ivr", ivr.id, ivr.name, "", ctx.caller, ctx.anon, now, ex, "NCC",
                          t_answer=ans))
        # rng.choices(ivr.options, weights=...)[0], with precomputed cumulative weights
        cum = self._ivr_cum[ivr_id]
        _w, kind, target = ivr.options[bisect.bisect(cum, rng.random() * (cum[-1] + 0.0), 0,
                                                     len(cum) - 1)]
        self._route(ctx, ex + self._ri(10, 200), kind, target)

    def _answered_leg(self, lg: Leg, o: Operator, ta: int, end: int) -> None:
        acc = self._pick_account(o)
        lg.t_answer = ta
        lg.answered_by = acc
        lg.account = acc
        lg.t_exit = end
        lg.cause = "NCC"

    def _op_leg(self, o: Operator, src: str, anon: int, t: int) -> Leg:
        lg = Leg("local_exten", o.extension, o.name, o.extension, src, anon, t, t, "")
        lg.op = o.extension
        return lg


_PERSON = frozenset(("local_exten", "obl"))


_enter_key = attrgetter("t_enter")
