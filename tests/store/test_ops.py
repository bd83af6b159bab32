"""The operations store on both back-ends (SQLite file, PostgreSQL database): schema by Alembic,
users, sessions, throttling, tokens, instants that stay aware, unreachable databases."""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from pbxlens.store import direct, ops, schema, users


def test_alembic_creates_every_table_of_the_schema_once(stores):
    names = set(sa.inspect(stores.ops).get_table_names())
    assert set(schema.meta.tables) <= names
    assert ops.current_revision(stores.ops) == ops.head_revision()
    assert ops.shipped_head() == ops.head_revision() and ops.at_head(stores.ops)
    ops.upgrade(stores.ops)  # a second upgrade is a no-op
    with stores.ops_read() as c:  # the ticket configuration is seeded
        assert c.execute(sa.select(sa.func.count()).select_from(schema.ticket_types)).scalar() == 7


def test_a_store_at_the_newest_revision_opens_without_alembic(stores):
    code = ("import sys; from pbxlens.store import ops; "
            f"ops.upgrade(ops.create_engine({stores.ops_url!r})); "
            "assert 'alembic' not in sys.modules, 'alembic loaded'")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr


def test_users_sessions_and_tokens(stores):
    u = users.create_user(stores, "anna", "password-1", "operator", extension="201")
    with pytest.raises(users.PbxlensError, match="exists"):
        users.create_user(stores, "anna", "password-2", "operator")
    assert users.authenticate(stores, "anna", "password-1", "10.0.0.1") == u
    sid = users.open_session(stores, u)
    assert users.session_user(stores, sid) == u
    users.update_user(stores, u.id, disabled=True)
    assert users.session_user(stores, sid) is None  # disabling ends the sessions
    users.update_user(stores, u.id, disabled=False)
    token = users.issue_token(stores, u.id)
    assert users.token_user(stores, token).username == "anna"
    assert users.token_user(stores, token[:-1] + ("x" if token[-1] != "x" else "y")) is None
    for bad in ("pbx_99999999999999999999_x", "pbx_0_x", "pbx_-1_x", "pbx__x", "pbx_1"):
        assert users.token_user(stores, bad) is None, bad  # refused, never an error


def test_instants_come_back_aware_and_equal(stores):
    when = datetime(2026, 3, 29, 1, 30, tzinfo=UTC)  # the spring-forward night in Rome
    with stores.ops_write() as c:
        c.execute(schema.login_failures.insert().values(username="x", ip="1", failed_at=when))
    with stores.ops_read() as c:
        got = c.execute(sa.select(schema.login_failures.c.failed_at)).scalar_one()
    assert got == when and got.tzinfo is not None
    with pytest.raises(sa.exc.StatementError, match="naive"), stores.ops_write() as c:
        c.execute(schema.login_failures.insert().values(username="x", ip="1",
                                                        failed_at=datetime(2026, 1, 1)))


def test_login_throttling_per_user_and_per_address(stores):
    users.create_user(stores, "bob", "password-1", "operator")
    for _ in range(users.MAX_FAILURES):
        with pytest.raises(users.AuthError):
            users.authenticate(stores, "bob", "wrong-pass", "10.0.0.2")
    with pytest.raises(users.AuthError, match="too many"):  # even the right password
        users.authenticate(stores, "bob", "password-1", "10.0.0.2")
    assert users.authenticate(stores, "bob", "password-1", "10.0.0.3").username == "bob"
    # spraying: one address, a different username each time
    for i in range(users.MAX_ADDRESS_FAILURES):
        with pytest.raises(users.AuthError):
            users.authenticate(stores, f"guess{i}", "password-1", "10.0.0.9")
    with pytest.raises(users.AuthError, match="too many"):
        users.authenticate(stores, "bob", "password-1", "10.0.0.9")


