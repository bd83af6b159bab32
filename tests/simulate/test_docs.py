"""docs/simulator.md documents every scenario and its current parameters."""

from __future__ import annotations

from pathlib import Path

from pbxlens.simulate import SCENARIOS
from pbxlens.simulate.scenarios import parameter_table

DOC = Path(__file__).parents[2] / "docs" / "simulator.md"


def test_parameter_table_is_current():
    text = DOC.read_text(encoding="utf-8")
    begin, end = "<!-- parameter-table:begin -->\n", "\n<!-- parameter-table:end -->"
    table = text[text.index(begin) + len(begin):text.index(end)]
    assert table == parameter_table(), "regenerate with scenarios.parameter_table()"


def test_every_scenario_is_described():
    text = DOC.read_text(encoding="utf-8")
    for name in SCENARIOS:
        assert f"| `{name}`" in text, name
