"""Queue visits: welcome message, waiting line, ring rounds, answer, transfer and failover.

A visit is a `queue` line; each presentation to an operator is a `local_exten` line with
`visit` pointing at it and a Call Center outcome (`cc_outcome`). The queue line's Call Center
exit cause is `cc_cause` (the CDR's own exit cause is `cause`):

| what happened                                   | cause (CDR)      | cc_cause (CC CDR) |
|-------------------------------------------------|------------------|-------------------|
| answered, normal clearing or blind transfer     | NCC              | NCC / TRANSFER    |
| answered, attended transfer                     | ATXFER           | TRANSFER          |
| caller hung up during the welcome message       | CANCELED         | CANCELED_NOWAIT   |
| caller hung up later                            | CANCELED         | CANCELED          |
| max waiting time                                | NOANSWER         | TIMEOUT           |
| no member available at entry / while waiting    | JOINEMPTY / LEAVEEMPTY | QUEUE_JOINEMPTY / LEAVEEMPTY |
| max length reached at entry                     | FULL             | FULL              |
| the queue's own time control is closed          | CLOSED           | CLOSED            |
| the caller asked to be called back (5 / CCBS)   | QUEUE_CALLBACK / CCBS | same         |

Welcome: enter -> welcome end (the message) -> enqueue (after an optional position
announcement): the CDR's enqueue time and the Call Center CDR's welcome end and enqueue time.
"""

from __future__ import annotations

import heapq
from math import log

from .directory import Queue
from .truth import CallContext, Leg

WORK_CODES = ("11", "12", "21", "22", "31")
_FAIL_CC = {"DECLINED": "REFUSED", "BUSY": "BUSY", "UNAVAILABLE": "UNAVAILABLE",
            "CONGESTION": "CONGESTION", "CFWD": "CFWD", "FORWARD": "FORWARD"}


def _set_fail(lg: Leg, oc: str) -> None:
    lg.cause = oc
    lg.cc_outcome = _FAIL_CC[oc]


