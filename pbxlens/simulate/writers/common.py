"""Field lists and value formatting shared by every CDR writer.

Every writer receives the same already-formatted string values, so one call carries identical
field values in every format.

The simulation hands calls to the writers as *raw* tuples (see ``call_raw`` / ``leg_raw``): plain
tuples of the ``Call`` / ``Leg`` attributes, cheap to build and to pickle (``generate`` may format
and write in a second process). ``format_raw`` turns them into the string values.
"""

from __future__ import annotations

import pickle
from datetime import date, datetime, timedelta
from operator import attrgetter
from zoneinfo import ZoneInfo

from ..truth import Call, Leg

CALL_FIELDS = (
    "unique_id", "source_type", "destination_type", "status", "start_datetime",
    "channel_up_datetime", "answer_datetime", "answered_by", "end_datetime", "caller",
    "caller_name", "anonymous", "called", "gateway_name", "account_code", "duration",
    "bill_secs", "src_peer_name", "src_ip_port",
)
DETAIL_FIELDS = (
    "detail_source_num", "detail_source_anonymous", "detail_destination_type",
    "detail_destination_id", "detail_destination_name", "detail_destination_num",
    "detail_enter_datetime", "detail_enqueue_datetime", "detail_answer_datetime",
    "detail_exit_datetime", "detail_exit_cause", "detail_answered_by", "detail_waiting_time",
    "detail_mapped_source_num", "detail_mapped_dst_num", "detail_account_code",
    "detail_checktime_in_hours",
)
EMPTY_DETAIL = ("",) * len(DETAIL_FIELDS)
# multi-tenant runs add the tenant domain as the last call field (formats.md §1.1)
TENANT_FIELD = "tenant"


def call_fields(tenant: bool) -> tuple[str, ...]:
    return (*CALL_FIELDS, TENANT_FIELD) if tenant else CALL_FIELDS

# raw tuples: the attributes the writers need, in this order
call_raw = attrgetter(
    "unique_id", "src_type", "dst_type", "status", "t_start", "t_up", "t_answer", "answered_by",
    "t_end", "caller", "caller_name", "anonymous", "called", "gateway", "acode", "peer",
    "ip_port", "legs", "tenant")
leg_raw = attrgetter(
    "src", "src_anon", "dtype", "did", "dname", "dnum", "t_enter", "t_enqueue", "t_answer",
    "t_exit", "cause", "answered_by", "msrc", "mdst", "acode", "ct_in")

_HMS = [f"{h:02d}:{m:02d}:{s:02d}" for h in range(24) for m in range(60) for s in range(60)]
_EPOCH = date(1970, 1, 1)
_NUM = [str(i) for i in range(4000)]


