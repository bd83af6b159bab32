"""`pbxlens report ID --format json` stays byte-identical: every report of the catalog, in both
languages and once per filter it accepts, on one fixed store, against the JSON written from
`main` before reports became objects (tests/reports/json_contract.py)."""

from __future__ import annotations

import pytest

from . import json_contract as jc


@pytest.fixture(scope="module")
def contract_store(tmp_path_factory):
    return jc.build_store(tmp_path_factory.mktemp("contract"))


def test_every_report_json_is_unchanged(contract_store):
    want = jc.read_expected()
    got = jc.all_json(contract_store)
    # reports and filters added later are not in the file; none of the old ones may go
    assert not set(want) - set(got), sorted(set(want) - set(got))
    changed = [k for k in want if got[k] != want[k]]
    assert not changed, f"{len(changed)} changed, e.g. {changed[:5]}"
