"""The one formatter against its golden pairs (tests/reports/data/format_pairs.txt), and the
rule that a row of one language never mixes the separators of the other."""

from __future__ import annotations

import re
from datetime import date  # noqa: F401 (used by the pairs' literals)
from decimal import Decimal
from pathlib import Path

import pytest

from pbxlens.reports import format as fmt

PAIRS = Path(__file__).with_name("data") / "format_pairs.txt"

FUNCTIONS = {
    "count": lambda v, lang: fmt.count(v, lang=lang),
    "percent": lambda v, lang: fmt.percent(v, lang=lang),
    "percent_fixed": lambda v, lang: fmt.percent(v, style="fixed", lang=lang),
    "decimal": lambda v, lang: fmt.cell(v, "decimal", lang=lang),
    "duration": lambda v, lang: fmt.duration(v, lang=lang),
    "duration_h": lambda v, lang: fmt.cell(v, "duration_h", lang=lang),
    "hours_minutes": lambda v, _lang: fmt.hours_minutes(v),
    "money": lambda v, lang: fmt.money(v, lang=lang),
    "month": lambda v, lang: fmt.month_label(v, lang),
    "weekday": lambda v, lang: fmt.weekday_label(v, lang),
    "exact": lambda v, lang: fmt.exact(v, lang=lang),
}


def load_pairs() -> list[tuple[str, str, str, str]]:
    out = []
    for n, line in enumerate(PAIRS.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip() or line.startswith("#"):
            continue
        fn, lang, raw, want = (p.strip() for p in line.split("|"))
        out.append(pytest.param(fn, lang, raw, "" if want == '""' else want, id=f"L{n}-{fn}-{lang}"))
    return out


@pytest.mark.parametrize(("fn", "lang", "raw", "want"), load_pairs())
def test_golden_pair(fn, lang, raw, want):
    value = eval(raw)
    assert FUNCTIONS[fn](value, lang) == want


def test_pairs_cover_every_function_in_both_languages():
    seen = {(p.values[0], p.values[1]) for p in load_pairs()}
    for fn in FUNCTIONS:
        if fn != "hours_minutes":
            assert {(fn, "it"), (fn, "en")} <= seen, fn


@pytest.mark.parametrize("lang", ["it", "en"])
def test_a_row_never_mixes_separators(lang):
    """A quantity, a percentage, a decimal and money side by side: Italian uses only `,` as
    decimal separator and `.` for thousands, English the reverse."""
    row = [fmt.cell(12528, "count", lang=lang), fmt.cell(75.58, "percent", lang=lang),
           fmt.cell(0.125, "decimal", lang=lang), fmt.cell(Decimal("1051.9545"), "money", lang=lang)]
    dec = "," if lang == "it" else "."
    thousands = "." if lang == "it" else ","
    assert row[0] == f"12{thousands}528"
    for text in row[1:]:
        assert re.search(rf"\d\{dec}\d\d?(%|$)", text), (lang, text)
    assert fmt.duration(2 * 86400, lang=lang).startswith("2" + fmt.DAY_SUFFIX[lang] + " ")
