"""Missed callers and the operators who call them back.

`MissedLedger` is the simulator's own bookkeeping of the callback requests, written from the
rules of nexus_modules.md A.9 (not from pbxlens' SQL), over the calls exactly as the exports
show them (instants truncated to the second, `bill_secs` to the millisecond):

- a *missed call* is an inbound call (source `ibl`) that went through a queue and that no person
  answered (no answered `local_exten` or `obl` line; a voicemail does not count), from a caller
  with a number (not anonymous); it is placed at its start;
- a *closer* is an answered inbound call from the number with a person on it and bill_secs > 5
  (served inbound, R7), or an outbound call to the number with status OK and bill_secs > 5
  (handled with callback, R5); it is placed at its end, before a missed call of the same
  second (R11), and counts only when it started after the request's first call;
- missed calls between two closers form one request (R1, R2); the next closer closes it;
- an *attempt* is any outbound call to the number that started after the request's first call
  and ended by its closing (R6); unsuccessful ones are `num_recalled`.

The simulator never lets one number be in two calls at once (a person calls or is called on
one line), so a closer can never start before, and end after, a missed call of its number.

`CallbackTeam` decides, as the operators of the missed-calls page would, whom to call back and
when: minutes after the missed call during the team's hours (the callback checktime), the next
morning for calls missed at night; after an unsuccessful attempt another operator tries again
later; a request the caller closed by calling again (served) is not called back.
"""

from __future__ import annotations

import heapq
from math import exp, log

from .truth import Call

SUCCESS_MS = 5000  # success_min_billsec (5 s), strictly above: bill_secs > 5.000
_PERSON = frozenset(("local_exten", "obl"))
_NO_NUMBER = frozenset(("anonymous", "unknown", "restricted", ""))


class Request:
    """One callback request (a missed caller's episode) and what happened to it."""

    __slots__ = ("calls", "closed_by", "closed_s", "closure", "first_s", "last_s", "number",
                 "num_calls", "queue", "queue_id", "team", "tenant", "tried_by", "waiting")

    def __init__(self, tenant: str, number: str, first: Call):
        self.tenant = tenant
        self.number = number
        self.first_s = first.t_start // 1000
        self.calls: list[tuple[str, int, str]] = []  # missed calls: (unique_id, start s, queue)
        self.last_s = self.first_s
        self.num_calls = 0
        self.queue = ""
        self.queue_id = ""
        self.closure: str | None = None
        self.closed_s: int | None = None
        self.closed_by = ""  # unique_id of the closing call
        # the team's callbacks: (unique_id, start ms, operator extension, customer answered)
        self.team: list[tuple[str, int, str, bool]] = []
        self.tried_by: list[int] = []
        self.waiting = 0  # deferrals while no operator was free

    @property
    def key(self) -> str:
        """The request key pbxlens gives it: number|unique id of the first missed call."""
        return f"{self.number}|{self.calls[0][0]}"


class Contact:
    """An outbound call to a number with an open request: a possible attempt (R6)."""

    __slots__ = ("bill_ms", "end_s", "ext", "start_s", "status", "uid")

    def __init__(self, c: Call, bill_ms: int):
        self.uid = c.unique_id
        self.ext = c.caller_op or c.caller
        self.start_s = c.t_start // 1000
        self.end_s = c.t_end // 1000
        self.status = c.status
        self.bill_ms = bill_ms

    @property
    def success(self) -> bool:
        return self.status == "OK" and self.bill_ms > SUCCESS_MS


class _Number:
    __slots__ = ("contacts", "open", "requests")

    def __init__(self) -> None:
        self.requests: list[Request] = []
        self.open: Request | None = None
        self.contacts: list[Contact] = []


def _bill(c: Call) -> int:
    return c.t_end - c.t_answer if c.t_answer is not None else 0