def test_concurrent_user_creation_has_one_winner(stores):
    outcomes: list[str] = []

    def create() -> None:
        try:
            users.create_user(stores, "same", "password-1", "operator")
            outcomes.append("ok")
        except users.PbxlensError:
            outcomes.append("refused")
        except sa.exc.IntegrityError:
            outcomes.append("refused")

    threads = [threading.Thread(target=create) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["ok"] + ["refused"] * 7
    assert [u.username for u in users.list_users(stores)] == ["same"]


def test_an_unreachable_postgresql_is_one_clear_error(tmp_path):
    engine = ops.create_engine(f"postgresql+psycopg://pbxlens:secret@/x?host={tmp_path}&port=1")
    with pytest.raises(ops.OpsUnavailable, match="unavailable") as exc, \
            ops.unavailable_as_error(engine), engine.connect():
        pass
    assert "secret" not in str(exc.value)  # the password never reaches a message


def test_a_read_only_sqlite_file_fails_at_start_up_in_one_line(tmp_path):
    path = tmp_path / "ops.sqlite"
    ops.upgrade(ops.create_engine(f"sqlite:///{path}"))
    # SQLite's read-only open is what a read-only disk gives the driver
    engine = ops.create_engine(f"sqlite:///file:{path}?mode=ro&uri=true")
    with pytest.raises(ops.OpsUnavailable, match="cannot write the operations store") as exc:
        ops.check_writable(engine)
    assert len(str(exc.value).splitlines()) == 1 and "readonly" in str(exc.value)


def test_expired_sessions_are_not_users(stores):
    u = users.create_user(stores, "carl", "password-1", "supervisor")
    sid = users.open_session(stores, u)
    with stores.ops_write() as c:
        c.execute(schema.sessions.update().values(
            expires_at=datetime.now(UTC) - timedelta(seconds=1)))
    assert users.session_user(stores, sid) is None


def test_the_holder_migration_backfills_booked_requests(ops_url):
    """0009 on a store of 0008 with requests and bookings: `held_by` is the holder of each
    request's valid booking (one begun before the booking), and the migrated schema equals the
    models (nothing the autogenerate would add or drop)."""
    from alembic import command
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    engine = ops.create_engine(ops_url)
    cfg = ops._alembic_config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0008_live_visit_reentry")
    t0 = datetime(2026, 5, 11, 9, tzinfo=UTC)
    with engine.begin() as c:
        for i, (num, first) in enumerate((("3331", t0), ("3332", t0), ("3333", t0 + timedelta(hours=3)))):
            c.execute(sa.text(
                "INSERT INTO callback_requests (tenant, request_key, token, call_num, first_call,"
                " last_call, num_calls, num_recalled, state, updated_at) VALUES ('default', :k,"
                " :t, :n, :f, :f, 1, 0, 'open', :f)"),
                {"k": f"{num}|{i}", "t": f"tok{i}", "n": num, "f": first.isoformat()})
        c.execute(sa.text(
            "INSERT INTO missed_bookings (tenant, call_num, booked_by, booked_at) VALUES"
            " ('default', '3331', 'michael', :b), ('default', '3333', 'celeste', :b)"),
            {"b": (t0 + timedelta(hours=1)).isoformat()})
    ops.upgrade(engine)
    r = schema.callback_requests
    with engine.connect() as c:
        got = dict(c.execute(sa.select(r.c.call_num, r.c.held_by)).all())
        diff = compare_metadata(MigrationContext.configure(c), schema.meta)
    assert got == {"3331": "michael", "3332": None, "3333": None}  # 3333 began after it
    assert not [d for d in diff if "callback_requests" in repr(d)], diff
    engine.dispose()


def test_the_inbox_migration_keeps_what_was_moved(ops_url):
    """0010 on a store of 0009 whose first two inbox rows are stamped moved: the highest
    stamped id becomes `inbox_moved_upto`, the other rows stay pending, and the migrated
    schema equals the models."""
    from alembic import command
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    from pbxlens.ingest import inbox

    engine = ops.create_engine(ops_url)
    cfg = ops._alembic_config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0009_request_holder")
    at = datetime(2026, 5, 11, 9, tzinfo=UTC).isoformat()
    with engine.begin() as c:
        for i in range(1, 5):
            c.execute(sa.text(
                "INSERT INTO event_inbox (id, source, received_at, payload, rows, moved_at)"
                " VALUES (:i, 'events', :at, '[]', 0, :m)"), {"i": i, "at": at,
                                                          "m": at if i <= 2 else None})
    ops.upgrade(engine)
    assert inbox.backlog(engine)["pending"] == 2
    with engine.connect() as c:
        assert inbox.moved_upto(c) == 2
        diff = compare_metadata(MigrationContext.configure(c), schema.meta)
    assert not [d for d in diff if "event_inbox" in repr(d)], diff
    engine.dispose()


def test_the_write_turn_is_handed_back_after_a_failed_transaction(tmp_path):
    """SQLite writers of a process queue on one turn: a transaction that fails returns it, and
    eight threads writing at once all commit, none with "database is locked"."""
    engine = ops.create_engine(f"sqlite:///{tmp_path / 'ops.sqlite'}")
    ops.upgrade(engine)
    m = schema.ops_meta
    with pytest.raises(ZeroDivisionError), engine.begin() as c:
        c.execute(m.insert().values(key="k", value="v"))
        1 / 0  # noqa: B018 -- the failure under test
    errors: list[BaseException] = []

    def write(i: int) -> None:
        try:
            for j in range(20):
                with engine.begin() as c:
                    ops.upsert(c, m, {"key": f"t{i}", "value": str(j)}, ["key"], ["value"])
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == [] and not any(t.is_alive() for t in threads)
    with engine.connect() as c:
        got = dict(c.execute(sa.select(m.c.key, m.c.value).where(m.c.key.like("t%"))).all())
    assert got == {f"t{i}": "19" for i in range(8)}
    engine.dispose()


def _turn_holder(turn) -> subprocess.Popen:
    """Another process holding the write turn's flock (not SQLite's lock)."""
    p = subprocess.Popen(
        [sys.executable, "-c", "import fcntl, os, sys, time\n"
         f"fd = os.open({str(turn)!r}, os.O_RDWR)\nfcntl.flock(fd, fcntl.LOCK_EX)\n"
         "print('held', flush=True)\ntime.sleep(60)"], stdout=subprocess.PIPE, text=True)
    assert p.stdout.readline().strip() == "held"
    return p


def _write_in_thread(engine, key: str) -> threading.Event:
    done = threading.Event()

    def write() -> None:
        with engine.begin() as c:
            c.execute(schema.ops_meta.insert().values(key=key, value="1"))
        done.set()

    threading.Thread(target=write, daemon=True).start()
    return done


def test_the_write_turn_spans_processes_and_dies_with_its_holder(tmp_path):
    """The turn is also an flock of a file beside the database (owner-only): a writer waits
    while another process holds it, and goes on at once when the holder dies, even killed."""
    engine = ops.create_engine(f"sqlite:///{tmp_path / 'ops.sqlite'}")
    ops.upgrade(engine)
    turn = tmp_path / "ops.sqlite-turn"
    assert stat.S_IMODE(turn.stat().st_mode) == 0o600
    holder = _turn_holder(turn)
    try:
        done = _write_in_thread(engine, "after")
        assert not done.wait(0.5)  # waiting for the other process's turn
        killed = time.monotonic()
        os.kill(holder.pid, signal.SIGKILL)
        assert done.wait(10) and time.monotonic() - killed < 5
    finally:
        holder.kill()
        holder.wait(10)
    engine.dispose()


def test_a_turn_never_freed_is_given_up_after_the_busy_timeout(tmp_path, monkeypatch):
    """A writer does not wait for ever on a turn nobody frees: after the busy timeout it goes
    on, and SQLite's own lock (free here) decides."""
    monkeypatch.setattr(ops, "SQLITE_BUSY_MS", 400)
    engine = ops.create_engine(f"sqlite:///{tmp_path / 'ops.sqlite'}")
    ops.upgrade(engine)
    holder = _turn_holder(tmp_path / "ops.sqlite-turn")
    try:
        t0 = time.monotonic()
        assert _write_in_thread(engine, "anyway").wait(10)
        assert 0.3 < time.monotonic() - t0 < 5
    finally:
        holder.kill()
        holder.wait(10)
    with engine.connect() as c:
        assert c.execute(sa.select(schema.ops_meta.c.value).where(
            schema.ops_meta.c.key == "anyway")).scalar_one() == "1"
    engine.dispose()


def test_pairs_are_looked_up_through_the_index(stores, monkeypatch):
    # A row-value IN read every remembered call end on SQLite at each intake commit.
    e = schema.live_call_ends
    now = datetime.now(UTC)
    with stores.ops_write() as c:
        c.execute(e.insert(), [{"tenant": t, "unique_id": f"{i}.1", "ended_at": now}
                               for t in ("a", "b") for i in range(5)])
    monkeypatch.setattr(ops, "PAIRS_CHUNK", 2)  # several IN lists per tenant
    keys = [("a", "1.1"), ("b", "1.1"), ("a", "3.1"), ("a", "4.1"), ("a", "9.1"), ("c", "1.1")]
    with stores.ops_read() as c:
        got = {(r["tenant"], r["unique_id"]) for r in ops.select_pairs(
            c, e, (e.c.tenant, e.c.unique_id), keys)}
        assert got == {("a", "1.1"), ("b", "1.1"), ("a", "3.1"), ("a", "4.1")}
        if stores.ops.dialect.name == "sqlite":
            # the statement as the intake runs it (`direct`), with the driver's parameters
            plan = direct._plan(c.dialect, ops._pairs_stmt(e, "tenant", "unique_id", False), None)
            steps = " | ".join(str(r[-1]) for r in c.exec_driver_sql(
                "EXPLAIN QUERY PLAN " + plan.sql, ("a", json.dumps(["1.1", "3.1"]))).all())
            assert "SEARCH live_call_ends" in steps and "SCAN live_call_ends" not in steps, steps


@pytest.mark.parametrize("ops_url", ["postgresql"], indirect=True)  # SQLite: no server
def test_a_postgresql_connection_is_checked_only_after_sitting_idle(ops_url, monkeypatch):
    """A connection in steady use goes out unchecked (no SELECT 1 round trip); one that sat
    idle past PING_IDLE_S is checked, and one whose backend died meanwhile is replaced
    without an error."""
    monkeypatch.setattr(ops, "PING_IDLE_S", 0.2)
    engine = ops.create_engine(ops_url)
    pings: list[int] = []
    real = engine.dialect.do_ping
    monkeypatch.setattr(engine.dialect, "do_ping", lambda con: pings.append(1) or real(con))
    backend = sa.text("SELECT pg_backend_pid()")
    try:
        with engine.connect() as c:
            first = c.execute(backend).scalar_one()
        for _ in range(5):
            with engine.connect() as c:
                assert c.execute(backend).scalar_one() == first  # the same, unchecked
        assert pings == []
        killer = sa.create_engine(ops_url, poolclass=sa.pool.NullPool)
        with killer.connect() as other:
            other.execute(sa.text("SELECT pg_terminate_backend(:p)"), {"p": first})
            other.commit()
        time.sleep(0.3)
        with engine.connect() as c:  # idle: checked, found dead, replaced
            assert c.execute(backend).scalar_one() != first
        assert pings
    finally:
        engine.dispose()