class TimeFormatter:
    """UTC epoch milliseconds -> ``YYYY-MM-DD HH:MM:SS`` in the PBX time zone (truncated to the
    second).

    Values are formatted by arithmetic inside a *window*: a span of epoch seconds within one
    local date over which the UTC offset is constant (a whole local day, except on days with
    a zone transition, where windows are quarter hours — transitions happen on quarter hours).
    ``window(s)`` returns ``(lo, hi, base, day_prefix)``: for ``lo <= s < hi`` the local time is
    ``day_prefix + _HMS[s - base]``.
    """

    __slots__ = ("_days", "_off", "_win", "tz")

    def __init__(self, tz: str):
        self.tz = ZoneInfo(tz)
        self._off: dict[int, int] = {}
        self._days: dict[int, str] = {}
        self._win: dict[int, tuple[int, int, int, str]] = {}

    def offset(self, s: int) -> int:
        q = s // 900
        off = self._off.get(q)
        if off is None:
            off = int(datetime.fromtimestamp(q * 900, self.tz).utcoffset().total_seconds())
            self._off[q] = off
        return off

    def _day(self, d: int) -> str:
        ds = self._days.get(d)
        if ds is None:
            ds = self._days[d] = (_EPOCH + timedelta(days=d)).isoformat() + " "
        return ds

    def window(self, s: int) -> tuple[int, int, int, str]:
        q = s // 900
        w = self._win.get(q)
        if w is not None:
            return w
        off = self.offset(s)
        d = (s + off) // 86400
        base = d * 86400 - off  # the local midnight, were the offset constant all day
        if base % 900:  # not a quarter-hour offset (historical zones): one-second window
            return (s, s + 1, base, self._day(d))
        if all(self.offset(base + k * 900) == off for k in range(96)):
            w = (base, base + 86400, base, self._day(d))
            for k in range(96):
                self._win[base // 900 + k] = w
        else:  # a transition day: one window per quarter hour
            lo = q * 900
            w = (lo, lo + 900, base, self._day(d))
            self._win[q] = w
        return w

    def __call__(self, ms: int | None) -> str:
        if ms is None:
            return ""
        s = ms // 1000
        _lo, _hi, base, ds = self.window(s)
        return ds + _HMS[s - base]


def hms(seconds: int) -> str:
    if 0 <= seconds < 86400:
        return _HMS[seconds]
    m, s = divmod(seconds, 60)
    h, m = divmod(m, 60)
    return f"{h:02d}:{m:02d}:{s:02d}"


def format_raw(batch, fmt: TimeFormatter, *, objects: bool = False, tenant: bool = False
               ) -> list[tuple[tuple[str, ...], list[tuple[str, ...]]]]:
    """Raw call tuples (``call_raw``: the list of ``leg_raw`` tuples, then the tenant) ->
    ``[(call values, [detail values, ...]), ...]`` (all strings; the tenant last when
    `tenant`). With ``objects=True`` the batch holds ``Call`` objects instead (same result, no
    intermediate tuples)."""
    get_call = call_raw if objects else tuple  # tuple(t) is t itself
    get_leg = leg_raw if objects else tuple
    HMS = _HMS
    NUM = _NUM
    window = fmt.window
    lo = hi = base = 0
    ds = ""
    out = []
    app = out.append
    for (uid, st, dt, status, ts, tu, ta, ab, te, caller, cname, anon, called, gw, acode, peer,
         ipp, legs, tnt) in map(get_call, batch):
        # --- call values (the local-time formatting is inlined: see TimeFormatter)
        s = ts // 1000
        if not lo <= s < hi:
            lo, hi, base, ds = window(s)
        f_ts = ds + HMS[s - base]
        e = te // 1000
        if not lo <= e < hi:
            lo, hi, base, ds = window(e)
        f_te = ds + HMS[e - base]
        if tu is None:
            f_tu = ""
        else:
            x = tu // 1000
            if not lo <= x < hi:
                lo, hi, base, ds = window(x)
            f_tu = ds + HMS[x - base]
        if ta is None:
            f_ta = ""
            bill = "0.000"
        else:
            x = ta // 1000
            if not lo <= x < hi:
                lo, hi, base, ds = window(x)
            f_ta = ds + HMS[x - base]
            b = te - ta
            bill = f"{b // 1000}.{b % 1000:03d}"
        dur = e - s
        cv = (uid, st, dt, status, f_ts, f_tu, f_ta, ab, f_te, caller, cname,
              "1" if anon else "0", called, gw, acode,
              HMS[dur] if 0 <= dur < 86400 else hms(dur), bill, peer, ipp)
        if tenant:
            cv += (tnt,)
        dets = []
        for (src, sanon, dtype, did, dname, dnum, ten, teq, tan, tex, cause, lab, msrc, mdst,
             lacode, ct) in map(get_leg, legs):
            x = ten // 1000
            if not lo <= x < hi:
                lo, hi, base, ds = window(x)
            f_en = ds + HMS[x - base]
            x = tex // 1000
            if not lo <= x < hi:
                lo, hi, base, ds = window(x)
            f_ex = ds + HMS[x - base]
            if teq is None:
                f_eq = ""
            else:
                x = teq // 1000
                if not lo <= x < hi:
                    lo, hi, base, ds = window(x)
                f_eq = ds + HMS[x - base]
            if tan is None:
                f_an = ""
                w = (tex - ten) // 1000
            else:
                x = tan // 1000
                if not lo <= x < hi:
                    lo, hi, base, ds = window(x)
                f_an = ds + HMS[x - base]
                w = (tan - ten) // 1000
            dets.append((src, "1" if sanon else "0", dtype, did, dname, dnum, f_en, f_eq, f_an,
                         f_ex, cause, lab, NUM[w] if 0 <= w < 4000 else str(w), msrc, mdst,
                         lacode, "" if ct is None else ("1" if ct else "0")))
        app((cv, dets))
    return out


def to_raw(calls: list[Call]) -> list[tuple]:
    """``Call`` objects -> raw call tuples (see ``call_raw`` / ``leg_raw``)."""
    return [(c.unique_id, c.src_type, c.dst_type, c.status, c.t_start, c.t_up, c.t_answer,
             c.answered_by, c.t_end, c.caller, c.caller_name, c.anonymous, c.called, c.gateway,
             c.acode, c.peer, c.ip_port,
             [(lg.src, lg.src_anon, lg.dtype, lg.did, lg.dname, lg.dnum, lg.t_enter,
               lg.t_enqueue, lg.t_answer, lg.t_exit, lg.cause, lg.answered_by, lg.msrc, lg.mdst,
               lg.acode, lg.ct_in) for lg in c.legs], c.tenant)
            for c in calls]


def pack(calls: list[Call], *, cdr: bool = True, cc: bool = False) -> bytes:
    """``Call`` objects -> pickled (CDR raw tuples, Call Center raw tuples), for a writer
    process (``unpack``); a part not asked for is None."""
    from .callcenter import cc_raw

    return pickle.dumps((to_raw(calls) if cdr else None, cc_raw(calls) if cc else None),
                        protocol=pickle.HIGHEST_PROTOCOL)


def unpack(data: bytes) -> tuple[list[tuple] | None, list[tuple] | None]:
    """``pack`` output -> raw call tuples (only ever fed our own writer pipe's data)."""
    return pickle.loads(data)  # noqa: S301 - produced by pack() in the parent process


def call_values(c: Call, fmt: TimeFormatter) -> tuple[str, ...]:
    return format_raw([c], fmt, objects=True)[0][0]


def detail_values(lg: Leg, fmt: TimeFormatter) -> tuple[str, ...]:
    return format_raw([("", "", "", "", lg.t_enter, None, None, "", lg.t_enter, "", "", 0, "",
                        "", "", "", "", [leg_raw(lg)], "")], fmt)[0][1][0]
