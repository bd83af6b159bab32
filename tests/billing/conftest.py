from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

import pytest

from pbxlens.billing import rating_keys
from pbxlens.store import analytics as db
from tests import templates


@pytest.fixture()
def con(tmp_path):
    c = db.connect(templates.analytics(tmp_path / "b.duckdb"))  # a copy of a migrated one
    c.execute("INSERT INTO organizations VALUES ('default', 'ACME', 'Acme'), ('default', 'NEXT', 'Nextup')")
    c.execute("INSERT INTO operators VALUES ('default', '201', 'Anna', 'ACME', NULL, NULL, NULL, NULL),"
              " ('default', '202', 'Bruno', 'NEXT', NULL, NULL, NULL, NULL)")
    yield c
    c.close()


_n = [0]


def add_call(con, *, direction="outgoing", start="2022-06-01 10:00:00", bill=60, number="0612345678",
             ext="201", gateway="GW1", line=None, cfg=None, batch=1):
    """One call (and its obl leg for outgoing calls) in calls/call_legs."""
    _n[0] += 1
    uid = f"{1654070400 + _n[0]}.{_n[0]}"
    ts = datetime.fromisoformat(start)
    caller, called = (ext, number) if direction == "outgoing" else (number, "0287654300")
    con.execute(
        "INSERT INTO calls (tenant, unique_id, leg_branch, status, start_ts, start_local, caller, called,"
        " gateway_name, answered_by, duration_s, bill_s, direction, path_len, path_incomplete,"
        " content_hash, batch_id) VALUES ('default', ?, 0, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, false, 0, ?)",
        [uid, "OK" if bill else "NOANSWER", ts, ts, caller, called, gateway,
         ext if direction == "incoming" else number, int(Decimal(str(bill))) + 5, Decimal(str(bill)),
         direction, batch])
    if direction == "outgoing":
        con.execute("INSERT INTO call_legs (tenant, unique_id, leg_branch, seq, dest_type, dest_id, dest_name,"
                    " dest_num, batch_id) VALUES ('default', ?, 0, 1, 'obl', ?, ?, ?, ?)",
                    [uid, cfg or "=CFG1()", line or gateway, number, batch])
    rating_keys.refresh(con, batch)  # as an ingest batch does
    return uid


def costs(con, method="tariff"):
    return {r[0]: r[1:] for r in con.execute(
        "SELECT unique_id, tariff_id, profile_id, billed_s, free_s, cost, cost_nofree FROM call_costs "
        "WHERE method = ? ORDER BY start_ts", [method]).fetchall()}


def later(start: str, seconds: int) -> str:
    return str(datetime.fromisoformat(start) + timedelta(seconds=seconds))
