"""The Call Center CDR as a source of callback requests (issue 9 A.3 with issue 6): a store fed
only by the CC CDR gets one request per caller whose incoming queue call no visit answered;
when the CDR holds the call too, the CDR decides."""

from __future__ import annotations

import json
from datetime import date

import pytest

from pbxlens.ingest import ingest_paths
from pbxlens.missed_calls.numbers import national
from pbxlens.simulate import generate


@pytest.fixture
def con(duck):
    return duck  # the state machine alone


def _missed_numbers(rows: list[dict]) -> dict[str, int]:
    by_call: dict[str, list[dict]] = {}
    for r in rows:
        if (r.get("direction") or "incoming") == "incoming":
            by_call.setdefault(r["unique_id"], []).append(r)
    out: dict[str, int] = {}
    for visits in by_call.values():
        if any(v.get("answer_datetime") for v in visits):
            continue
        num = national(visits[0].get("caller"))
        if num and not num.isalpha():
            out[num] = out.get(num, 0) + 1
    return out


def test_cc_only_store_gets_the_unanswered_queue_callers(con, tmp_path):
    generate(tmp_path / "sim", days=1, calls_per_day=300, seed=21, start=date(2026, 5, 12),
             formats=["cc-json"])
    rows = json.loads((tmp_path / "sim" / "cc_cdr.json").read_text())
    want = _missed_numbers(rows)
    assert want, "the simulation has unanswered queue calls"
    ingest_paths(con, [tmp_path / "sim" / "cc_cdr.json"])
    got = dict(con.execute("SELECT call_num, sum(num_calls) FROM missed_requests "
                           "GROUP BY call_num").fetchall())
    assert got == want
    assert {r[0] for r in con.execute("SELECT DISTINCT source FROM missed_events").fetchall()} \
        == {"callcenter"}


def test_the_cdr_decides_when_it_holds_the_call(con, tmp_path):
    generate(tmp_path / "sim", days=1, calls_per_day=300, seed=21, start=date(2026, 5, 12),
             formats=["csv-detailed", "cc-json"])
    ingest_paths(con, [tmp_path / "sim" / "cc_cdr.json"])
    ingest_paths(con, [tmp_path / "sim" / "cdr_detailed.csv"])  # the CDR arrives later
    sources = {r[0] for r in con.execute("SELECT DISTINCT source FROM missed_events").fetchall()}
    assert "callcenter" not in sources  # every CC call is in the CDR: the CDR decides
    before = con.execute("SELECT call_num, num_calls FROM missed_requests ORDER BY 1").fetchall()
    from pbxlens.missed_calls import reconcile

    reconcile.rebuild_all(con)  # incremental == full
    assert con.execute("SELECT call_num, num_calls FROM missed_requests ORDER BY 1").fetchall() \
        == before
