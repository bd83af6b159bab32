"""Upgrade from the one-store version: a DuckDB file made by the previous schema (migrations up
to 0013) with users, widgets, bookings, history, tickets and trace records; after the first
start of this version every row is in the operations store and the DuckDB tables are gone."""

from __future__ import annotations

from datetime import UTC, datetime

import duckdb
import sqlalchemy as sa

from pbxlens.store import Stores, analytics, schema, users

OLD = 13


def _old_store(path) -> None:
    con = duckdb.connect(str(path))
    con.execute("CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT"
                " NULL, applied_at TIMESTAMPTZ NOT NULL DEFAULT current_timestamp)")
    for version, name, sql in analytics.migrations():
        if version <= OLD:
            con.execute(sql)
            con.execute("INSERT INTO schema_migrations (version, name) VALUES (?, ?)",
                        [version, name])
    con.execute("""INSERT INTO web_users (username, password_hash, role, privacy, tenant,
                   extension, lang) VALUES (?, ?, 'operator', false, 'default', '201', 'it'),
                   (?, ?, 'admin', true, 'default', NULL, 'en')""",
                ["anna", users.hash_password("password-1"), "root", users.hash_password("x" * 9)])
    con.execute("""INSERT INTO web_widgets (owner, title, report_id, params, position)
                   VALUES (1, 'Code', 'cdr.queues', '{"filters": {"queue": ["700"]}}', 1)""")
    con.execute("INSERT INTO web_settings VALUES ('secret_key', 'abc'), ('ui.x', '1')")
    con.execute("""INSERT INTO missed_bookings VALUES
                   ('default', '0461123456', 'anna', '201', TIMESTAMPTZ '2026-05-11 09:00:00+02',
                    NULL)""")
    con.execute("""INSERT INTO missed_history (tenant, call_num, request_key, at_ts, actor,
                   action) VALUES ('default', '0461123456', '0461123456|1.1',
                   TIMESTAMPTZ '2026-05-11 09:00:00+02', 'anna', 'book')""")
    con.execute("INSERT INTO ticket_companies (tenant, name) VALUES ('default', 'Acme')")
    con.execute("""INSERT INTO tickets (number, title, account_id, final_customer_id, priority,
                   type, created_at, updated_at) VALUES ('TICK-0007', 'Rete giu', 1, 1,
                   'priorita 1', 'assistenza', now(), now())""")
    con.execute("UPDATE ticket_counters SET value = 7 WHERE name = 'TICK'")
    con.execute("INSERT INTO ticket_calls VALUES (1, '1747040000.12')")
    con.execute("""INSERT INTO trace_records (number, direction, caller, type, priority,
                   start_at) VALUES ('CHM-IN-0001', 'in', '0461123456', 'assistenza',
                   'priorita 2', now())""")
    con.close()


def test_previous_store_upgrades_with_every_row(tmp_path, ops_url):
    path = tmp_path / "old.duckdb"
    _old_store(path)
    with Stores(path, ops_url) as s:
        names = {u.username: u for u in users.list_users(s)}
        assert set(names) == {"anna", "root"} and names["anna"].extension == "201"
        assert users.authenticate(s, "anna", "password-1", "1.1.1.1").role == "operator"
        with s.ops_read() as c:
            w = c.execute(sa.select(schema.widgets)).mappings().one()
            assert w["params"] == {"filters": {"queue": ["700"]}}
            b = c.execute(sa.select(schema.missed_bookings)).mappings().one()
            assert b["booked_by"] == "anna"
            assert b["booked_at"] == datetime(2026, 5, 11, 7, 0, tzinfo=UTC)
            assert c.execute(sa.select(schema.missed_history.c.action)).scalars().all() == ["book"]
            t = c.execute(sa.select(schema.tickets)).mappings().one()
            assert (t["number"], t["title"]) == ("TICK-0007", "Rete giu")
            counter = c.execute(sa.select(schema.ticket_counters.c.value)
                                .where(schema.ticket_counters.c.name == "TICK")).scalar_one()
            assert counter == 7
            assert c.execute(sa.select(schema.ticket_calls.c.unique_id)).scalar_one() == \
                "1747040000.12"
            assert c.execute(sa.select(schema.trace_records.c.number)).scalar_one() == \
                "CHM-IN-0001"
            # new rows get fresh ids after the copied ones (PostgreSQL sequences moved on)
            new_id = c.execute(schema.ticket_companies.insert().values(
                tenant="default", name="Beta").returning(schema.ticket_companies.c.id)
            ).scalar_one()
            assert new_id == 2
        with s.cursor() as cur:
            left = {r[0] for r in cur.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
        assert not left & {"web_users", "tickets", "trace_records", "missed_history"}
        assert "missed_bookings" in left  # kept as the writer's copy for the reports
    with Stores(path, ops_url) as s:  # a second start copies nothing twice
        assert len(users.list_users(s)) == 2
