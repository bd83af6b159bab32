"""The one way the web app runs a report: access check → tenant scope → guard → engine →
masking.

Pages, XLSX downloads, widgets and the HTTP API all call `run_report`, so roles, tenant
isolation, the query guard (settings `report_time_limit_s`, `report_max_months`) and the
privacy mask hold everywhere by construction.
"""

from __future__ import annotations

import dataclasses
import secrets
import threading
import time
from collections import OrderedDict
from datetime import UTC, date, datetime

from pbxlens import PbxlensError
from pbxlens.config import get_settings
from pbxlens.dashboards import access
from pbxlens.reports import Guard, Params, ReportGuardError, Result, get, periods, run
from pbxlens.reports.filters import parse_filters
from pbxlens.store import Stores, privacy
from pbxlens.store.users import User


class WebError(PbxlensError):
    """An error with a stable id and an HTTP status, rendered as JSON or a page alert."""

    status = 400
    error_id = "bad-request"

    def __init__(self, message: str, *, status: int | None = None, error_id: str | None = None):
        super().__init__(message)
        self.status = status or self.status
        self.error_id = error_id or self.error_id

    def public(self) -> dict:
        return {"error": self.error_id, "message": str(self), "status": self.status}


def report_def(report_id: str):
    try:
        return get(report_id)
    except KeyError:
        raise WebError(f"unknown report {report_id!r}", status=404, error_id="report-not-found") \
            from None


def scope_tenant(con, user: User, params: Params) -> Params:
    """Restrict the report to the user's tenant (whatever the request asked for)."""
    return dataclasses.replace(params, tenant=user.tenant)


def run_report(store: Stores, user: User | None, report_id: str, params: Params,
               guard: Guard | None = None) -> Result:
    """`guard`: the settings' guard unless given (background exports allow more time)."""
    defn = report_def(report_id)
    if not access.can_see_report(user, defn.id):
        raise WebError(f"you may not see {report_id}", status=403, error_id="forbidden")
    try:
        with store.cursor() as cur:
            scoped = scope_tenant(cur, user, params)
            result = run(cur, defn, scoped, guard=guard or Guard.from_settings())
    except ReportGuardError as exc:
        raise WebError(str(exc), status=exc.status, error_id=exc.error_id) from None
    return privacy.mask_result(result, user.privacy)


# A page shows its first tables at once and asks for the rest right after (report page,
# `rp-more`): the result waits here for that second request, so the report runs once. Held in
# this process only, briefly and for the user who ran it; a miss (another process, expired)
# runs the report again, so this is a saving, never a source of truth.
_KEPT_MAX, _KEPT_TTL_S = 32, 120.0
_kept: OrderedDict[str, tuple[float, int, Result]] = OrderedDict()
_kept_lock = threading.Lock()


def keep_result(user: User, result: Result) -> str:
    """Hold an already masked `result` for `user`'s next request; the key to take it back."""
    key = secrets.token_urlsafe(16)
    with _kept_lock:
        _kept[key] = (time.monotonic() + _KEPT_TTL_S, user.id, result)
        while len(_kept) > _KEPT_MAX:
            _kept.popitem(last=False)
    return key


def take_result(user: User, key: str) -> Result | None:
    """The result kept under `key` for this user (once), or None."""
    with _kept_lock:
        held = _kept.pop(str(key or ""), None)
    if held is None or held[0] < time.monotonic() or held[1] != user.id:
        return None
    return held[2]


# ----------------------------------------------------------------------------- params


def params_to_json(p: Params) -> dict:
    return {"from": p.date_from.isoformat() if p.date_from else None,
            "to": p.date_to.isoformat() if p.date_to else None,
            "filters": {k: list(v) for k, v in p.filters.items() if v}, "lang": p.lang}


def _day(s: str | None, name: str) -> date | None:
    if not s:
        return None
    try:
        return date.fromisoformat(str(s)[:10])
    except ValueError:
        raise WebError(f"{name}: not a date YYYY-MM-DD: {s!r}", error_id="bad-date") from None


def params_from_json(d: dict | None, lang: str = "en") -> Params:
    d = d or {}
    filters = {k: [str(x) for x in v] for k, v in (d.get("filters") or {}).items() if v}
    return Params(date_from=_day(d.get("from"), "from"), date_to=_day(d.get("to"), "to"),
                  filters=filters, lang=d.get("lang") or lang)


def params_from_query(report_id: str, args, lang: str = "en") -> Params:
    """`?from=&to=&period=&filter=k=v1,v2&filter=...&lang=` (the CLI's --filter syntax; a
    relative period, e.g. `last_month`, wins over the dates)."""
    defn = report_def(report_id)
    try:
        filters = parse_filters(args.getlist("filter"), defn)
        d_from, d_to = _day(args.get("from"), "from"), _day(args.get("to"), "to")
        if args.get("period") and periods.check(args.get("period")) != periods.FIXED:
            d_from, d_to = periods.resolve(periods.check(args.get("period")), periods.local_day(
                datetime.now(UTC), get_settings().timezone))
        p = Params(date_from=d_from, date_to=d_to, filters=filters, lang=args.get("lang") or lang)
        p.resolved()
    except WebError:
        raise
    except PbxlensError as exc:
        raise WebError(str(exc), error_id="bad-filter") from None
    return p
