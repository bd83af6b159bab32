"""The report page's state in its URL: `/reports/<id>?period=&from=&to=&filter=k=v1,v2...`, the
API's and the CLI's syntax (`--filter key=v1,v2`, repeatable). A relative period wins over
dates; `fixed` (or no period) takes `from`/`to`. One parser and one writer, so that a reload,
a shared link and a saved view all give the same report.

Example:
    >>> q = ReportQuery(period="last_month", filters={"queue": ["700", "701"]})
    >>> q.search()
    '?period=last_month&filter=queue=700,701'
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from urllib.parse import quote

from pbxlens import PbxlensError
from pbxlens.reports import Params, Report
from pbxlens.reports import periods as P
from pbxlens.reports.filters import parse_filters, validate

_SAFE = "=,:*+"  # kept readable in a URL: key=v1,v2, wildcards, +39 numbers


@dataclass(frozen=True)
class ReportQuery:
    period: str = P.FIXED
    date_from: date | None = None
    date_to: date | None = None
    filters: dict[str, list[str]] = field(default_factory=dict)

    def dates(self, today: date) -> tuple[date | None, date | None]:
        """The days the query means on `today` (None = the report's default range)."""
        if self.period != P.FIXED:
            return P.resolve(self.period, today)
        return self.date_from, self.date_to

    def params(self, today: date, lang: str = "en") -> Params:
        d_from, d_to = self.dates(today)
        return Params(date_from=d_from, date_to=d_to,
                      filters={k: list(v) for k, v in self.filters.items() if v}, lang=lang,
                      today=today)

    def search(self) -> str:
        """The URL's query string (with its `?`; empty when there is nothing to say)."""
        parts = []
        if self.period != P.FIXED:
            parts.append(f"period={self.period}")
        else:
            if self.date_from:
                parts.append(f"from={self.date_from.isoformat()}")
            if self.date_to:
                parts.append(f"to={self.date_to.isoformat()}")
        for k, vals in self.filters.items():
            if vals:
                parts.append("filter=" + quote(f"{k}={','.join(vals)}", safe=_SAFE))
        return "?" + "&".join(parts) if parts else ""


def _day(value, name: str) -> date | None:
    if value in (None, ""):
        return None
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError:
        raise PbxlensError(f"{name}: not a date YYYY-MM-DD: {value!r}") from None


def _many(value) -> list[str]:
    if value is None:
        return []
    return [str(v) for v in value] if isinstance(value, list | tuple) else [str(value)]


def parse(report: Report, args: Mapping) -> ReportQuery:
    """A query from URL arguments (a mapping of name to a value or a list of values, as Dash
    pages and `parse_qs` give them). `key=v1,v2` arguments named after a filter are read too
    (links written before `filter=` existed). Bad input raises `PbxlensError`."""
    period = P.check(_many(args.get("period"))[-1] if args.get("period") else None)
    items = _many(args.get("filter"))
    items += [f"{k}={v}" for k in report.filter_keys for v in _many(args.get(k)) if v]
    filters = parse_filters(items, report)
    d_from = _day(_many(args.get("from"))[-1] if args.get("from") else None, "from")
    d_to = _day(_many(args.get("to"))[-1] if args.get("to") else None, "to")
    if period != P.FIXED:
        d_from = d_to = None
    elif d_from and d_to and d_from > d_to:
        raise PbxlensError(f"the range is empty: {d_from} is after {d_to}")
    q = ReportQuery(period, d_from, d_to, filters)
    validate(Params(filters=filters), report)
    return q
