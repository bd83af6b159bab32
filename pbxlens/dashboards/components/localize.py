"""Every page's library components in the user's language, in one place: AG Grid's own texts
(`localeText`), the pickers' placeholders, plotly's mode bar. Pages build grids and pickers as
they like; the app passes each page's layout through `localize` (defaults only: what a page
sets itself is kept)."""

from __future__ import annotations

import functools
from collections.abc import Callable

from pbxlens.dashboards.i18n import grid_locale, t


def _grid(c, lang: str) -> None:
    opts = dict(getattr(c, "dashGridOptions", None) or {})
    opts.setdefault("localeText", grid_locale(lang))
    c.dashGridOptions = opts


def _dropdown(c, lang: str) -> None:
    if getattr(c, "placeholder", None) is None:
        c.placeholder = t("select", lang)


def _date_range(c, lang: str) -> None:
    if getattr(c, "start_date_placeholder_text", None) is None:
        c.start_date_placeholder_text = t("start_date", lang)
    if getattr(c, "end_date_placeholder_text", None) is None:
        c.end_date_placeholder_text = t("end_date", lang)


def _date_single(c, lang: str) -> None:
    if getattr(c, "placeholder", None) is None:
        c.placeholder = t("start_date", lang)


def _graph(c, lang: str) -> None:
    from pbxlens.dashboards.components.charts import graph_config

    c.config = {**graph_config(lang), **(getattr(c, "config", None) or {})}


FIXES: dict[str, Callable] = {"AgGrid": _grid, "Dropdown": _dropdown,
                              "DatePickerRange": _date_range, "DatePickerSingle": _date_single,
                              "Graph": _graph}


def localize(layout, lang: str):
    """`layout` with the language defaults set on its grids, pickers and graphs (in place)."""
    stack = [layout]
    while stack:
        c = stack.pop()
        if isinstance(c, list | tuple):
            stack.extend(c)
            continue
        if not hasattr(c, "_prop_names"):
            continue
        fix = FIXES.get(type(c).__name__)
        if fix is not None:
            fix(c, lang)
        children = getattr(c, "children", None)
        if children is not None:
            stack.append(children)
    return layout


def localized(page_layout: Callable, lang_of: Callable[[], str]) -> Callable:
    """A page's layout function whose output goes through `localize`."""

    @functools.wraps(page_layout)
    def layout(**kwargs):
        return localize(page_layout(**kwargs), lang_of())

    return layout