class MissedLedger:
    def __init__(self) -> None:
        self.numbers: dict[str, _Number] = {}
        self._closers: list[tuple] = []  # (end s, order, start s, number, closure, uid)
        self._n = 0
        self.team: CallbackTeam | None = None

    def flush(self, t_ms: int) -> None:
        """Apply the closers that ended by t (at second resolution, before a missed call of
        the same second)."""
        h = self._closers
        if not h:
            return
        s = t_ms // 1000
        while h and h[0][0] <= s:
            end_s, _n, start_s, num, closure, c = heapq.heappop(h)
            st = self.numbers[num]
            r = st.open
            if r is not None and start_s > r.first_s:
                r.closure, r.closed_s, r.closed_by = closure, end_s, c
                st.open = None

    def _closer(self, c: Call, num: str, closure: str) -> None:
        self._n += 1
        heapq.heappush(self._closers, (c.t_end // 1000, self._n, c.t_start // 1000, num,
                                       closure, c.unique_id))

    def observe(self, c: Call) -> None:
        if c.src_type == "ibl":
            num = c.caller
            if c.anonymous or num in _NO_NUMBER:
                return
            person = queued = False
            for lg in c.legs:
                if lg.t_answer is not None and lg.dtype in _PERSON:
                    person = True
                elif lg.dtype == "queue":
                    queued = True
            if not person:
                if queued:
                    self._missed(c, num)
                return
            st = self.numbers.get(num)
            if st is not None and st.open is not None and c.status == "OK" \
                    and _bill(c) > SUCCESS_MS:
                self._closer(c, num, "served_inbound")
        elif c.direction == "out":
            num = c.called
            st = self.numbers.get(num)
            if st is None or st.open is None:
                return
            bill = _bill(c)
            st.contacts.append(Contact(c, bill))
            if c.status == "OK" and bill > SUCCESS_MS:
                self._closer(c, num, "handled_with_callback")

    def _missed(self, c: Call, num: str) -> None:
        st = self.numbers.get(num)
        if st is None:
            st = self.numbers[num] = _Number()
        r = st.open
        new = r is None
        if new:
            r = st.open = Request(c.tenant, num, c)
            st.requests.append(r)
        r.num_calls += 1
        r.last_s = c.t_start // 1000
        for lg in reversed(c.legs):
            if lg.dtype == "queue":
                r.queue = lg.dname or lg.did
                r.queue_id = lg.did
                break
        r.calls.append((c.unique_id, r.last_s, r.queue))
        if self.team is not None:
            self.team.on_missed(r, c, new)

    def finish(self) -> None:
        self.flush(1 << 62)

    def requests(self):
        """Every request with its attempts: (request, [Contact, ...]) in number order."""
        for num in sorted(self.numbers):
            st = self.numbers[num]
            for r in st.requests:
                yield r, [x for x in st.contacts if x.start_s > r.first_s
                          and (r.closed_s is None or x.end_s <= r.closed_s)]


class CallbackTeam:
    def __init__(self, eng) -> None:
        self.eng = eng
        self.sc = eng.sc
        eng.ledger.team = self
        self.ct = eng.d.callback_checktime
        self.queues_of = eng.queues_of()

    def _when(self, t: int, span: tuple[int, int]) -> int:
        """t plus a delay drawn log-uniformly in span (s), moved into the team's hours (the
        next opening plus up to 2.5 h when it falls outside)."""
        eng = self.eng
        lo, hi = span
        t = t + int(1000 * exp(log(lo) + (log(hi) - log(lo)) * eng._rand()))
        if self.ct is not None and not eng.ct_open(self.ct, t):
            t = eng.next_open(self.ct, t) + eng._ri(0, 9_000_000)
        return t

    def on_missed(self, r: Request, c: Call, new: bool) -> None:
        if new and self.eng._rand() < self.sc.p_callback:
            self.eng.schedule(self._when(c.t_end, self.sc.callback_delay_s), "callback_attempt",
                              r)

    def pick_operator(self, r: Request, t: int) -> int | None:
        """An operator free at t, a member of the missed call's queue when one is, and not one
        who already tried; None (and a later try) when nobody is free."""
        eng = self.eng
        if r.closure is not None:
            return None  # served meanwhile (the caller called again) or called back
        busy = eng.busy
        qid = r.queue_id
        cands = [i for i, qs in self.queues_of.items() if qid in qs] or list(self.queues_of)
        free = [i for i in cands if busy[i] <= t and eng.is_logged(i, t)]
        fresh = [i for i in free if i not in r.tried_by]
        pick = fresh or free
        if not pick:
            r.waiting += 1
            if r.waiting <= 12:
                eng.schedule(self._when(t, (180, 900)), "callback_attempt", r)
            return None
        return pick[int(eng._rand() * len(pick))]

    def after_attempt(self, r: Request, c: Call, o) -> None:
        eng = self.eng
        reached = any(lg.dtype == "obl" and lg.t_answer is not None for lg in c.legs)
        r.team.append((c.unique_id, c.t_start, o.extension, reached))
        r.tried_by.append(o.idx)
        if c.status == "OK" and _bill(c) > SUCCESS_MS:
            return
        if len(r.team) < self.sc.max_attempts and eng._rand() < self.sc.p_retry:
            eng.schedule(self._when(c.t_end, self.sc.retry_delay_s), "callback_attempt", r)
