"""The filter bar of a report, generated from the report's filter definitions (spec §0.3):
each definition says how its values are read and where its choices come from."""

from __future__ import annotations

from dash import dcc, html

from pbxlens.dashboards.i18n import t
from pbxlens.reports import Report, periods


def _day_picker(cid: str, value, lang: str) -> dcc.DatePickerSingle:
    # one picker per date: a range picker moves the focus to its end date while the start date
    # is still being typed
    return dcc.DatePickerSingle(id=cid, date=value, display_format="DD/MM/YYYY",
                                first_day_of_week=1, clearable=False, placeholder="GG/MM/AAAA"
                                if lang == "it" else "DD/MM/YYYY", className="pbx-date")


def period_field(lang: str, period: str) -> html.Div:
    options = [{"value": p, "label": periods.label(p, lang)}
               for p in (periods.FIXED, *periods.PERIODS)]
    return html.Div([html.Label(t("period", lang)),
                     dcc.Dropdown(id="rp-period", options=options, value=period,
                                  clearable=False, className="pbx-dd")], className="pbx-field")


def filter_bar(defn: Report, con, tenant: str, lang: str, d_from, d_to, chosen: dict,
               period: str = periods.FIXED) -> html.Div:
    fields = [period_field(lang, period),
              html.Div([html.Label(t("date_from_label", lang)),
                        _day_picker("rp-from", d_from, lang)], className="pbx-field pbx-field-day"),
              html.Div([html.Label(t("date_to_label", lang)),
                        _day_picker("rp-to", d_to, lang)], className="pbx-field pbx-field-day")]
    for f in defn.filters:
        fid = {"type": "rp-filter", "key": f.key}
        value = chosen.get(f.key) or []
        if f.options is None:  # free text (numbers, codes): the CLI's comma syntax
            ctl = dcc.Input(id=fid, type="text", value=",".join(value), debounce=True,
                            placeholder="…", className="pbx-input")
        elif not f.multi:
            ctl = dcc.Dropdown(id=fid, options=f.options(con, tenant, lang),
                               value=(value or ["no"])[-1], clearable=False, className="pbx-dd")
        else:
            ctl = dcc.Dropdown(id=fid, options=f.options(con, tenant, lang), value=value,
                               multi=True, placeholder=t("any", lang), className="pbx-dd")
        fields.append(html.Div([html.Label(f.label(lang)), ctl], className="pbx-field",
                               id=f"rp-field-{f.key}"))
    return html.Div(fields, className="pbx-filters", id="rp-filterbar")


def reset_value(defn: Report, key: str):
    """A control's empty value: "" for a text box, "no" for a yes/no choice, [] otherwise."""
    f = defn.filter(key)
    if f.options is None:
        return ""
    return [] if f.multi else "no"


def values_to_filters(defn: Report, ids: list[dict], values: list) -> dict[str, list[str]]:
    """Pattern-matched filter controls → Params.filters."""
    out: dict[str, list[str]] = {}
    for fid, v in zip(ids, values, strict=True):
        f = defn.filter(fid["key"])
        if v is None or v == "" or v == []:
            continue
        if isinstance(v, list):
            vals = [str(x) for x in v]
        elif f.options is None and f.multi:
            vals = [x.strip() for x in str(v).split(",") if x.strip()]
        else:
            vals = [str(v)]
        if not f.multi and vals == ["no"]:
            continue
        if vals:
            out[f.key] = vals
    return out
