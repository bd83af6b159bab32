"""The choices the report page offers for a filter key: from the filter definitions of the
catalog (the first report with that key, or the report of a family where a key means two
things)."""

from __future__ import annotations

from pbxlens.reports import all_reports, get

FAMILY_REPORT = {"billing": "billing.dashboard", "callcenter": "cc.queues"}


def options(con, key: str, tenant: str, lang: str, family: str = "") -> list[dict] | None:
    if family:
        f = get(FAMILY_REPORT[family]).filter(key)
    else:
        f = next(r.filter(key) for r in all_reports() if key in r.filter_keys)
    return f.options(con, tenant, lang) if f.options else None