class QueueMixin:
    def _queue(self, ctx: CallContext, t0: int, q: Queue, depth: int) -> None:
        c = ctx.call
        qleg = Leg("queue", q.id, q.name, "", ctx.caller, ctx.anon, t0, t0, "")
        c.legs.append(qleg)
        self.visits.append((c, qleg))
        if c.t_up is None:
            c.t_up = t0
        if q.checktime is not None and not self.ct_open(q.checktime, t0):
            return self._queue_refused(ctx, q, qleg, "CLOSED", "CLOSED", depth, False)
        q_avail, qmap = self.q_avail, self._qmap
        m = t0 // 60000 - self._m0  # q_avail() through the minute map, inlined
        for i, _p in q.members:
            v = qmap[i][m]
            if v == 1 or (v == 2 and q_avail(i, t0)):
                break
        else:
            return self._queue_refused(ctx, q, qleg, "JOINEMPTY", "QUEUE_JOINEMPTY", depth, True)
        heap = self.q_heap[q.id]
        while heap and heap[0] <= t0:
            heapq.heappop(heap)
        if q.max_len and len(heap) >= q.max_len:
            return self._queue_refused(ctx, q, qleg, "FULL", "FULL", depth, True)
        lo, hi = q.welcome_s
        welcome_end = t0 + int((lo + (hi - lo) * self._rand()) * 1000)
        lo, hi = q.announce_s
        enq = welcome_end + (int((lo + (hi - lo) * self._rand()) * 1000) if hi else 0)
        patience = max(ctx.patience, t0 + 3000)
        if patience < enq:  # hung up during the welcome message or the announcement
            qleg.t_exit = patience
            qleg.cause = "CANCELED"
            if patience < welcome_end:
                qleg.cc_cause = "CANCELED_NOWAIT"
            else:
                qleg.welcome_end = welcome_end
                qleg.cc_cause = "CANCELED"
            c.t_end = patience
            heapq.heappush(heap, patience)
            return None
        qleg.welcome_end = welcome_end
        qleg.t_enqueue = enq
        # a caller who presses 5 (position reservation) or accepts CCBS while waiting
        reserve = 10**15
        if q.p_reserve:
            reserve = enq + 45000 + int(-log(1.0 - self._rand()) / q.p_reserve * 60000)
        self._queue_wait(ctx, q, qleg, enq, patience, reserve, depth)
        heapq.heappush(heap, qleg.t_answer if qleg.t_answer is not None else qleg.t_exit)
        return None

    def _queue_refused(self, ctx, q: Queue, qleg: Leg, cause: str, cc: str, depth: int,
                       overflow: bool) -> None:
        """Never queued (closed, join-empty, full): the line ends at once, then the failover."""
        qleg.t_exit = qleg.t_enter + self._ri(5, 300)
        qleg.cause = cause
        qleg.cc_cause = cc
        self._queue_failover(ctx, qleg.t_exit, q, depth, overflow)

    def _queue_wait(self, ctx: CallContext, q: Queue, qleg: Leg, t: int, patience: int,
                    reserve: int, depth: int) -> None:
        """Wait, ring rounds and the way out: the loop runs one ring round per iteration."""
        busy, qfree, q_avail, qmap, m0 = self.busy, self.qfree, self.q_avail, self._qmap, self._m0
        members = q.members
        deadline = qleg.t_enter + q.max_wait_s * 1000
        leave = min(patience, reserve)  # the caller leaves the line (hangs up / reserves)
        ring_ms = q.ring_timeout_s * 1000
        lin_ptr = 0
        while True:
            if t >= leave or t >= deadline:
                return self._queue_out(ctx, q, qleg, min(leave, deadline), patience, reserve,
                                       deadline, depth)
            m = t // 60000 - m0  # q_avail() through the minute map, inlined
            free = [(i, p, k) for k, (i, p) in enumerate(members)
                    if busy[i] <= t and qfree[i] <= t
                    and ((v := qmap[i][m]) == 1 or (v == 2 and q_avail(i, t)))]
            if not free:
                nxt = None
                for i, _p in members:
                    if q_avail(i, t):
                        x = busy[i] if busy[i] > qfree[i] else qfree[i]
                        if nxt is None or x < nxt:
                            nxt = x
                if nxt is None:  # every member left or paused: instant overflow
                    qleg.t_exit = t
                    qleg.cause = "LEAVEEMPTY"
                    qleg.cc_cause = "LEAVEEMPTY"
                    self._queue_failover(ctx, t, q, depth, True)
                    return None
                if nxt <= t:
                    nxt = t + 15000
                t = nxt + self._ri(0, 1500)
                continue
            chosen, lin_ptr = self._choose(q, free, lin_ptr)
            nt = self._ring_round(ctx, q, qleg, chosen, t, leave, deadline, ring_ms, depth)
            if nt is None:
                return None
            t = nt

    def _choose(self, q: Queue, free: list, lin_ptr: int) -> tuple[list[int], int]:
        strategy = q.strategy
        pmin = min(p for _i, p, _k in free)
        if strategy == "ringall":
            return [i for i, p, _k in free if p == pmin], lin_ptr
        nmem = len(q.members)
        cand = [(i, k) for i, p, k in free if p == pmin or strategy == "linear"]
        if strategy == "linear":
            cand.sort(key=lambda x: (x[1] - lin_ptr) % nmem)
            return [cand[0][0]], cand[0][1] + 1
        if strategy == "rrmemory":
            ptr = self.rr[q.id]
            cand.sort(key=lambda x: (x[1] - ptr) % nmem)
            self.rr[q.id] = cand[0][1] + 1
            return [cand[0][0]], lin_ptr
        if strategy == "leastrecent":
            lq = self.last_q
            return [min(cand, key=lambda x: (lq[x[0]], x[1]))[0]], lin_ptr
        return [cand[int(self._rand() * len(cand))][0]], lin_ptr

    def _ring_outcomes(self, q: Queue, chosen: list[int], t: int, ring_ms: int):
        """(op, outcome, instant) per chosen member: the answer instant for ANSWER, else the
        end of the presentation."""
        rand, ri = self._rand, self._ri
        ring = []
        for i in chosen:
            u = rand()
            if u < 0.8:
                ta = t + int(1000 * min(q.ring_timeout_s - 0.3,
                                        0.8 + self._lognorm(1.2, 0.6)))
                ring.append((i, "ANSWER", ta))
            elif u < 0.93:
                ring.append((i, "NOANSWER", t + ring_ms))
            elif u < 0.95:
                ring.append((i, "UNAVAILABLE", t + ri(20, 600)))
            elif u < 0.965:
                ring.append((i, "BUSY", t + ri(300, 1500)))
            elif u < 0.99:
                ring.append((i, "DECLINED", t + ri(1500, 8000)))
            elif u < 0.993:
                ring.append((i, "CONGESTION", t + ri(100, 2000)))
            elif u < 0.997:
                ring.append((i, "CFWD", t + ri(500, 3000)))
            else:
                ring.append((i, "FORWARD", t + ri(500, 3000)))
        return ring

    def _ring_round(self, ctx: CallContext, q: Queue, qleg: Leg, chosen: list[int], t: int,
                    leave: int, deadline: int, ring_ms: int, depth: int) -> int | None:
        """One presentation round. Returns the next instant to try, or None when the visit
        ended (answered, or the caller left while ringing)."""
        ops = self.d.operators
        busy = self.busy
        caller, anon = ctx.caller, ctx.anon
        legs = ctx.call.legs
        ring = self._ring_outcomes(q, chosen, t, ring_ms)
        best_t = best_i = None
        for i, oc, te in ring:
            if oc == "ANSWER" and (best_t is None or te < best_t):
                best_t, best_i = te, i
        picker = None
        if self._rand() < 0.006:  # a colleague picks the ringing call up (**<ext>)
            tp = t + self._ri(2500, max(3000, ring_ms - 1500))
            j = self._free_op(tp, exclude=chosen[0])
            if j is not None and j not in chosen and (best_t is None or tp < best_t):
                best_t, best_i, picker = tp, chosen[0], j
        qid = q.id
        if best_t is not None and best_t < leave and best_t < deadline:
            ans_leg = None
            for i, oc, te in ring:
                o = ops[i]
                lg = Leg("local_exten", o.extension, o.name, o.extension, caller, anon, t, t, "")
                lg.op = o.extension
                lg.queue = qid
                lg.visit = qleg
                legs.append(lg)
                if i == best_i and picker is not None:
                    lg.t_exit = best_t
                    lg.cause = lg.cc_outcome = "PICKUP"
                    busy[i] = max(busy[i], best_t)
                elif i == best_i:
                    ans_leg = lg  # filled in by _queue_answer
                elif oc in ("ANSWER", "NOANSWER") or te > best_t:
                    lg.t_exit = best_t
                    lg.cause = "ANSWERED_ELSEWHERE"
                    lg.cc_outcome = "ANSWERED_ELSEWHERE"
                    busy[i] = max(busy[i], best_t + self._ri(0, 800))
                else:
                    lg.t_exit = te
                    _set_fail(lg, oc)
                    busy[i] = max(busy[i], te)
                    self._autopause(q, i, oc, te)
            if picker is not None:
                best_i = picker
                ans_leg = self._op_leg(ops[picker], caller, anon, best_t)
                ans_leg.queue = q.id
                ans_leg.visit = qleg
                legs.append(ans_leg)
            self._queue_answer(ctx, q, qleg, ans_leg, best_i, best_t, depth)
            return None
        cut = min(leave, deadline, t + ring_ms)
        last = t
        for i, oc, te in ring:
            o = ops[i]
            lg = Leg("local_exten", o.extension, o.name, o.extension, caller, anon, t, t, "")
            lg.op = o.extension
            lg.queue = qid
            lg.visit = qleg
            legs.append(lg)
            if oc in ("ANSWER", "NOANSWER") or te > cut:
                lg.t_exit = cut
                if cut == leave and leave < deadline:
                    lg.cause = "CANCELED"
                    lg.cc_outcome = "CANCELED"
                elif cut == deadline:
                    lg.cause = "NOANSWER"
                    lg.cc_outcome = "NOANSWER"  # the queue gave up while it rang
                else:
                    lg.cause = "NOANSWER"
                    lg.cc_outcome = "TIMEOUT"  # the ring timeout
                    self._autopause(q, i, "TIMEOUT", cut)
            else:
                lg.t_exit = te
                _set_fail(lg, oc)
                self._autopause(q, i, oc, te)
            busy[i] = max(busy[i], lg.t_exit)
            if lg.t_exit > last:
                last = lg.t_exit
        if cut == leave and leave < deadline:
            return cut  # the loop's next check ends the visit at `leave`
        return max(last, t + 500) + q.retry_s * 1000

    def _autopause(self, q: Queue, i: int, oc: str, te: int) -> None:
        """A member who refuses or lets a call ring out is paused (not with ringall, L9621)."""
        if q.autopause and q.strategy != "ringall" and oc in ("DECLINED", "TIMEOUT"):
            lo, hi = self.sc.autopause_s
            self.dynamic_pause(i, te, self._ri(lo * 1000, hi * 1000), "", q.id, "auto")

    def _queue_out(self, ctx: CallContext, q: Queue, qleg: Leg, cut: int, patience: int,
                   reserve: int, deadline: int, depth: int) -> None:
        """The caller left unanswered: hung up, asked for a callback, or timed out."""
        c = ctx.call
        qleg.t_exit = cut
        if cut == deadline and deadline <= min(patience, reserve):
            qleg.cause = "NOANSWER"
            qleg.cc_cause = "TIMEOUT"
            self._queue_failover(ctx, cut, q, depth, True)
        elif cut == reserve and reserve < patience:
            qleg.cause = qleg.cc_cause = "CCBS" if self._rand() < 0.25 else "QUEUE_CALLBACK"
            c.t_end = cut + self._ri(4000, 12000)  # the IVR that takes the number
            self.stats["reserved_callbacks"] += 1
            self.schedule(cut + self._ri(60_000, 600_000), "reserve_callback",
                          (q.id, ctx.caller, 0))
        else:
            qleg.cause = qleg.cc_cause = "CANCELED"
            c.t_end = cut

    def _queue_failover(self, ctx: CallContext, now: int, q: Queue, depth: int,
                        overflow: bool) -> None:
        rng = self.rng
        c = ctx.call
        if overflow and q.overflow_to and depth == 0 and rng.random() < q.p_overflow:
            self._queue(ctx, now + self._ri(50, 500), self.d.queues[q.overflow_to], depth + 1)
            return
        if q.p_dre and rng.random() < q.p_dre:  # the missed-calls dynamic routing (A.3.1)
            ex = now + self._ri(300, 2500)
            c.legs.append(Leg("dre", f"missed-{q.id}", f"VoipToCall {q.name}", "", ctx.caller,
                              ctx.anon, now, ex, "NCC"))
            now = ex
            if rng.random() < 0.6:
                c.t_end = now + self._ri(3000, 9000)  # message, then hang-up
                return
        if q.voicemail_ext and rng.random() < q.p_voicemail:
            self._voicemail(ctx, now + self._ri(1000, 6000), q.voicemail_ext)
        else:
            c.t_end = now + self._ri(1000, 6000)

    def _queue_answer(self, ctx: CallContext, q: Queue, qleg: Leg, lg: Leg, i: int, ta: int,
                      depth: int) -> None:
        rng = self.rng
        o = self.d.operators[i]
        acc = self._pick_account(o)
        lg.t_answer = ta
        lg.answered_by = acc
        lg.account = acc
        qleg.t_answer = ta
        qleg.answered_by = acc
        talk = self._talk(q.talk_mean_s)
        r = rng.random()
        for qid, p in q.transfers:  # the operator sends the caller to another queue
            if r < p and depth < 2:
                return self._transfer_to_queue(ctx, q, qleg, lg, i, ta, talk, qid, depth)
            r -= p
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
            qleg.cause = qleg.cc_cause = "NCC"
            ctx.call.t_end = end
            self._wrap_up(q, qleg, i, end)
            return None
        kind, j, tx = xfer
        if kind == "ATXFER" and rng.random() < self.sc.p_transfer_fail:
            return self._transfer_failed(ctx, q, qleg, lg, i, ta, talk, j, tx)
        self._transfer_to_op(ctx, q, qleg, lg, i, kind, j, tx)
        return None

    def _wrap_up(self, q: Queue, qleg: Leg | None, i: int, end: int) -> None:
        """Rest interval (no queue call), sometimes a wrap-up pause and a work code."""
        rng = self.rng
        self.busy[i] = end + self._ri(500, 2500)
        lo, hi = q.wrapup_s
        self.qfree[i] = max(self.qfree[i], end + int((lo + (hi - lo) * self._rand()) * 1000))
        self.last_q[i] = end
        sc = self.sc
        if rng.random() < sc.p_work_code and qleg is not None:
            qleg.work_code = WORK_CODES[int(self._rand() * len(WORK_CODES))]
        if rng.random() < sc.p_after_call_work:
            lo, hi = sc.after_call_work_s
            self.dynamic_pause(i, end, self._ri(lo * 1000, hi * 1000), "wrap-up", None, "acw")

    def _transfer_to_op(self, ctx: CallContext, q: Queue, qleg: Leg, lg: Leg, i: int,
                        kind: str, j: int, tx: int) -> None:
        rng = self.rng
        c = ctx.call
        o, oj = self.d.operators[i], self.d.operators[j]
        tleg = self._op_leg(oj, o.extension, 0, tx)
        if kind == "BLINDXFER":
            lg.t_exit = tx + self._ri(200, 1500)
            tleg.t_enter = tleg.t_exit = t_x = lg.t_exit
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
            lg.t_exit = ta2 + self._ri(8000, 45000)
            self._answered_leg(tleg, oj, ta2, lg.t_exit + self._talk(120))
            c.legs.append(tleg)
            self.busy[j] = tleg.t_exit + 3000
            c.t_end = tleg.t_exit
        lg.cause = kind
        lg.cc_outcome = "TRANSFER"
        lg.hangup_by = "agent"
        qleg.t_exit = lg.t_exit
        qleg.cause = "ATXFER" if kind == "ATXFER" else "NCC"
        qleg.cc_cause = "TRANSFER"
        self._wrap_up(q, qleg, i, lg.t_exit)

    def _transfer_failed(self, ctx: CallContext, q: Queue, qleg: Leg, lg: Leg, i: int,
                         ta: int, talk: int, j: int, tx: int) -> None:
        """An attended transfer that does not complete: the colleague refuses, is busy,
        unreachable or does not answer (the operator takes the caller back), or the caller
        hangs up while on hold (ATXFER_START on the operator's line)."""
        c = ctx.call
        o, oj = self.d.operators[i], self.d.operators[j]
        tleg = self._op_leg(oj, o.extension, 0, tx)
        u = self._rand()
        if u < 0.15:  # the caller hangs up during the consultation
            end = tx + self._ri(5000, 40000)
            tleg.t_exit = end
            tleg.cause = "CANCELED"
            lg.cause = "ATXFER_START"
            lg.cc_outcome = "NCC-CALLER"
            lg.hangup_by = "caller"
        else:
            cause, dt = (("ATXFER_REFUSED", (2000, 9000)) if u < 0.4 else
                         ("ATXFER_BUSY", (300, 1500)) if u < 0.6 else
                         ("ATXFER_UNAVAILABLE", (100, 900)) if u < 0.75 else
                         ("ATXFER_NOANSWER", (18000, 25000)))
            tleg.t_exit = tx + self._ri(*dt)
            tleg.cause = cause
            end = max(ta + talk, tleg.t_exit + self._ri(5000, 60000))
            lg.cause = "NCC"
            who = "agent" if self._rand() < 0.5 else "caller"
            lg.hangup_by = who
            lg.cc_outcome = "NCC-AGENT" if who == "agent" else "NCC-CALLER"
        self.busy[j] = max(self.busy[j], tleg.t_exit)
        c.legs.append(tleg)
        lg.t_exit = end
        qleg.t_exit = end
        qleg.cause = qleg.cc_cause = "NCC"
        c.t_end = end
        self._wrap_up(q, qleg, i, end)

    def _transfer_to_queue(self, ctx: CallContext, q: Queue, qleg: Leg, lg: Leg, i: int,
                           ta: int, talk: int, qid: str, depth: int) -> None:
        """A blind transfer of the caller to another queue (a new visit of the same call)."""
        tx = ta + min(talk, self._ri(15000, 90000))
        lg.t_exit = tx
        lg.cause = "BLINDXFER"
        lg.cc_outcome = "TRANSFER"
        lg.hangup_by = "agent"
        qleg.t_exit = tx
        qleg.cause = "NCC"
        qleg.cc_cause = "TRANSFER"
        self._wrap_up(q, qleg, i, tx)
        ctx.patience = max(ctx.patience, tx + self._patience())  # waiting anew
        self._queue(ctx, tx + self._ri(100, 900), self.d.queues[qid], depth + 1)
