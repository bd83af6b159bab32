"""The applied-filter line of a report ("01/05/2026 – 31/05/2026 · Queue = Vendite (700)"), with
the names the filter definitions' own choices give (a queue's name, an operator's, a status in
the reader's language), not the ids stored in the parameters. The page, the printed PDF and
the scheduled mails show the same line.
"""

from __future__ import annotations

import logging
from datetime import date

import duckdb

from pbxlens.reports import format as fmt
from pbxlens.reports.catalog import Report

log = logging.getLogger("pbxlens.reports")


def value_names(report: Report | None, con, tenant: str | None, lang: str,
                filters: dict) -> dict[str, dict[str, str]]:
    """{filter key: {value: its name}} for the filters in `filters` that offer choices."""
    out: dict[str, dict[str, str]] = {}
    if report is None or con is None:
        return out
    for key in filters:
        if key not in report.filter_keys:
            continue
        f = report.filter(key)
        if f.options is None:
            continue
        try:
            out[key] = {str(o["value"]): str(o["label"]) for o in f.options(con, tenant, lang)}
        except duckdb.Error as exc:  # a store without the directory table: ids stay shown
            log.warning("choices of %s unavailable: %s", key, exc)
    return out


def line(filters: dict, report: Report | None, lang: str,
         names: dict[str, dict[str, str]] | None = None) -> str:
    """The line for a result's `filters` ({"from", "to", key: values}).

    Example:
        >>> line({"from": "2026-05-01", "to": "2026-05-31", "queue": ["700", "9"]}, None, "en",
        ...      {"queue": {"700": "Vendite (700)"}})
        '01/05/2026 – 31/05/2026 · queue = Vendite (700), 9'
    """
    f = dict(filters)
    parts = []
    d_from, d_to = f.pop("from", None), f.pop("to", None)
    if d_from and d_to:
        parts.append(f"{fmt.day_label(date.fromisoformat(str(d_from)[:10]))} – "
                     f"{fmt.day_label(date.fromisoformat(str(d_to)[:10]))}")
    names = names or {}
    for k, v in f.items():
        if v in (None, "", []):
            continue
        label = report.filter(k).label(lang) if report and k in report.filter_keys else k
        values = v if isinstance(v, list | tuple) else [v]
        shown = [names.get(k, {}).get(str(x), str(x)) for x in values]
        parts.append(f"{label} = {', '.join(shown)}")
    return " · ".join(parts)
