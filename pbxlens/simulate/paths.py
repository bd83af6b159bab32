"""Ring groups and direct calls to extensions, with the PBX features that change a call's path:
forwards (UFWD, CFWD, CFWD2MOBILE), fork to mobile (FORK2MOBILE, ANSWNOACC), pickup by a
colleague (PICKUP), parking (PARKED) and fast transfer to and from the mobile
(FASTXFER2MOBILE, FASTXFER2EXTEN)."""

from __future__ import annotations

from . import numbers
from .directory import Operator
from .truth import CallContext, Leg


class RoutingMixin:
    # ------------------------------------------------------------------ ring groups
    def _group(self, ctx: CallContext, t0: int, gid: str) -> None:
        d = self.d
        g = d.ring_groups[gid]
        c = ctx.call
        legs = c.legs
        gleg = Leg("callg", g.id, g.name, "", ctx.caller, ctx.anon, t0, t0, "")
        legs.append(gleg)
        t = t0 + self._ri(50, 300)
        patience = max(ctx.patience, t0 + 3000)
        for prio in g.priorities:
            if t >= patience:
                gleg.t_exit = patience
                gleg.cause = "CANCELED"
                c.t_end = patience
                return
            round_end = t + g.ring_s * 1000
            entries = self._group_round(ctx, prio, t, round_end)
            if self._group_answered(ctx, gleg, entries, patience):
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
                    self.busy[i] = max(self.busy[i], lg.t_exit)
            if cut == patience:
                gleg.t_exit = cut
                gleg.cause = "CANCELED"
                c.t_end = cut
                return
            t = round_end + self._ri(50, 300)
        gleg.t_exit = t
        gleg.cause = "NOANSWER"
        if self.rng.random() < 0.6:
            self._voicemail(ctx, t + self._ri(500, 3000), g.voicemail_ext)
        else:
            c.t_end = t + self._ri(500, 3000)

    def _group_round(self, ctx: CallContext, prio: list[int], t: int, round_end: int):
        """The member legs of one priority step: (leg, (outcome, instant), op index or None for
        a mobile leg). Device forwards apply (CFWD), the PBX's unconditional forward does too
        for half of the members who set it (UFWD), fork to mobile rings the mobile as well."""
        rng = self.rng
        d = self.d
        busy = self.busy
        caller, anon = ctx.caller, ctx.anon
        legs = ctx.call.legs
        entries = []
        for i in prio:
            o = d.operators[i]
            lg = self._op_leg(o, caller, anon, t)
            legs.append(lg)
            if o.ufwd_to and rng.random() < 0.5:
                lg.cause = "UFWD"
                lg.t_exit = t + self._ri(10, 200)
                tgt = d.by_ext[o.ufwd_to]
                lg2 = self._op_leg(tgt, caller, anon, lg.t_exit)
                legs.append(lg2)
                entries.append((lg2, self._ring_outcome(tgt.idx, lg.t_exit, round_end), tgt.idx))
                continue
            if busy[i] > t:
                lg.cause = "BUSY"
                lg.t_exit = t + self._ri(100, 900)
                if o.cfwd_to and rng.random() < 0.7:
                    lg.cause = "CFWD"
                    tgt = d.by_ext[o.cfwd_to]
                    lg2 = self._op_leg(tgt, caller, anon, lg.t_exit)
                    legs.append(lg2)
                    entries.append((lg2, self._ring_outcome(tgt.idx, lg.t_exit, round_end),
                                    tgt.idx))
                continue
            oc = self._ring_outcome(i, t, round_end)
            if o.fork2mobile and rng.random() < 0.8 and self._reserve_any(ctx, o, t):
                gw = ctx.last_gw
                tm = t + self._ri(100, 600)
                ml = self._mobile_leg(o, caller, anon, gw, tm)
                legs.append(ml)
                lg.cause = "FORK2MOBILE"
                mo = None
                if rng.random() < 0.45:
                    mo = tm + self._ri(4000, 14000)
                    if mo >= round_end:
                        mo = None
                if mo is not None and rng.random() < 0.1:
                    entries.append((ml, ("ANSWNOACC", mo), None))
                else:
                    entries.append((ml, ("ANSWER", mo) if mo else ("NOANSWER", round_end), None))
            entries.append((lg, oc, i))
        return entries

    def _group_answered(self, ctx: CallContext, gleg: Leg, entries, patience: int) -> bool:
        best = None
        for lg, (oc, te), _i in entries:
            if oc == "ANSWER" and (best is None or te < best[1]):
                best = (lg, te)
        if best is None or best[1] >= patience:
            return False
        ta = best[1]
        for lg, (oc, te), i in entries:
            if lg is best[0]:
                continue
            if lg.cause == "FORK2MOBILE":
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
                self.busy[i] = max(self.busy[i], lg.t_exit)
        blg = best[0]
        talk = self._talk(150)
        if blg.dtype == "obl":
            blg.t_answer = ta
            blg.answered_by = blg.dnum
            blg.t_exit = ta + talk
            blg.cause = "NCC"
            acc = blg.dnum
        else:
            o = self.d.by_ext[blg.did]
            self._answered_leg(blg, o, ta, ta + talk)
            acc = blg.answered_by
            self.busy[o.idx] = blg.t_exit + 2000
        gleg.t_answer = ta
        gleg.answered_by = acc
        gleg.t_exit = blg.t_exit
        gleg.cause = "NCC"
        ctx.call.t_end = blg.t_exit
        return True

    def _ring_outcome(self, i: int, t: int, round_end: int) -> tuple[str, int]:
        if self.busy[i] > t:
            return ("BUSY", t + self._ri(200, 1200))
        u = self.rng.random()
        if u < 0.03:
            return ("UNAVAILABLE", t + self._ri(20, 500))
        if not self.is_logged(i, t) or u < 0.35:
            return ("NOANSWER", round_end)
        ta = t + int(1000 * (1 + self._lognorm(1.5, 0.5)))
        if ta >= round_end:
            return ("NOANSWER", round_end)
        return ("ANSWER", ta)

    def _reserve_any(self, ctx: CallContext, o: Operator, t: int) -> bool:
        cfg = self.d.outbound[o.outbound_config]
        for gw in cfg.fallback:
            if self.gw_free(gw, ctx.call.t_start, ctx.reserved.count(gw)):
                ctx.reserved.append(gw)
                ctx.last_gw = gw
                return True
        return False

    def _mobile_leg(self, o: Operator, src: str, anon: int, gw: str, t: int) -> Leg:
        ml = Leg("obl", o.outbound_config, gw, o.mobile, src, anon, t, t, "",
                 msrc=self._gw_e164[gw], mdst=numbers.to_e164(o.mobile))
        ml.gateway = gw
        ml.op = o.extension
        return ml

    # ------------------------------------------------------------------ direct dial
    def _direct(self, ctx: CallContext, t0: int, ext: str, depth: int = 0) -> None:
        d = self.d
        c = ctx.call
        o = d.by_ext[ext]
        lg = self._op_leg(o, ctx.caller, ctx.anon, t0)
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
            self._direct_answered(ctx, lg, o, te)
            return
        if oc in ("ANSWER", "NOANSWER"):
            oc, te = "NOANSWER", end_ring
        sc = self.sc
        if oc == "NOANSWER" and self._rand() < sc.p_pickup:  # a colleague picks it up
            tp = t0 + self._ri(4000, 20000)
            j = self._free_op(tp, exclude=o.idx)
            if j is not None and tp < patience:
                lg.t_exit = tp
                lg.cause = "PICKUP"
                self.busy[o.idx] = max(self.busy[o.idx], tp)
                pl = self._op_leg(d.operators[j], ctx.caller, ctx.anon, tp)
                c.legs.append(pl)
                self._answered_leg(pl, d.operators[j], tp + self._ri(200, 1200),
                                   tp + self._talk(120))
                self.busy[j] = pl.t_exit + 2000
                c.t_end = pl.t_exit
                return
        if patience < te:
            lg.t_exit = patience
            lg.cause = "CANCELED"
            c.t_end = patience
            return
        lg.t_exit = te
        lg.cause = oc
        self.busy[o.idx] = max(self.busy[o.idx], te)
        if o.cfwd2mobile and oc != "UNAVAILABLE" and self._reserve_any(ctx, o, te):
            lg.cause = "CFWD2MOBILE"
            ml = self._mobile_leg(o, ctx.caller, ctx.anon, ctx.last_gw, te + self._ri(100, 600))
            c.legs.append(ml)
            if self._rand() < 0.55:
                ta = ml.t_enter + self._ri(4000, 15000)
                ml.t_answer = ta
                ml.answered_by = o.mobile
                ml.t_exit = ta + self._talk(100)
                ml.cause = "NCC"
            else:
                ml.t_exit = ml.t_enter + self._ri(20000, 30000)
                ml.cause = "NOANSWER"
            c.t_end = ml.t_exit
            return
        if self.rng.random() < 0.7:
            self._voicemail(ctx, te + self._ri(100, 800), o.extension)
        else:
            c.t_end = te

    def _direct_answered(self, ctx: CallContext, lg: Leg, o: Operator, ta: int) -> None:
        """Answered on the desk; sometimes parked for a colleague, or moved to the mobile."""
        c = ctx.call
        sc = self.sc
        talk = self._talk(150)
        u = self._rand()
        if u < sc.p_park:
            tp = ta + min(talk, self._ri(10000, 60000))
            self._answered_leg(lg, o, ta, tp)
            lg.cause = "PARKED"
            tr = tp + self._ri(8000, 90000)
            j = self._free_op(tr, exclude=o.idx)
            k = o if j is None else self.d.operators[j]
            rl = self._op_leg(k, ctx.caller, ctx.anon, tr)
            c.legs.append(rl)
            self._answered_leg(rl, k, tr + self._ri(300, 1500), tr + self._talk(90))
            self.busy[o.idx] = tp + 2000
            self.busy[k.idx] = max(self.busy[k.idx], rl.t_exit + 2000)
            c.t_end = rl.t_exit
            return
        if u < sc.p_park + sc.p_fast_transfer and self._reserve_any(ctx, o, ta):
            tx = ta + min(talk, self._ri(15000, 200000))
            self._answered_leg(lg, o, ta, tx)
            lg.cause = "FASTXFER2MOBILE"
            ml = self._mobile_leg(o, ctx.caller, ctx.anon, ctx.last_gw, tx)
            c.legs.append(ml)
            ml.t_answer = tx + self._ri(2000, 7000)
            ml.answered_by = o.mobile
            ml.t_exit = ml.t_answer + self._talk(90)
            ml.cause = "NCC"
            self.busy[o.idx] = tx + 1000
            if self._rand() < 0.5:  # back to the desk phone
                ty = ml.t_exit
                ml.cause = "FASTXFER2EXTEN"
                bl = self._op_leg(o, ctx.caller, ctx.anon, ty)
                c.legs.append(bl)
                self._answered_leg(bl, o, ty + self._ri(800, 3000), ty + self._talk(60))
                self.busy[o.idx] = bl.t_exit + 2000
                c.t_end = bl.t_exit
            else:
                c.t_end = ml.t_exit
            return
        self._answered_leg(lg, o, ta, ta + talk)
        self.busy[o.idx] = lg.t_exit + 2000
        c.t_end = lg.t_exit
