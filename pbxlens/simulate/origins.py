"""Calls that start inside the PBX: operators' outbound and internal calls, outbound campaign
calls through the campaign queue, callbacks to missed callers, the queue's automatic callback,
conference dial-outs, faxes and the Call Campaign service's notifications."""

from __future__ import annotations

import bisect
import heapq
from datetime import date

from . import numbers
from .directory import Operator
from .truth import Call, CallContext, Leg

# shares of the unanswered outcomes of a call to an external number
_NOT_ANSWERED = (("NOANSWER", 0.368, (30000, 45000)), ("BUSY", 0.21, (1500, 6000)),
                 ("CANCELED", 0.29, (3000, 25000)), ("UNAVAILABLE", 0.105, (1000, 4000)),
                 ("CONGESTION", 0.027, (200, 1500)))


class OriginMixin:
    # ------------------------------------------------------------------ building blocks
    def _caller_call(self, t: int, o: Operator, i: int, direction: str) -> Call:
        c = self._new_call(t)
        c.direction = direction
        c.src_type = "local_exten"
        c.caller = o.extension
        c.caller_name = o.name
        c.caller_op = o.extension
        acc = self._pick_account(o)
        c.peer = acc
        c.ip_port = self._acc[i][3][acc]
        return c

    def _line(self, cfg_name: str, t: int) -> str | None:
        """The first gateway of the outbound configuration with a free channel at t."""
        gw_heap, gw_limit = self.gw_heap, self.gw_limit
        for g in self.d.outbound[cfg_name].fallback:
            if self.outage and self.gw_down(g, t):
                continue
            h = gw_heap[g]
            while h and h[0] <= t:
                heapq.heappop(h)
            if len(h) < gw_limit[g]:
                return g
        return None

    def _external(self, lg: Leg, now: int, p_answer: float, talk_mean: float) -> int | None:
        """Outcome of a call to an external party on the `obl` line `lg`; the answer instant."""
        u = self._rand()
        if self.line_busy.get(lg.dnum, 0) > now:  # that person is on another call
            lg.t_exit = now + self._ri(1500, 6000)
            lg.cause = "BUSY"
            return None
        if u < p_answer:
            ta = now + self._ri(4000, 25000)
            lg.t_answer = ta
            lg.answered_by = lg.dnum
            lg.t_exit = ta + self._talk(talk_mean)
            lg.cause = "NCC"
            return ta
        u = (u - p_answer) / (1.0 - p_answer)
        pick = _NOT_ANSWERED[-1]
        for row in _NOT_ANSWERED:
            if u < row[1]:
                pick = row
                break
            u -= row[1]
        lg.t_exit = now + self._ri(*pick[2])
        lg.cause = pick[0]
        return None

    def _dial(self, c: Call, cfg: str, dialled: str, now: int, src: str, camp: str = ""):
        """The `obl` line of a call to `dialled` through configuration `cfg` (BLOCKED when no
        line has a free channel). Returns (leg, reserved gateways)."""
        gw = self._line(cfg, c.t_start)
        if gw is None:
            self.stats["outbound_blocked"] += 1
            lg = Leg("obl", cfg, "", dialled, src, 0, now, now + self._ri(5, 80), "BLOCKED",
                     acode=camp)
            c.legs.append(lg)
            return lg, []
        c.gateway = gw
        lg = Leg("obl", cfg, gw, dialled, src, 0, now, now, "", msrc=self._gw_e164[gw],
                 mdst=numbers.to_e164(dialled), acode=camp)
        lg.gateway = gw
        c.legs.append(lg)
        return lg, [gw]

    def _pick_op(self, t: int) -> int | None:
        i = self._free_op(t)
        if i is None:
            i = self._free_op(t, present=False)
            if i is None:
                self.stats["skipped_no_operator"] += 1
        return i

    # ------------------------------------------------------------------ outbound
    def outbound(self, t: int) -> Call | None:
        sc = self.sc
        u = self._rand()
        if u < sc.p_conference_out:
            return self._conference_out(t)
        if u < sc.p_conference_out + sc.p_fax_out:
            return self._fax_out(t)
        rng = self.rng
        d = self.d
        i = self._pick_op(t)
        if i is None:
            return None
        o = d.operators[i]
        dialled = numbers.external_number(rng, p_mobile=0.4, p_intl=0.03, p_tollfree=0.03)
        camp = ""
        if o.org_unit in ("OU1", "OU2") and rng.random() < 0.35:
            # rng.choices(d.billing_codes, weights=(5, 3, 1, 1))[0][0]
            cum = self._bc_cum
            camp = d.billing_codes[bisect.bisect(cum, rng.random() * (cum[-1] + 0.0), 0, 3)][0]
        elif rng.random() < 0.04:
            camp = d.billing_codes[2][0]
        q = self._campaign_q
        if camp and q is not None and any(m == i for m, _p in q.members) \
                and self._rand() < sc.campaign_share:
            return self._campaign_call(t, o, i, dialled, camp, q)
        c = self._caller_call(t, o, i, "out")
        c.dst_type = "obl"
        c.called = dialled
        c.acode = camp
        c.campaign = camp or None
        now = t + self._ri(50, 400)
        if self._rand() < sc.p_forbidden_out:  # the operator's routing class forbids it
            c.called = dialled = "899" + dialled[-6:] if self._rand() < 0.6 else dialled
            cause = "FORBIDDEN_NOCLASS" if dialled.startswith("899") else "FORBIDDEN_NORULE"
            c.legs.append(Leg("obl", o.outbound_config, "", dialled, o.extension, 0, now,
                              now + self._ri(5, 120), cause, acode=camp))
            return self._out_done(c, i, [], 0)
        lg, reserved = self._dial(c, o.outbound_config, dialled, now, o.extension, camp)
        if reserved:
            lg.op = o.extension
            lg.account = c.peer
            ta = self._external(lg, now, 0.62, 90 if camp else 140)
            if ta is not None:
                c.t_up = ta
        return self._out_done(c, i, reserved, self._ri(0, 300))

    def _out_done(self, c: Call, i: int, reserved: list[str], tail: int) -> Call:
        c.t_end = c.legs[-1].t_exit + tail
        self.busy[i] = max(self.busy[i], c.t_end + 1000)
        return self._finish(c, reserved)

    def _campaign_call(self, t: int, o: Operator, i: int, dialled: str, camp: str, q) -> Call:
        """An agent's campaign call through the outbound queue: a `queue` line (answered when
        the customer answers, by the agent's account) and the `obl` line; the Call Center CDR
        records the agent's presentation (`Call.cc_legs`)."""
        c = self._caller_call(t, o, i, "out")
        c.dst_type = "queue"
        c.called = dialled
        c.acode = camp
        c.campaign = camp
        now = t + self._ri(30, 200)
        qleg = Leg("queue", q.id, q.name, "", o.extension, 0, now, now, "", t_enqueue=now)
        qleg.welcome_end = now
        c.legs.append(qleg)
        self.visits.append((c, qleg))
        agent = self._op_leg(o, o.extension, 0, now)
        agent.queue = q.id
        agent.visit = qleg
        c.cc_legs = [agent]
        lg, reserved = self._dial(c, o.outbound_config, dialled, now + self._ri(50, 300),
                                  o.extension, camp)
        ta = None
        if reserved:
            lg.op = o.extension
            lg.account = c.peer
            ta = self._external(lg, lg.t_enter, 0.55, 90)
        qleg.t_exit = agent.t_exit = lg.t_exit
        if ta is not None:
            c.t_up = ta
            qleg.t_answer = agent.t_answer = ta
            qleg.answered_by = agent.answered_by = agent.account = c.peer
            qleg.cause = agent.cause = qleg.cc_cause = "NCC"
            who = "agent" if self._rand() < 0.6 else "caller"
            agent.hangup_by = who
            agent.cc_outcome = "NCC-AGENT" if who == "agent" else "NCC-CALLER"
            if self._rand() < self.sc.p_work_code:
                qleg.work_code = "51"
        else:
            qleg.cause = agent.cause = lg.cause
            # the customer did not answer (TIMEOUT), the agent gave up (CANCELED), or the
            # line's own outcome (BUSY, UNAVAILABLE, CONGESTION, BLOCKED)
            qleg.cc_cause = "TIMEOUT" if lg.cause == "NOANSWER" else lg.cause
            agent.cc_outcome = {"NOANSWER": "TIMEOUT", "BLOCKED": "CONGESTION"}.get(
                lg.cause, lg.cause)
        return self._out_done(c, i, reserved, self._ri(0, 300))

    def _conference_out(self, t: int) -> Call | None:
        """A conference room dials a participant out (source type `conference`)."""
        if not self.d.conferences:
            return None
        room, name = self.d.conferences[int(self._rand() * len(self.d.conferences))]
        c = self._new_call(t)
        c.direction = "out"
        c.src_type = "conference"
        c.dst_type = "obl"
        c.caller, c.caller_name = room, name
        c.called = numbers.external_number(self.rng, p_mobile=0.5, p_intl=0.05)
        now = t + self._ri(50, 300)
        lg, reserved = self._dial(c, next(iter(self.d.outbound)), c.called, now, room)
        if reserved and self._external(lg, now, 0.7, 900) is not None:
            c.t_up = lg.t_answer
        c.t_end = lg.t_exit + self._ri(0, 300)
        return self._finish(c, reserved)

    def _fax_out(self, t: int) -> Call:
        """The fax server sends a fax (source type `fax`)."""
        fid, fname = self.d.fax
        c = self._new_call(t)
        c.direction = "out"
        c.src_type = "fax"
        c.dst_type = "obl"
        c.caller, c.caller_name = fid, fname
        c.called = numbers.fixed_number(self.rng)
        now = t + self._ri(50, 300)
        lg, reserved = self._dial(c, next(iter(self.d.outbound)), c.called, now, fid)
        if reserved and self._external(lg, now, 0.85, 60) is not None:
            c.t_up = lg.t_answer
        c.t_end = lg.t_exit + self._ri(0, 300)
        return self._finish(c, reserved)

    # ------------------------------------------------------------------ service calls
    def plan_day(self, day: date) -> None:
        """An incident (a burst of calls to one number) on some days; a Call Campaign
        (automated notices, source type `service`) on some office days."""
        sc = self.sc
        self.outage = {}
        if sc.outage_days and self._rand() < sc.outage_days:
            # a line goes down for a while, the small ones (a site's ADSL) more often
            gws = list(self.d.gateways.values())
            w = [1.0 / max(1, g.channel_limit) for g in gws]
            u = self._rand() * sum(w)
            g = gws[-1]
            for x, wx in zip(gws, w, strict=True):
                if u < wx:
                    g = x
                    break
                u -= wx
            t0 = self.local_ms(day, 8) + self._ri(0, 10 * 3_600_000)
            self.outage[g.name] = (t0, t0 + self._ri(30, 150) * 60_000)
        if sc.burst_days and self._rand() < sc.burst_days:
            did = self._h24_did or next((x for x in self.d.dids if x.kind == "queue"),
                                        self.d.dids[0])
            n = self._ri(*sc.burst_calls)
            t0 = self.local_ms(day, 9) + self._ri(0, 8 * 3_600_000)
            span = self._ri(*sc.burst_minutes) * 60_000
            for t in sorted(t0 + int(self._rand() * span) for _ in range(n)):
                self.schedule(t, "burst", did)
        if not sc.notification_days or not self.is_office_day(day):
            return
        if self._rand() >= sc.notification_days:
            return
        n = self._ri(*sc.notification_calls)
        t = self.local_ms(day, 10) + self._ri(0, 3_600_000)
        for k in range(n):  # two calls at a time
            self.schedule(t + (k // 2) * self._ri(40_000, 90_000) + (k % 2) * 1500, "notify",
                          None)

    def notify(self, t: int, _payload) -> Call:
        d = self.d
        c = self._new_call(t)
        c.direction = "out"
        c.src_type = "service"
        c.dst_type = "obl"
        c.caller, c.caller_name = d.campaign_caller, "Campagna avvisi"
        c.why = "notify"
        if self._rand() < 0.3:
            c.called = self.pool[int(len(self.pool) * self._rand())]
        else:
            c.called = numbers.external_number(self.rng, p_mobile=0.6, p_intl=0.0)
        now = t + self._ri(50, 300)
        lg, reserved = self._dial(c, next(iter(d.outbound)), c.called, now, d.campaign_caller)
        if reserved and self._external(lg, now, 0.65, 30) is not None:
            c.t_up = lg.t_answer
        c.t_end = lg.t_exit + self._ri(0, 200)
        return self._finish(c, reserved)

    def callback_attempt(self, t: int, req) -> Call | None:
        """An operator calls a missed caller back (the team decides who and when)."""
        i = self.team.pick_operator(req, t)
        if i is None:
            return None
        o = self.d.operators[i]
        c = self._caller_call(t, o, i, "out")
        c.dst_type = "obl"
        c.called = req.number
        c.why = "callback"
        self.stats["callbacks"] += 1
        now = t + self._ri(200, 1500)  # dialled from the missed-calls page
        lg, reserved = self._dial(c, o.outbound_config, req.number, now, o.extension)
        if reserved:
            lg.op = o.extension
            lg.account = c.peer
            if self._external(lg, now, self.sc.p_callback_answer, 100) is not None:
                c.t_up = lg.t_answer
        c = self._out_done(c, i, reserved, self._ri(0, 300))
        self.team.after_attempt(req, c, o)
        return c

    def reserve_callback(self, t: int, payload) -> Call | None:
        """The queue's automatic callback (position reservation, CCBS): when a member is free
        the PBX rings the member first, then calls the customer (source type `queue`)."""
        qid, number, tries = payload
        q = self.d.queues[qid]
        busy, qfree = self.busy, self.qfree
        free = [i for i, _p in q.members if busy[i] <= t and qfree[i] <= t and self.q_avail(i, t)]
        if not free:
            if tries < 60:
                self.schedule(t + self._ri(45_000, 90_000), "reserve_callback",
                              (qid, number, tries + 1))
            return None
        i = free[int(self._rand() * len(free))]
        o = self.d.operators[i]
        c = self._new_call(t)
        c.direction = "out"
        c.src_type = "queue"
        c.dst_type = "obl"
        c.caller, c.caller_name = q.id, q.name
        c.called = number
        c.why = "reserve"
        lg = self._op_leg(o, q.id, 0, t + self._ri(20, 200))
        c.legs.append(lg)
        if self._rand() < 0.12:  # the member does not take it: the PBX tries again later
            lg.t_exit = lg.t_enter + q.ring_timeout_s * 1000
            lg.cause = "NOANSWER"
            busy[i] = max(busy[i], lg.t_exit)
            c.t_end = lg.t_exit
            self.schedule(c.t_end + self._ri(60_000, 180_000), "reserve_callback",
                          (qid, number, tries + 1))
            return self._finish(c, [])
        ta = lg.t_enter + self._ri(1500, 8000)
        ml, reserved = self._dial(c, o.outbound_config, number, ta + self._ri(300, 1200), q.id)
        if reserved:
            self._external(ml, ml.t_enter, 0.75, q.talk_mean_s)
        self._answered_leg(lg, o, ta, ml.t_exit)
        c.t_end = ml.t_exit
        self._wrap_up(q, None, i, c.t_end)
        return self._finish(c, reserved)

    # ------------------------------------------------------------------ internal
    def internal(self, t: int) -> Call | None:
        rng = self.rng
        d = self.d
        sc = self.sc
        i = self._pick_op(t)
        if i is None:
            return None
        o = d.operators[i]
        c = self._caller_call(t, o, i, "internal")
        now = t + self._ri(20, 200)
        u = rng.random()
        if u < 0.08:
            return self._service_call(c, o, i, now)
        if u < 0.08 + sc.p_conference and d.conferences:
            room, name = d.conferences[int(self._rand() * len(d.conferences))]
            c.called = room
            c.dst_type = "conference"
            ta = now + self._ri(100, 600)
            c.legs.append(Leg("conference", room, name, room, o.extension, 0, now,
                              ta + self._talk(600), "NCC", t_answer=ta, answered_by=room))
            c.t_up = ta
            return self._out_done(c, i, [], 0)
        j = rng.randrange(len(d.operators) - 1)
        if j >= i:
            j += 1
        oj = d.operators[j]
        c.called = oj.extension
        c.dst_type = "local_exten"
        lg = self._op_leg(oj, o.extension, 0, now)
        c.legs.append(lg)
        if self._rand() < sc.p_unknown_end:  # the PBX could not trace how it ended (??)
            lg.t_exit = now + self._ri(1000, 20000)
            lg.cause = "?"
            return self._out_done(c, i, [], 0)
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
                    ctx = CallContext(c, o.extension, 0, [], 10**15)
                    self._voicemail(ctx, end_ring + self._ri(100, 600), oj.extension)
        else:
            lg.t_exit = te
            lg.cause = oc
        c.t_end = max(c.t_end, lg.t_exit)
        self._finish(c, [])
        self.busy[i] = max(self.busy[i], c.t_end)
        return c

    def _service_call(self, c: Call, o: Operator, i: int, now: int) -> Call:
        d = self.d
        # rng.choices(d.services, weights=...)[0], with precomputed cumulative weights
        cum = self._svc_cum
        code, sid, sname, _w = d.services[bisect.bisect(cum, self.rng.random() * (cum[-1] + 0.0),
                                                        0, len(cum) - 1)]
        c.called = code
        c.dst_type = "service"
        ta = now + self._ri(50, 300)
        lg = Leg("service", sid, sname, code, o.extension, 0, now, ta + self._ri(1500, 30000),
                 "NCC", t_answer=ta, answered_by=code)
        c.legs.append(lg)
        c.t_up = ta
        return self._out_done(c, i, [], 0)

