"""The privacy mask: last three digits of external numbers as `xxx`, everywhere."""

from __future__ import annotations

import pytest

from pbxlens.reports.catalog import ColumnOut, Result, TableOut
from pbxlens.store.privacy import mask_number, mask_result, mask_text

PAIRS = """
0461123456        | 0461123xxx
+39 0461 123456   | +39 0461 123xxx
3331234567        | 3331234xxx
201               | 201
5263              | 5263
                  |
""".strip().splitlines()


@pytest.mark.parametrize("line", PAIRS)
def test_mask_number_pairs(line):
    raw, expected = (x.strip() for x in line.split("|"))
    assert mask_number(raw) == expected


def test_mask_text_leaves_dates_hours_and_extensions():
    assert mask_text("01/06/2026") == "01/06/2026"
    assert mask_text("10:00") == "10:00"
    assert mask_text("526 (Ombretta 526)") == "526 (Ombretta 526)"
    assert mask_text("0461123456 (Rossi)") == "0461123xxx (Rossi)"


def _result() -> Result:
    t = TableOut("t", "Numbers", [ColumnOut("caller", "Caller", "", "number"),
                                  ColumnOut("n", "qty", "", "count")],
                 rows=[{"label": "0461123456", "level": 0, "caller": "3331234567", "n": 3}],
                 totals={"label": "Totals", "level": "total", "n": 3}, summary={})
    return Result("x", "X", "en", {"from": "2026-05-01", "to": "2026-05-02",
                                   "source": ["0461999888"]}, [t])


def test_mask_result_masks_cells_labels_filters_and_keeps_original():
    r = _result()
    m = mask_result(r, privacy=False)
    row = m.tables[0].rows[0]
    assert row["caller"] == "3331234xxx" and row["label"] == "0461123xxx" and row["n"] == 3
    assert m.filters["source"] == ["0461999xxx"]
    assert r.tables[0].rows[0]["caller"] == "3331234567"  # a copy, not in place
    assert mask_result(r, privacy=True) is r
