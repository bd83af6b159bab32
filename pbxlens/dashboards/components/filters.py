"""The filter bar of a report, generated from the report's filter keys (spec §0.3)."""

from __future__ import annotations

from dash import dcc, html

from pbxlens.dashboards.i18n import t
from pbxlens.models import vocabulary
from pbxlens.reports.catalog import FILTERS

# filter key -> (SQL over the directory, tenant-bound) giving (value, label) pairs
_DIRECTORY_SQL = {
    "queue": "SELECT id, coalesce(name, id) || ' (' || id || ')' FROM queues WHERE tenant = ?"
             " ORDER BY 2",
    "operator": "SELECT extension, extension || coalesce(' (' || name || ')', '') FROM operators"
                " WHERE tenant = ? ORDER BY extension",
    "account": "SELECT account, account || ' · ' || extension FROM accounts WHERE tenant = ?"
               " ORDER BY account",
    "billing_code": "SELECT code, code || coalesce(' – ' || description, '') FROM billing_codes"
                    " WHERE tenant = ? ORDER BY code",
    "gateway": "SELECT name, name FROM gateways WHERE tenant = ? ORDER BY name",
    # issue 5: groups, organizations / units, checktime, IVR menus
    "group": "SELECT id, coalesce(name, id) FROM ring_groups WHERE tenant = ? ORDER BY 2",
    "organization": "SELECT id, coalesce(name, id) FROM organizations WHERE tenant = ? ORDER BY 2",
    "org_unit": "SELECT id, coalesce(name, id) FROM org_units WHERE tenant = ? ORDER BY 2",
    "checktime": "SELECT id, coalesce(name, id) FROM checktimes WHERE tenant = ? ORDER BY 2",
    "ivr": "SELECT id, coalesce(name, id) FROM ivrs WHERE tenant = ? ORDER BY 2",
    "out_config": "SELECT name, name FROM outbound_configurations WHERE tenant = ? ORDER BY name",
    # billing (issue 8): the company is an organization; cost centers, divisions
    "company": "SELECT id, coalesce(name, id) FROM organizations WHERE tenant = ? ORDER BY 2",
    "cost_center": "SELECT id, coalesce(name, id) FROM cost_centers WHERE tenant = ? ORDER BY 2",
    "division": "SELECT id, coalesce(name, id) FROM divisions WHERE tenant = ? ORDER BY 2",
}
_TEXT = {"source", "destination"}


def options(con, key: str, tenant: str, lang: str, family: str = "") -> list[dict] | None:
    """Dropdown options of a multi-select filter, or None for a free-text filter."""
    if key == "status":
        return [{"value": s.code, "label": s.it if lang == "it" else s.en}
                for s in vocabulary.STATUSES]
    if key == "exit_cause":
        return [{"value": s.code, "label": f"{s.code} – {s.it if lang == 'it' else s.en}"}
                for s in vocabulary.EXIT_CAUSES]
    if key == "direction" and family == "billing":  # billing: in / out
        return [{"value": "in", "label": "Ingresso" if lang == "it" else "Incoming"},
                {"value": "out", "label": "Uscita" if lang == "it" else "Outgoing"}]
    if key == "direction":  # Call Center reports (issue 6, C26)
        return [{"value": "incoming", "label": "Ingresso" if lang == "it" else "Incoming"},
                {"value": "local", "label": "Locale" if lang == "it" else "Local"}]
    if key == "province":
        from pbxlens.models.numbers import provinces

        return [{"value": p, "label": p} for p in provinces()]
    if key == "empty_queue" or not FILTERS[key].multi:  # every yes/no filter
        return [{"value": "no", "label": t("no", lang)}, {"value": "yes", "label": t("yes", lang)}]
    sql = _DIRECTORY_SQL.get(key)
    if sql is None:
        return None
    return [{"value": v, "label": lbl} for v, lbl in con.execute(sql, [tenant]).fetchall()]


def filter_bar(defn, con, tenant: str, lang: str, d_from, d_to, chosen: dict) -> html.Div:
    fields = [html.Div([html.Label(t("date_range", lang)),
                        dcc.DatePickerRange(id="rp-dates", start_date=d_from, end_date=d_to,
                                            display_format="DD/MM/YYYY", first_day_of_week=1,
                                            minimum_nights=0, clearable=False)],
                       className="pbx-field pbx-field-dates")]
    for key in defn.filters:
        f = FILTERS[key]
        label = f.it if lang == "it" else f.en
        fid = {"type": "rp-filter", "key": key}
        opts = None if key in _TEXT else options(con, key, tenant, lang, defn.family)
        value = chosen.get(key) or []
        if opts is None:
            ctl = dcc.Input(id=fid, type="text", value=",".join(value), debounce=True,
                            placeholder="…", className="pbx-input")
        elif not f.multi:
            ctl = dcc.Dropdown(id=fid, options=opts, value=(value or ["no"])[-1],
                               clearable=False, className="pbx-dd")
        else:
            ctl = dcc.Dropdown(id=fid, options=opts, value=value, multi=True,
                               placeholder=t("any", lang), className="pbx-dd")
        fields.append(html.Div([html.Label(label), ctl], className="pbx-field"))
    return html.Div(fields, className="pbx-filters", id="rp-filterbar")


def values_to_filters(ids: list[dict], values: list) -> dict[str, list[str]]:
    """Pattern-matched filter controls → Params.filters."""
    out: dict[str, list[str]] = {}
    for fid, v in zip(ids, values, strict=True):
        key = fid["key"]
        if v is None or v == "" or v == []:
            continue
        if isinstance(v, list):
            vals = [str(x) for x in v]
        elif key in _TEXT:
            vals = [x.strip() for x in str(v).split(",") if x.strip()]
        else:
            vals = [str(v)]
        if not FILTERS[key].multi and vals == ["no"]:
            continue
        if vals:
            out[key] = vals
    return out
