"""Discrete-event call-center simulation.

Calls are processed in arrival order (a global time-ordered sweep). Shared resources carry their
state across calls: every operator has a ``busy until`` instant (ringing and talking both occupy
the operator), every gateway a heap of channel release instants. Because arrivals are processed in
time order and each call books resources only from its own arrival onwards, earlier callers are
served first (FIFO queues) and a gateway's channel limit can be checked exactly at arrival time.

Everything is driven by one ``random.Random(seed)``; no clock, no global random state, no
iteration over sets.
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
from .directory import Directory, Operator, Queue
from .truth import Call, Leg

# local-hour arrival profiles (relative weights)
IN_PROFILE = (0.8, 0.3, 0.15, 0.1, 0.1, 0.15, 0.4, 1.5, 4, 8, 10, 10, 7, 4, 5, 8, 9, 8, 5, 2,
              1.4, 1.2, 1.5, 1.8)
OUT_PROFILE = (0.05, 0.02, 0.01, 0.01, 0.01, 0.02, 0.1, 0.8, 5, 9, 10, 9, 5, 3, 6, 9, 9, 7, 3,
               0.6, 0.3, 0.2, 0.15, 0.1)
INT_PROFILE = (0.05, 0.02, 0.01, 0.01, 0.01, 0.02, 0.1, 0.8, 6, 9, 10, 9, 6, 4, 7, 9, 8, 6, 2,
               0.5, 0.2, 0.15, 0.1, 0.05)
WEEKDAY_FACTOR = tuple(f * 7 / 6.0 for f in (1.15, 1.1, 1.1, 1.1, 1.05, 0.3, 0.2))
HOLIDAY_FACTOR = 0.25
MIX = (0.5, 0.35, 0.15)  # inbound, outbound, internal

ANSWER_TYPES = frozenset(("local_exten", "obl", "voicemail", "service"))

_STATUS_OF_CAUSE = {
    "CANCELED": "CANCELED", "NOANSWER": "NOANSWER", "TIMEOUT": "NOANSWER",
    "JOINEMPTY": "NOANSWER", "CLOSED": "NOANSWER", "DECLINED": "NOANSWER",
    "ANSWERED_ELSEWHERE": "NOANSWER", "ANSWNOACC": "NOANSWER", "QUEUE_CALLBACK": "NOANSWER",
    "BUSY": "BUSY", "UNAVAILABLE": "UNAVAILABLE", "BLOCKED": "FAILED", "CONGESTION": "FAILED",
    "FORBIDDEN_NOCLASS": "FAILED", "FORBIDDEN_NORULE": "FAILED",
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
_PAT_L = 1 / 110  # inbound caller patience: 2 s + exponential, mean 110 s


class Engine:
    def __init__(self, directory: Directory, *, seed: int, start: date, days: int,
                 calls_per_day: int, tz: str = "Europe/Rome"):
        self.d = directory
        self.rng = random.Random(seed)
        self._rand = self.rng.random
        self._oh_cache: dict[int, bool] = {}
        self._night_cache: dict[int, bool] = {}
        self.start = start
        self.days = days
        self.cpd = calls_per_day
        self.tz = ZoneInfo(tz)
        years = range(start.year, (start + timedelta(days=days + 1)).year + 1)
        self.hol = _holidays.country_holidays("IT", years=list(years))
        nops = len(directory.operators)
        self.busy = [0] * nops
        self.last_q = [0] * nops
        self.gw_heap: dict[str, list[int]] = {g: [] for g in directory.gateways}
        self.gw_limit = {g.name: g.channel_limit for g in directory.gateways.values()}
        self.rr: dict[str, int] = {q: 0 for q in directory.queues}
        self.seq = 0
        self.stats = {"inbound_rejected_full": 0, "outbound_blocked": 0, "skipped_no_operator": 0}
        self.gw_primary = {g.name: g.numbers[0] for g in directory.gateways.values()}
        # recurring customers: a pool of numbers reused by inbound callers
        self.pool = [numbers.external_number(self.rng, p_mobile=0.5, p_intl=0.02)
                     for _ in range(4000)]
        self._build_shifts()
        self._did_cum = list(itertools.accumulate(x.weight for x in directory.dids))
        self._h24_did = next(x for x in directory.dids if x.checktime is None)
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

    # ------------------------------------------------------------------ time helpers
    def local_ms(self, day: date, hh: int, mm: int = 0) -> int:
        # wall-clock arithmetic on the naive components, then localize (fold=0)
        naive = datetime(day.year, day.month, day.day) + timedelta(hours=hh, minutes=mm)
        dt = naive.replace(tzinfo=self.tz)
        return int(dt.timestamp()) * 1000

    def is_office_day(self, day: date) -> bool:
        return day.weekday() < 5 and day not in self.hol

    def in_office_hours(self, t_ms: int) -> bool:
        key = t_ms // 60000
        v = self._oh_cache.get(key)
        if v is None:
            v = self._oh_cache[key] = self._in_office_hours(key * 60000)
        return v

    def _night(self, t_ms: int) -> bool:
        """Local time between 20:00 and 07:00."""
        key = t_ms // 60000
        v = self._night_cache.get(key)
        if v is None:
            h = datetime.fromtimestamp(key * 60, self.tz).hour
            v = self._night_cache[key] = h >= 20 or h < 7
        return v

    def _in_office_hours(self, t_ms: int) -> bool:
        dt = datetime.fromtimestamp(t_ms / 1000, self.tz)
        if dt.weekday() >= 5 or dt.date() in self.hol:
            return False
        m = dt.hour * 60 + dt.minute
        return 8 * 60 + 30 <= m < 18 * 60

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
                for a, b in iv:
                    self.shift_starts[o.idx].append(a)
                    self.shift_ends[o.idx].append(b)
        for i in range(len(ops)):
            pairs = sorted(zip(self.shift_starts[i], self.shift_ends[i], strict=True))
            self.shift_starts[i] = [a for a, _ in pairs]
            self.shift_ends[i] = [b for _, b in pairs]
        self._build_login_map()

    def _build_login_map(self) -> None:
        """Per operator, one byte per minute of the simulated span: 0 = logged out the whole
        minute, 1 = logged in the whole minute, 2 = ask ``logged()`` (a shift boundary inside
        the minute, overlapping intervals, or outside the span)."""
        lo = min((st[0] for st in self.shift_starts if st), default=0) // 60000 - 1
        # 30 days of "logged out" past the last shift end (queries never get that far)
        hi = max((en[-1] for en in self.shift_ends if en), default=0) // 60000 + 30 * 1440
        self._m0 = lo
        size = hi - lo
        self._lmap: list[bytearray] = []
        for st, en in zip(self.shift_starts, self.shift_ends, strict=True):
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
            self._lmap.append(bm)

    def logged(self, i: int, t: int) -> bool:
        st = self.shift_starts[i]
        k = bisect.bisect_right(st, t) - 1
        return k >= 0 and t < self.shift_ends[i][k]

    def is_logged(self, i: int, t: int) -> bool:
        """``logged()`` through the per-minute map (same result)."""
        m = t // 60000 - self._m0
        bm = self._lmap[i]
        if 0 <= m < len(bm):
            v = bm[m]
            if v != 2:
                return v == 1
        return self.logged(i, t)

    # ------------------------------------------------------------------ gateways
    def gw_free(self, gw: str, t: int, extra: int) -> bool:
        h = self.gw_heap[gw]
        while h and h[0] <= t:
            heapq.heappop(h)
        return len(h) + extra < self.gw_limit[gw]

    # ------------------------------------------------------------------ arrivals
    def arrivals(self, day: date) -> list[tuple[int, int]]:
        rng = self.rng
        f = WEEKDAY_FACTOR[day.weekday()] * (HOLIDAY_FACTOR if day in self.hol else 1.0)
        n = max(0, round(self.cpd * f * rng.uniform(0.93, 1.07)))
        hour_ms = [self.local_ms(day, h) for h in range(25)]
        out: list[tuple[int, int]] = []
        counts = [0, 0, 0]
        for _ in range(n):
            r = rng.random()
            counts[0 if r < MIX[0] else 1 if r < MIX[0] + MIX[1] else 2] += 1
        for kind, prof in enumerate((IN_PROFILE, OUT_PROFILE, INT_PROFILE)):
            if not counts[kind]:
                continue
            if f < 0.9:  # weekend/holiday: flatten daytime a little
                prof = tuple(p if (h < 8 or h > 19) else p * 0.6 for h, p in enumerate(prof))
            hours = rng.choices(range(24), weights=prof, k=counts[kind])
            for h in hours:
                a = hour_ms[h]
                span = max(1000, hour_ms[h + 1] - a)
                out.append((a + int(rng.random() * span), kind))
        out.sort()
        return out

    def run(self) -> Iterator[list[Call]]:
        """Yield, day by day, the calls that start that day, in start order."""
        for di in range(self.days):
            day = self.start + timedelta(days=di)
            handlers = (self.inbound, self.outbound, self.internal)
            calls = [c for t, kind in self.arrivals(day) if (c := handlers[kind](t)) is not None]
            yield calls

    # ------------------------------------------------------------------ call helpers
    def _new_call(self, t: int) -> Call:
        c = Call()
        self.seq = seq = self.seq + 1
        c.seq = seq
        c.unique_id = f"{t // 1000}.{seq}"
        c.t_start = t
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

    def _talk(self, mean_s: float) -> int:
        # lognormal with the given mean, sigma 0.8
        return int(1000 * max(3.0, self._lognorm(0, 0.8) * mean_s / 1.377))

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
    def inbound(self, t: int) -> Call | None:
        rng = self.rng
        rand = self._rand
        d = self.d
        night = self._night_cache.get(t // 60000)
        if night is None:
            night = self._night(t)
        if night and rand() < 0.6:
            did = self._h24_did  # at night most callers use the H24 support number
        else:
            did = d.dids[bisect.bisect(self._did_cum, rand() * self._did_cum[-1])]
        gw = did.gateway
        h = self.gw_heap[gw]
        while h and h[0] <= t:
            heapq.heappop(h)
        if len(h) >= self.gw_limit[gw]:  # gw_free(gw, t, 0)
            self.stats["inbound_rejected_full"] += 1
            return None
        reserved = [gw]
        c = self._new_call(t)
        c.direction = "in"
        c.src_type = "ibl"
        c.gateway = gw
        c.ip_port = d.gateways[gw].ip
        anon = 1 if rand() < 0.03 else 0
        if anon:
            caller = "anonymous"
        elif rand() < 0.6:
            caller = self.pool[int(len(self.pool) * rand() ** 2.5)]
        else:
            caller = numbers.external_number(rng, p_mobile=0.5, p_intl=0.02)
        c.caller = caller
        c.anonymous = anon
        called = did.number
        kind, target = did.kind, did.target
        if kind == "local_exten":
            i = rng.choice(self.ddi_ops)
            target = d.operators[i].extension
            called = "0287654" + target
        c.called = called
        c.dst_type = kind
        legs = c.legs
        # (expovariate(1 / 110) inlined)
        patience = 10**12 if rand() < 0.3 else int(1000 * (2 + -log(1.0 - rand()) / _PAT_L))
        ctx = _Ctx(c, caller, anon, reserved, t + patience)
        now = t + self._ri(20, 400)
        if did.checktime:
            inh = self.in_office_hours(now)
            legs.append(Leg("checktime", did.checktime, d.checktimes[did.checktime]["name"], "",
                            caller, anon, now, now + self._ri(5, 60),
                            "" if inh else "CLOSED", ct_in=1 if inh else 0))
            now = legs[-1].t_exit
            if not inh:
                c.t_up = now
                vm_ext = self._closed_vm(kind, target)
                if vm_ext and rng.random() < 0.55:
                    self._voicemail(ctx, now + self._ri(6000, 15000), vm_ext)
                else:
                    c.t_end = now + self._ri(5000, 15000)
                return self._finish(c, reserved)
        self._route(ctx, now, kind, target)
        return self._finish(c, reserved)

    def _closed_vm(self, kind: str, target: str) -> str:
        d = self.d
        if kind == "queue":
            return d.queues[target].voicemail_ext
        if kind == "callg":
            return d.ring_groups[target].voicemail_ext
        if kind == "local_exten":
            return target
        return d.queues["704"].voicemail_ext

    def _route(self, ctx: _Ctx, now: int, kind: str, target: str) -> None:
        if kind == "ivr":
            self._ivr(ctx, now, target)
        elif kind == "queue":
            self._queue(ctx, now, self.d.queues[target], 0)
        elif kind == "callg":
            self._group(ctx, now, target)
        else:
            self._direct(ctx, now, target)

    def _voicemail(self, ctx: _Ctx, now: int, ext: str) -> None:
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

    def _ivr(self, ctx: _Ctx, now: int, ivr_id: str) -> None:
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

    # ------------------------------------------------------------------ queues
    def _queue(self, ctx: _Ctx, t0: int, q: Queue, depth: int) -> None:
        rng = self.rng
        d = self.d
        ops = d.operators
        busy = self.busy
        logged = self.logged
        c = ctx.call
        legs = c.legs
        caller, anon = ctx.caller, ctx.anon
        qleg = Leg("queue", q.id, q.name, "", caller, anon, t0, t0, "", t_enqueue=t0)
        welcome_end = t0 + int(rng.uniform(*q.welcome_s) * 1000)
        qleg.welcome_end = welcome_end
        legs.append(qleg)
        if c.t_up is None:
            c.t_up = t0
        members = q.members
        if not any(logged(i, t0) for i, _p in members):
            qleg.t_exit = t0 + self._ri(5, 300)
            qleg.cause = "JOINEMPTY"
            self._queue_failover(ctx, qleg.t_exit, q, depth)
            return
        deadline = t0 + q.max_wait_s * 1000
        patience = max(ctx.patience, t0 + 3000)
        ring_ms = q.ring_timeout_s * 1000
        t = welcome_end
        lin_ptr = 0
        nmem = len(members)
        strategy = q.strategy
        while True:
            if t >= patience or t >= deadline:
                cut = min(patience, deadline)
                qleg.t_exit = cut
                if cut == patience:
                    qleg.cause = "CANCELED"
                    c.t_end = cut
                else:
                    qleg.cause = "NOANSWER"
                    self._queue_failover(ctx, cut, q, depth)
                return
            free = [(i, p, k) for k, (i, p) in enumerate(members) if busy[i] <= t and logged(i, t)]
            if not free:
                nxt = None
                for i, _p in members:
                    if logged(i, t) and (nxt is None or busy[i] < nxt):
                        nxt = busy[i]
                if nxt is None or nxt <= t:
                    nxt = t + 15000
                t = nxt + self._ri(0, 1500)
                continue
            if strategy == "ringall":
                pmin = min(p for _i, p, _k in free)
                chosen = [i for i, p, _k in free if p == pmin]
            else:
                pmin = min(p for _i, p, _k in free)
                cand = [(i, k) for i, p, k in free if p == pmin or strategy == "linear"]
                if strategy == "linear":
                    cand.sort(key=lambda x: (x[1] - lin_ptr) % nmem)
                    chosen = [cand[0][0]]
                    lin_ptr = cand[0][1] + 1
                elif strategy == "rrmemory":
                    ptr = self.rr[q.id]
                    cand.sort(key=lambda x: (x[1] - ptr) % nmem)
                    chosen = [cand[0][0]]
                    self.rr[q.id] = cand[0][1] + 1
                elif strategy == "leastrecent":
                    lq = self.last_q
                    chosen = [min(cand, key=lambda x: (lq[x[0]], x[1]))[0]]
                else:  # random
                    chosen = [cand[int(rng.random() * len(cand))][0]]
            # ring round
            ring = []  # (op, outcome, t_end_or_answer)
            best_t = None
            best_i = None
            for i in chosen:
                u = rng.random()
                if u < 0.02:
                    ring.append((i, "UNAVAILABLE", t + self._ri(20, 600)))
                elif u < 0.035:
                    ring.append((i, "BUSY", t + self._ri(300, 1500)))
                elif u < 0.06:
                    ring.append((i, "DECLINED", t + self._ri(1500, 8000)))
                elif u < 0.19:
                    ring.append((i, "NOANSWER", t + ring_ms))
                else:
                    ta = t + int(1000 * min(q.ring_timeout_s - 0.3,
                                            0.8 + rng.lognormvariate(1.2, 0.6)))
                    ring.append((i, "ANSWER", ta))
                    if best_t is None or ta < best_t:
                        best_t, best_i = ta, i
            rnd_legs = []
            if best_t is not None and best_t < patience and best_t < deadline:
                for i, oc, te in ring:
                    o = ops[i]
                    lg = Leg("local_exten", o.extension, o.name, o.extension, caller, anon, t, te,
                             "")
                    lg.op = o.extension
                    lg.queue = q.id
                    lg.visit = qleg
                    if i == best_i:
                        pass  # filled in by _queue_answer
                    elif oc in ("ANSWER", "NOANSWER") or te > best_t:
                        lg.t_exit = best_t
                        lg.cause = "ANSWERED_ELSEWHERE"
                        lg.cc_outcome = "ANSWERED_ELSEWHERE"
                        busy[i] = max(busy[i], best_t + self._ri(0, 800))
                    else:
                        _set_fail(lg, oc)
                        busy[i] = max(busy[i], te)
                    legs.append(lg)
                    rnd_legs.append((i, lg))
                ans_leg = next(lg for i, lg in rnd_legs if i == best_i)
                self._queue_answer(ctx, q, qleg, ans_leg, best_i, best_t)
                return
            cut = min(patience, deadline, t + ring_ms)
            last = t
            for i, oc, te in ring:
                o = ops[i]
                lg = Leg("local_exten", o.extension, o.name, o.extension, caller, anon, t, te, "")
                lg.op = o.extension
                lg.queue = q.id
                lg.visit = qleg
                if oc in ("ANSWER", "NOANSWER") or te > cut:
                    lg.t_exit = cut
                    if cut == patience:
                        lg.cause = "CANCELED"
                        lg.cc_outcome = "CANCELED"
                    else:
                        lg.cause = "NOANSWER"
                        lg.cc_outcome = "TIMEOUT"
                else:
                    _set_fail(lg, oc)
                busy[i] = max(busy[i], lg.t_exit)
                if lg.t_exit > last:
                    last = lg.t_exit
                legs.append(lg)
            if cut == patience and patience <= deadline:
                qleg.t_exit = cut
                qleg.cause = "CANCELED"
                c.t_end = cut
                return
            t = max(last, t + 500) + q.retry_s * 1000

    def _queue_failover(self, ctx: _Ctx, now: int, q: Queue, depth: int) -> None:
        rng = self.rng
        c = ctx.call
        if q.overflow_to and depth == 0 and rng.random() < q.p_overflow:
            self._queue(ctx, now + self._ri(50, 500), self.d.queues[q.overflow_to], depth + 1)
            return
        if rng.random() < q.p_voicemail:
            self._voicemail(ctx, now + self._ri(1000, 6000), q.voicemail_ext)
        else:
            c.t_end = now + self._ri(1000, 6000)

    def _queue_answer(self, ctx: _Ctx, q: Queue, qleg: Leg, lg: Leg, i: int, ta: int) -> None:
        rng = self.rng
        ops = self.d.operators
        o = ops[i]
        c = ctx.call
        acc = self._pick_account(o)
        lg.t_answer = ta
        lg.answered_by = acc
        lg.account = acc
        qleg.t_answer = ta
        qleg.answered_by = acc
        talk = self._talk(q.talk_mean_s)
        r = rng.random()
        xfer = None
        if r < 0.1:
            tx = ta + min(talk, int(rng.uniform(20, 120) * 1000))
            j = self._free_op(tx, exclude=i)
            if j is not None:
                xfer = ("BLINDXFER" if r < 0.06 else "ATXFER", j, tx)
        if xfer is None:
            end = ta + talk
            lg.t_exit = end
            lg.cause = "NCC"
            who = "agent" if rng.random() < 0.5 else "caller"
            lg.hangup_by = who
            lg.cc_outcome = "NCC-AGENT" if who == "agent" else "NCC-CALLER"
            qleg.t_exit = end
            qleg.cause = "NCC"
            c.t_end = end
            self.busy[i] = end + int(rng.uniform(*q.wrapup_s) * 1000)
            self.last_q[i] = end
            return
        kind, j, tx = xfer
        oj = ops[j]
        tleg = Leg("local_exten", oj.extension, oj.name, oj.extension, o.extension, 0, tx, tx, "")
        tleg.op = oj.extension
        if kind == "BLINDXFER":
            lg.t_exit = tx + self._ri(200, 1500)
            tleg.t_enter = lg.t_exit
            t_x = lg.t_exit
            tleg.t_exit = t_x
            if rng.random() < 0.85:
                ta2 = t_x + self._ri(2000, 12000)
                self._answered_leg(tleg, oj, ta2, ta2 + self._talk(120))
                c.legs.append(tleg)
                self.busy[j] = tleg.t_exit + 3000
                c.t_end = tleg.t_exit
            else:
                tleg.t_exit = t_x + 20000
                tleg.cause = "NOANSWER"
                self.busy[j] = tleg.t_exit
                c.legs.append(tleg)
                self._voicemail(ctx, tleg.t_exit + self._ri(100, 800), oj.extension)
        else:
            ta2 = tx + self._ri(2000, 9000)
            t_x = ta2 + self._ri(8000, 45000)
            lg.t_exit = t_x
            self._answered_leg(tleg, oj, ta2, t_x + self._talk(120))
            c.legs.append(tleg)
            self.busy[j] = tleg.t_exit + 3000
            c.t_end = tleg.t_exit
        lg.cause = kind
        lg.cc_outcome = "TRANSFER"
        lg.hangup_by = "agent"
        qleg.t_exit = lg.t_exit
        qleg.cause = "ATXFER" if kind == "ATXFER" else "NCC"
        self.busy[i] = lg.t_exit + int(rng.uniform(*q.wrapup_s) * 1000)
        self.last_q[i] = lg.t_exit

    def _answered_leg(self, lg: Leg, o: Operator, ta: int, end: int) -> None:
        acc = self._pick_account(o)
        lg.t_answer = ta
        lg.answered_by = acc
        lg.account = acc
        lg.t_exit = end
        lg.cause = "NCC"

    # ------------------------------------------------------------------ ring groups
    def _group(self, ctx: _Ctx, t0: int, gid: str) -> None:
        rng = self.rng
        d = self.d
        g = d.ring_groups[gid]
        c = ctx.call
        legs = c.legs
        caller, anon = ctx.caller, ctx.anon
        gleg = Leg("callg", g.id, g.name, "", caller, anon, t0, t0, "")
        legs.append(gleg)
        t = t0 + self._ri(50, 300)
        busy = self.busy
        patience = max(ctx.patience, t0 + 3000)
        for prio in g.priorities:
            if t >= patience:
                gleg.t_exit = patience
                gleg.cause = "CANCELED"
                c.t_end = patience
                return
            round_end = t + g.ring_s * 1000
            entries = []  # (leg, answer time or None, op idx or None for mobile)
            for i in prio:
                o = d.operators[i]
                lg = Leg("local_exten", o.extension, o.name, o.extension, caller, anon, t, t, "")
                lg.op = o.extension
                legs.append(lg)
                if o.ufwd_to and rng.random() < 0.5:
                    lg.cause = "UFWD"
                    lg.t_exit = t + self._ri(10, 200)
                    tgt = d.by_ext[o.ufwd_to]
                    lg2 = Leg("local_exten", tgt.extension, tgt.name, tgt.extension, caller, anon,
                              lg.t_exit, lg.t_exit, "")
                    lg2.op = tgt.extension
                    legs.append(lg2)
                    entries.append((lg2, self._ring_outcome(tgt.idx, lg.t_exit, round_end), tgt.idx))
                    continue
                if busy[i] > t:
                    lg.cause = "BUSY"
                    lg.t_exit = t + self._ri(100, 900)
                    if o.cfwd_to and rng.random() < 0.7:
                        lg.cause = "CFWD"
                        tgt = d.by_ext[o.cfwd_to]
                        lg2 = Leg("local_exten", tgt.extension, tgt.name, tgt.extension, caller,
                                  anon, lg.t_exit, lg.t_exit, "")
                        lg2.op = tgt.extension
                        legs.append(lg2)
                        entries.append((lg2, self._ring_outcome(tgt.idx, lg.t_exit, round_end),
                                        tgt.idx))
                    continue
                oc = self._ring_outcome(i, t, round_end)
                if o.fork2mobile and rng.random() < 0.8 and self._reserve_any(ctx, o, t):
                    gw = ctx.last_gw
                    tm = t + self._ri(100, 600)
                    ml = Leg("obl", d.operators[i].outbound_config, gw, o.mobile, caller, anon,
                             tm, tm, "", msrc=self._gw_e164[gw],
                             mdst=numbers.to_e164(o.mobile))
                    ml.gateway = gw
                    ml.op = o.extension
                    legs.append(ml)
                    lg.cause = "FORK2MOBILE"
                    r = rng.random()
                    mo = None
                    if r < 0.45:
                        mo = tm + self._ri(4000, 14000)
                        if mo >= round_end:
                            mo = None
                    if mo is not None and rng.random() < 0.1:
                        entries.append((ml, ("ANSWNOACC", mo), None))
                    else:
                        entries.append((ml, ("ANSWER", mo) if mo else ("NOANSWER", round_end), None))
                    entries.append((lg, oc, i))
                    continue
                entries.append((lg, oc, i))
            # resolve the round
            best = None
            for lg, (oc, te), _i in entries:
                if oc == "ANSWER" and (best is None or te < best[1]):
                    best = (lg, te)
            if best is not None and best[1] < patience:
                ta = best[1]
                for lg, (oc, te), i in entries:
                    if lg is best[0]:
                        continue
                    if lg.cause in ("FORK2MOBILE",):
                        lg.t_exit = ta
                    elif oc in ("ANSWER", "NOANSWER") or te > ta:
                        lg.t_exit = ta
                        lg.cause = "ANSWERED_ELSEWHERE"
                    else:
                        lg.t_exit = te
                        lg.cause = oc
                    if lg.t_exit < lg.t_enter:
                        lg.t_exit = lg.t_enter
                    if i is not None:
                        busy[i] = max(busy[i], lg.t_exit)
                blg = best[0]
                talk = self._talk(150)
                if blg.dtype == "obl":
                    blg.t_answer = ta
                    blg.answered_by = blg.dnum
                    blg.t_exit = ta + talk
                    blg.cause = "NCC"
                    acc = blg.dnum
                else:
                    o = d.by_ext[blg.did]
                    self._answered_leg(blg, o, ta, ta + talk)
                    acc = blg.answered_by
                    busy[o.idx] = blg.t_exit + 2000
                gleg.t_answer = ta
                gleg.answered_by = acc
                gleg.t_exit = blg.t_exit
                gleg.cause = "NCC"
                c.t_end = blg.t_exit
                return
            cut = min(patience, round_end)
            for lg, (oc, te), i in entries:
                if lg.cause == "FORK2MOBILE":
                    lg.t_exit = cut
                elif oc in ("ANSWER", "NOANSWER") or te > cut:
                    lg.t_exit = cut
                    lg.cause = "CANCELED" if cut == patience else "NOANSWER"
                else:
                    lg.t_exit = te
                    lg.cause = oc
                if lg.t_exit < lg.t_enter:
                    lg.t_exit = lg.t_enter
                if i is not None:
                    busy[i] = max(busy[i], lg.t_exit)
            if cut == patience:
                gleg.t_exit = cut
                gleg.cause = "CANCELED"
                c.t_end = cut
                return
            t = round_end + self._ri(50, 300)
        gleg.t_exit = t
        gleg.cause = "NOANSWER"
        if rng.random() < 0.6:
            self._voicemail(ctx, t + self._ri(500, 3000), g.voicemail_ext)
        else:
            c.t_end = t + self._ri(500, 3000)

    def _ring_outcome(self, i: int, t: int, round_end: int) -> tuple[str, int]:
        rng = self.rng
        if self.busy[i] > t:
            return ("BUSY", t + self._ri(200, 1200))
        u = rng.random()
        if u < 0.03:
            return ("UNAVAILABLE", t + self._ri(20, 500))
        if not self.is_logged(i, t) or u < 0.35:
            return ("NOANSWER", round_end)
        ta = t + int(1000 * (1 + self._lognorm(1.5, 0.5)))
        if ta >= round_end:
            return ("NOANSWER", round_end)
        return ("ANSWER", ta)

    def _reserve_any(self, ctx: _Ctx, o: Operator, t: int) -> bool:
        cfg = self.d.outbound[o.outbound_config]
        for gw in cfg.fallback:
            if self.gw_free(gw, ctx.call.t_start, ctx.reserved.count(gw)):
                ctx.reserved.append(gw)
                ctx.last_gw = gw
                return True
        return False

    # ------------------------------------------------------------------ direct dial
    def _direct(self, ctx: _Ctx, t0: int, ext: str, depth: int = 0) -> None:
        rng = self.rng
        d = self.d
        c = ctx.call
        o = d.by_ext[ext]
        lg = Leg("local_exten", o.extension, o.name, o.extension, ctx.caller, ctx.anon, t0, t0, "")
        lg.op = o.extension
        c.legs.append(lg)
        if o.ufwd_to and depth < 3:
            lg.cause = "UFWD"
            lg.t_exit = t0 + self._ri(10, 200)
            self._direct(ctx, lg.t_exit, o.ufwd_to, depth + 1)
            return
        end_ring = t0 + 25000
        oc, te = self._ring_outcome(o.idx, t0, end_ring)
        patience = max(ctx.patience, t0 + 3000)
        if oc == "ANSWER" and te < patience:
            self._answered_leg(lg, o, te, te + self._talk(150))
            self.busy[o.idx] = lg.t_exit + 2000
            c.t_end = lg.t_exit
            return
        if oc in ("ANSWER", "NOANSWER"):
            oc, te = "NOANSWER", end_ring
        if patience < te:
            lg.t_exit = patience
            lg.cause = "CANCELED"
            c.t_end = patience
            return
        lg.t_exit = te
        lg.cause = oc
        self.busy[o.idx] = max(self.busy[o.idx], te)
        if rng.random() < 0.7:
            self._voicemail(ctx, te + self._ri(100, 800), ext)
        else:
            c.t_end = te

    # ------------------------------------------------------------------ outbound
    def outbound(self, t: int) -> Call | None:
        rng = self.rng
        d = self.d
        i = self._free_op(t)
        if i is None:
            i = self._free_op(t, present=False)
            if i is None:
                self.stats["skipped_no_operator"] += 1
                return None
        o = d.operators[i]
        c = self._new_call(t)
        c.direction = "out"
        c.src_type = "local_exten"
        c.dst_type = "obl"
        c.caller = o.extension
        c.caller_name = o.name
        c.caller_op = o.extension
        acc = self._pick_account(o)
        c.peer = acc
        c.ip_port = self._acc[i][3][acc]
        dialled = numbers.external_number(rng, p_mobile=0.4, p_intl=0.03, p_tollfree=0.03)
        c.called = dialled
        camp = ""
        if o.org_unit in ("OU1", "OU2") and rng.random() < 0.35:
            # rng.choices(d.billing_codes, weights=(5, 3, 1, 1))[0][0]
            cum = self._bc_cum
            camp = d.billing_codes[bisect.bisect(cum, rng.random() * (cum[-1] + 0.0), 0, 3)][0]
        elif rng.random() < 0.04:
            camp = d.billing_codes[2][0]
        c.acode = camp
        c.campaign = camp or None
        cfg = d.outbound[o.outbound_config]
        reserved: list[str] = []
        gw = None
        gw_heap, gw_limit = self.gw_heap, self.gw_limit
        for g in cfg.fallback:
            h = gw_heap[g]
            while h and h[0] <= t:
                heapq.heappop(h)
            if len(h) < gw_limit[g]:  # gw_free(g, t, 0)
                gw = g
                break
        now = t + self._ri(50, 400)
        if gw is None:
            self.stats["outbound_blocked"] += 1
            lg = Leg("obl", cfg.name, "", dialled, o.extension, 0, now, now + self._ri(5, 80),
                     "BLOCKED", acode=camp)
            c.legs.append(lg)
            c.t_end = lg.t_exit
            self.busy[i] = max(self.busy[i], c.t_end)
            return self._finish(c, reserved)
        reserved.append(gw)
        c.gateway = gw
        lg = Leg("obl", cfg.name, gw, dialled, o.extension, 0, now, now, "",
                 msrc=self._gw_e164[gw], mdst=numbers.to_e164(dialled), acode=camp)
        lg.gateway = gw
        lg.op = o.extension
        lg.account = acc
        c.legs.append(lg)
        u = rng.random()
        if u < 0.62:
            ta = now + self._ri(4000, 25000)
            lg.t_answer = ta
            lg.answered_by = dialled
            lg.t_exit = ta + self._talk(140 if not camp else 90)
            lg.cause = "NCC"
            c.t_up = ta
        elif u < 0.76:
            lg.t_exit = now + self._ri(30000, 45000)
            lg.cause = "NOANSWER"
        elif u < 0.84:
            lg.t_exit = now + self._ri(1500, 6000)
            lg.cause = "BUSY"
        elif u < 0.95:
            lg.t_exit = now + self._ri(3000, 25000)
            lg.cause = "CANCELED"
        elif u < 0.99:
            lg.t_exit = now + self._ri(1000, 4000)
            lg.cause = "UNAVAILABLE"
        else:
            lg.t_exit = now + self._ri(200, 1500)
            lg.cause = "CONGESTION"
        c.t_end = lg.t_exit + self._ri(0, 300)
        self.busy[i] = max(self.busy[i], c.t_end + 1000)
        return self._finish(c, reserved)

    # ------------------------------------------------------------------ internal
    def internal(self, t: int) -> Call | None:
        rng = self.rng
        d = self.d
        i = self._free_op(t)
        if i is None:
            i = self._free_op(t, present=False)
            if i is None:
                self.stats["skipped_no_operator"] += 1
                return None
        o = d.operators[i]
        c = self._new_call(t)
        c.direction = "internal"
        c.src_type = "local_exten"
        c.caller = o.extension
        c.caller_name = o.name
        c.caller_op = o.extension
        acc = self._pick_account(o)
        c.peer = acc
        c.ip_port = self._acc[i][3][acc]
        now = t + self._ri(20, 200)
        if rng.random() < 0.08:
            # rng.choices(d.services, weights=...)[0], with precomputed cumulative weights
            cum = self._svc_cum
            code, sid, sname, _w = d.services[bisect.bisect(cum, rng.random() * (cum[-1] + 0.0),
                                                            0, len(cum) - 1)]
            c.called = code
            c.dst_type = "service"
            ta = now + self._ri(50, 300)
            lg = Leg("service", sid, sname, code, o.extension, 0, now,
                     ta + self._ri(1500, 30000), "NCC", t_answer=ta, answered_by=code)
            c.legs.append(lg)
            c.t_up = ta
            c.t_end = lg.t_exit
            self.busy[i] = max(self.busy[i], c.t_end)
            return self._finish(c, [])
        j = rng.randrange(len(d.operators) - 1)
        if j >= i:
            j += 1
        oj = d.operators[j]
        c.called = oj.extension
        c.dst_type = "local_exten"
        lg = Leg("local_exten", oj.extension, oj.name, oj.extension, o.extension, 0, now, now, "")
        lg.op = oj.extension
        c.legs.append(lg)
        end_ring = now + 30000
        oc, te = self._ring_outcome(j, now, end_ring)
        hang = now + self._ri(4000, 28000) if rng.random() < 0.4 else end_ring + 10**6
        if oc == "ANSWER" and te < hang:
            self._answered_leg(lg, oj, te, te + self._talk(80))
            self.busy[j] = max(self.busy[j], lg.t_exit + 1000)
        elif oc in ("ANSWER", "NOANSWER"):
            if hang < end_ring:
                lg.t_exit = hang
                lg.cause = "CANCELED"
            else:
                lg.t_exit = end_ring
                lg.cause = "NOANSWER"
                self.busy[j] = max(self.busy[j], end_ring)
                if rng.random() < 0.25:
                    ctx = _Ctx(c, o.extension, 0, [], 10**15)
                    self._voicemail(ctx, end_ring + self._ri(100, 600), oj.extension)
        else:
            lg.t_exit = te
            lg.cause = oc
        c.t_end = max(c.t_end, lg.t_exit)
        self._finish(c, [])
        self.busy[i] = max(self.busy[i], c.t_end)
        return c


class _Ctx:
    __slots__ = ("anon", "call", "caller", "last_gw", "patience", "reserved")

    def __init__(self, call: Call, caller: str, anon: int, reserved: list[str], patience: int):
        self.call = call
        self.caller = caller
        self.anon = anon
        self.reserved = reserved
        self.patience = patience
        self.last_gw = None


_enter_key = attrgetter("t_enter")


def _set_fail(lg: Leg, oc: str) -> None:
    lg.cause = oc
    lg.cc_outcome = {"DECLINED": "REFUSED", "BUSY": "BUSY", "UNAVAILABLE": "UNAVAILABLE"}[oc]
