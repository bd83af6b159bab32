"""Header heights estimated on the server (the browser crawl checks no header text runs over
its cell; see tests/browser/crawl.py)."""

from __future__ import annotations

from pbxlens.dashboards.components.report_view import header_heights


def _col(name: str, width: int) -> dict:
    return {"headerName": name, "width": width}


def test_one_line_headers_keep_the_minimum_rows():
    defs = [_col("Queue", 120), {"headerName": "Calls", "children": [_col("Total", 70)]}]
    assert header_heights(defs) == (34, 30)


def test_wrapped_headers_get_a_line_each():
    defs = [_col("", 120),
            {"headerName": "Total time worked by the operator",
             "children": [_col("Average waiting time", 80), _col("N", 60)]}]
    # three lines in the narrow column, three in the group (140 px for six words)
    assert header_heights(defs) == (15 * 3 + 11, 15 * 3 + 11)
