"""A saved view run as a user and rendered to a file: the same typed XLSX as the page's export,
the CSV of the CLI, or the printed page as PDF.

The report runs through the web app's one service (`dashboards.service.run_report`): the user's
role, tenant and privacy mask apply, so a scheduled file never holds a number its owner could
not see on the page.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from datetime import date

from pbxlens import PbxlensError
from pbxlens.dashboards import service
from pbxlens.dashboards.i18n import t
from pbxlens.delivery import Attachment
from pbxlens.reports import Guard, Params, Result, export, get
from pbxlens.reports import applied as applied_filters
from pbxlens.store import Stores
from pbxlens.store.users import User

FORMATS = ("xlsx", "csv", "pdf")
CONTENT_TYPES = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "csv": "text/csv",
    "pdf": "application/pdf",
}
_UNSAFE = re.compile(r"[^\w.-]+")


class RenderError(PbxlensError):
    """A view that cannot be run or rendered (unknown format, the report refused)."""


@dataclass(frozen=True)
class Rendered:
    result: Result
    attachment: Attachment
    applied: str  # the applied-filter line, with names


def check_format(fmt: str) -> str:
    f = (fmt or "").strip().lower()
    if f not in FORMATS:
        raise RenderError(f"format must be one of {', '.join(FORMATS)}, got {fmt!r}")
    return f


def run_as(stores: Stores, user: User, report_id: str, params: Params,
           guard: Guard | None = None) -> Result:
    """The report as `user` sees it (roles, tenant, mask), or RenderError."""
    try:
        return service.run_report(stores, user, report_id, params, guard=guard)
    except service.WebError as exc:
        raise RenderError(str(exc)) from None


def applied_line(stores: Stores, user: User, result: Result, lang: str) -> str:
    defn = get(result.report)
    with stores.cursor() as cur:
        names = applied_filters.value_names(defn, cur, user.tenant, lang, result.filters)
    return applied_filters.line(result.filters, defn, lang, names)


def file_name(stem: str, result: Result, fmt: str) -> str:
    """`Queues_weekly_2026-05-04_2026-05-10.xlsx`: a name safe on every mail client.

    Example:
        >>> from pbxlens.reports.catalog import Result
        >>> file_name("Code / settimana", Result("cdr.queues", "", "it",
        ...           {"from": "2026-05-04", "to": "2026-05-10"}, []), "pdf")
        'Code_settimana_2026-05-04_2026-05-10.pdf'
    """
    base = _UNSAFE.sub("_", stem).strip("_.")[:80] or result.report
    return f"{base}_{result.filters.get('from', '')}_{result.filters.get('to', '')}.{fmt}"


def to_bytes(stores: Stores, user: User, result: Result, fmt: str, lang: str,
             applied: str) -> bytes:
    if fmt == "xlsx":
        buf = io.BytesIO()
        export.to_xlsx(result, buf)
        return buf.getvalue()
    if fmt == "csv":
        return export.to_csv(result).encode("utf-8")
    from pbxlens.views import pdf, printed

    html = printed.html_page(result, get(result.report), lang, applied,
                             footer=f"pbxlens · {user.username}", no_rows=t("no_rows", lang))
    return pdf.print_pdf(html)


def render(stores: Stores, user: User, report_id: str, params: Params, fmt: str, *,
           stem: str | None = None, guard: Guard | None = None) -> Rendered:
    """Run `report_id` as `user` and render it to `fmt` (xlsx | csv | pdf)."""
    fmt = check_format(fmt)
    result = run_as(stores, user, report_id, params, guard)
    applied = applied_line(stores, user, result, params.lang)
    data = to_bytes(stores, user, result, fmt, params.lang, applied)
    name = file_name(stem or report_id, result, fmt)
    return Rendered(result, Attachment(name, CONTENT_TYPES[fmt], data), applied)


def render_view(stores: Stores, view, user: User, fmt: str, *, today: date,
                lang: str | None = None) -> Rendered:
    """A saved view on the PBX-local day `today` (its relative period resolved on that day)."""
    params = view.query.params(today, lang or user.lang)
    return render(stores, user, view.report_id, params, fmt, stem=view.name)
