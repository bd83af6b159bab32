"""`pbxlens.store.direct`: the same rows and the same errors as `Connection.execute`, on both
back-ends; what it cannot run plainly goes through SQLAlchemy."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa

from pbxlens.store import direct, ops, schema

M, V = schema.live_members, schema.live_visits
T0 = datetime(2026, 3, 29, 0, 30, 15, 123456, tzinfo=UTC)


def _member(i: int, **kw) -> dict:
    row = {"tenant": "t", "agent": f"a{i}", "queue": "600", "queue_name": None,
           "logged_in": i % 2 == 0, "login_ts": T0 + timedelta(seconds=i), "paused": False,
           "reason": None, "pause_ts": None, "assumed": None, "updated_at": T0}
    return row | kw


def test_rows_and_writes_equal_sqlalchemy_s(stores):
    upsert = ops._upsert(stores.ops.dialect.name, M, ("tenant", "agent", "queue"),
                         tuple(c.name for c in M.columns if not c.primary_key))
    with stores.ops_write() as c:
        direct.execute(c, upsert, [_member(i) for i in range(3)])  # executemany
        direct.execute(c, upsert, [_member(1, paused=True, reason="lunch",
                                           pause_ts=T0 + timedelta(hours=1))])  # one row
        direct.execute(c, upsert, _member(7, queue_name="Sales"))  # a mapping
    by_agent = sa.select(M).where(M.c.tenant == sa.bindparam("t")).order_by(M.c.agent)
    with stores.ops_read() as c:
        mine = direct.rows(c, by_agent, {"t": "t"})
        theirs = [dict(r) for r in c.execute(by_agent, {"t": "t"}).mappings()]
    assert mine == theirs
    assert [r["agent"] for r in mine] == ["a0", "a1", "a2", "a7"]
    a1 = mine[1]
    assert a1["paused"] is True and a1["reason"] == "lunch"
    assert a1["pause_ts"] == T0 + timedelta(hours=1) and a1["pause_ts"].tzinfo is not None
    assert mine[0]["logged_in"] is True and mine[0]["pause_ts"] is None


def test_dates_and_pairs(stores):
    row = {"tenant": "t", "unique_id": "1.1", "queue": "600", "n": 0, "queue_name": None,
           "day": date(2026, 10, 25), "caller": None, "entered_at": T0, "entered_seen": True,
           "entry_pinned": False, "answered_at": None, "agent": None, "exited_at": None,
           "outcome": None, "kpi": None, "wait_s": None, "ended_at": None, "assumed": None,
           "updated_at": T0}
    with stores.ops_write() as c:
        direct.execute(c, V.insert(), [row, row | {"unique_id": "2.1", "wait_s": 4}])
    with stores.ops_read() as c:
        got = ops.select_pairs(c, V, (V.c.tenant, V.c.unique_id),
                               [("t", "2.1"), ("t", "1.1"), ("t", "9.9"), ("u", "1.1")])
    assert sorted((r["unique_id"], r["day"], r["wait_s"]) for r in got) == [
        ("1.1", date(2026, 10, 25), None), ("2.1", date(2026, 10, 25), 4)]


def test_what_is_not_plain_goes_through_sqlalchemy(stores):
    u = schema.users  # created_at and the flags have Python-side defaults
    assert direct._plan(stores.ops.dialect, u.insert(), ("password_hash", "role", "username")
                        ) is None
    with stores.ops_write() as c:
        direct.execute(c, u.insert(), {"username": "ann", "password_hash": "x",
                                       "role": "operator"})
    expanding = sa.select(u.c.username).where(u.c.username.in_(sa.bindparam("names",
                                                                             expanding=True)))
    assert direct._plan(stores.ops.dialect, expanding, None) is None
    with stores.ops_read() as c:
        assert direct.rows(c, expanding, {"names": ["ann", "bob"]}) == [{"username": "ann"}]
        (ann,) = direct.rows(c, sa.select(u).where(u.c.username == "ann"))
    assert ann["created_at"].tzinfo is not None and ann["privacy"] is False


def test_errors_are_sqlalchemy_s(stores):
    with pytest.raises(sa.exc.IntegrityError), stores.ops_write() as c:
        direct.execute(c, M.insert(), [_member(1), _member(1)])
    with stores.ops_read() as c:
        assert direct.rows(c, sa.select(M)) == []  # the transaction was rolled back
        with pytest.raises(KeyError, match="'t'"):
            direct.rows(c, sa.select(M).where(M.c.tenant == sa.bindparam("t")), {})


def test_listened_statements_go_through_sqlalchemy(stores):
    seen: list[str] = []

    def count(conn, cursor, statement, *_):
        seen.append(statement.split(None, 1)[0])

    sa.event.listen(stores.ops, "before_cursor_execute", count)
    try:
        with stores.ops_read() as c:
            direct.rows(c, sa.select(M))
    finally:
        sa.event.remove(stores.ops, "before_cursor_execute", count)
    assert "SELECT" in seen


@pytest.mark.parametrize("ops_url", ["postgresql"], indirect=True)  # psycopg's prepared plans
def test_pair_look_ups_are_planned_for_their_values(stores):
    """psycopg prepares a statement run five times on a connection; PostgreSQL may then keep
    a generic plan made while the live tables were nearly empty (a sequential scan)."""
    e = schema.live_call_ends
    by_tenant = sa.select(e).where(e.c.tenant == sa.bindparam("t"))
    with stores.ops_read() as c:
        for _ in range(8):
            ops.select_pairs(c, e, (e.c.tenant, e.c.unique_id), [("t", "1.1"), ("t", "2.1")])
            direct.rows(c, by_tenant, {"t": "t"})
        prepared = [r[0] for r in c.exec_driver_sql(
            "SELECT statement FROM pg_prepared_statements").all()]
    assert any("live_call_ends.tenant = $1" in s and "ANY" not in s for s in prepared), prepared
    assert not any("ANY" in s for s in prepared), prepared
