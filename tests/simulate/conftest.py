from __future__ import annotations

import csv
import json
from datetime import date
from pathlib import Path

import pytest

from pbxlens.simulate import ALL_FORMATS, generate


def read_detailed(path: Path) -> tuple[list[str], dict[str, list[dict]]]:
    """Rows of cdr_detailed.csv grouped by unique_id (file order kept)."""
    calls: dict[str, list[dict]] = {}
    with open(path, encoding="utf-8", newline="") as f:
        r = csv.DictReader(f)
        header = list(r.fieldnames or [])
        for row in r:
            calls.setdefault(row["unique_id"], []).append(row)
    return header, calls


class Run:
    def __init__(self, out: Path, summary):
        self.out = out
        self.summary = summary
        self.header, self.calls = read_detailed(out / "cdr_detailed.csv")
        self.directory = json.loads((out / "directory.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def spring_run(tmp_path_factory) -> Run:
    """A week crossing the spring DST change (2026-03-29), all formats."""
    out = tmp_path_factory.mktemp("spring")
    s = generate(out, days=7, calls_per_day=1200, seed=7, start=date(2026, 3, 25),
                 formats=ALL_FORMATS)
    return Run(out, s)


@pytest.fixture(scope="session")
def autumn_run(tmp_path_factory) -> Run:
    """Days around the autumn DST change (2026-10-25), detailed CSV only."""
    out = tmp_path_factory.mktemp("autumn")
    s = generate(out, days=4, calls_per_day=1500, seed=3, start=date(2026, 10, 23),
                 formats=["csv-detailed"])
    return Run(out, s)


@pytest.fixture(scope="session", params=["spring", "autumn"])
def any_run(request, spring_run, autumn_run) -> Run:
    return spring_run if request.param == "spring" else autumn_run
