"""Call a Dash callback over HTTP the way the browser's renderer does."""

from __future__ import annotations

import json


def _sid(cid) -> str:
    return json.dumps(cid, sort_keys=True, separators=(",", ":")) if isinstance(cid, dict) else cid


def dash_call(client, outputs: list[tuple], inputs: list, state: list | None = None,
              changed: list[str] | None = None):
    """outputs: [(id, prop)]; inputs/state: the renderer's lists of {"id", "property", "value"}
    (a list of such dicts for an ALL pattern). Returns the httpx response."""
    outs = [{"id": i, "property": p} for i, p in outputs]
    if len(outs) == 1:
        out_str, outs = f"{_sid(outputs[0][0])}.{outputs[0][1]}", outs[0]
    else:
        out_str = ".." + "...".join(f"{_sid(i)}.{p}" for i, p in outputs) + ".."
    if changed is None:
        first = inputs[0][0] if isinstance(inputs[0], list) else inputs[0]
        changed = [f"{_sid(first['id'])}.{first['property']}"]
    body = {"output": out_str, "outputs": outs, "inputs": inputs, "state": state or [],
            "changedPropIds": changed}
    return client.post("/_dash-update-component", json=body)


def report_state(report_id: str, d_from: str, d_to: str, filters: dict[str, object],
                 period: str = "fixed"):
    """State of the report page's `show_report` callback."""
    return [
        {"id": "rp-report", "property": "data", "value": report_id},
        {"id": "rp-period", "property": "value", "value": period},
        {"id": "rp-from", "property": "date", "value": d_from},
        {"id": "rp-to", "property": "date", "value": d_to},
        [{"id": {"type": "rp-filter", "key": k}, "property": "value", "value": v}
         for k, v in filters.items()],
        [{"id": {"type": "rp-filter", "key": k}, "property": "id",
          "value": {"type": "rp-filter", "key": k}} for k in filters],
    ]


def show_report(client, report_id, d_from, d_to, filters, period="fixed"):
    return dash_call(client, [("rp-content", "children"), ("rp-params", "data"),
                              ("rp-search", "data")],
                     [{"id": "rp-apply", "property": "n_clicks", "value": 1}],
                     report_state(report_id, d_from, d_to, filters, period))


def export_table(client, report_id, params: dict, table: int = 0):
    cid = {"type": "rp-export", "table": table}
    return dash_call(client, [("rp-download", "data")],
                     [[{"id": cid, "property": "n_clicks", "value": 1}]],
                     [{"id": "rp-params", "property": "data", "value": params},
                      {"id": "rp-report", "property": "data", "value": report_id}])


def show_more(client, more: dict, params: dict, report_id: str):
    """The report page's later tables (`rp-more-key` from `show_report`'s content)."""
    return dash_call(client, [("rp-more", "children")],
                     [{"id": "rp-more-go", "property": "data", "value": more}],
                     [{"id": "rp-params", "property": "data", "value": params},
                      {"id": "rp-report", "property": "data", "value": report_id}])


def report_content(client, report_id, d_from, d_to, filters) -> list:
    """The report page's content as the browser ends up showing it: `show_report`'s, then its
    later tables (`show_more`) in their place."""
    body = show_report(client, report_id, d_from, d_to, filters).json()["response"]
    content = body["rp-content"]["children"]
    more = next((x["props"]["data"] for x in content
                 if isinstance(x, dict) and x.get("props", {}).get("id") == "rp-more-key"), None)
    if more:
        rest = show_more(client, more, body["rp-params"]["data"], report_id).json()["response"]
        content = [*content, *rest["rp-more"]["children"]]
    return content
