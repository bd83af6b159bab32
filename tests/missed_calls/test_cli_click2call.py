"""`pbxlens missed ...` end to end (real store file, the real typer app) and click to call
against the fake PBX over real HTTP."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from pbxlens.cli import app
from pbxlens.missed_calls import click2call
from pbxlens.missed_calls import operations as op
from pbxlens.simulate.fake_pbx import FakePbx
from tests.missed_calls.helpers import Cdr, at, request_of

USERS = (("michael", "operator", "515"), ("celeste", "operator", "500"), ("boss", "supervisor", None))


@pytest.fixture
def store_file(con, tmp_path):
    for name, role, ext in USERS:
        con.execute("INSERT INTO web_users (username, password_hash, role, extension) "
                    "VALUES (?, 'x', ?, ?)", [name, role, ext])
    c = Cdr(con)
    c.dynamic_routing("3331234567", "09:00:00")
    c.dynamic_routing("3349998888", "09:05:00")
    c.commit()
    path = con.execute("SELECT path FROM duckdb_databases() WHERE database_name = current_database()"
                       ).fetchone()[0]
    con.close()
    return path


def cli(*args):
    return CliRunner().invoke(app, ["missed", *args])


def test_cli_list_book_conflict_assign_flush(store_file):
    db = ["--db", store_file]
    r = cli("list", "-u", "celeste", "--json", *db)
    assert r.exit_code == 0, r.output
    assert [x["call_num"] for x in json.loads(r.output)] == ["3331234567", "3349998888"]
    assert cli("book", "+39 333 123 4567", "-u", "michael", *db).exit_code == 0
    r = cli("book", "3331234567", "-u", "celeste", *db)
    assert r.exit_code != 0 and "already booked by michael" in str(r.exception or r.output)
    r = cli("list", "-u", "michael", "--view", "booked", "--json", *db)
    assert [x["call_num"] for x in json.loads(r.output)] == ["3331234567"]
    r = cli("assign", "3349998888", "celeste", "-u", "michael", *db)
    assert r.exit_code != 0 and "supervisors" in str(r.exception)
    assert cli("assign", "3349998888", "celeste", "-u", "boss", *db).exit_code == 0
    assert cli("flush", "3331234567", "-u", "boss", *db).exit_code == 0
    r = cli("list", "-u", "boss", "--view", "all", "--json", *db)
    states = {x["call_num"]: (x["state"], x["closure"], x["booked_by"]) for x in json.loads(r.output)}
    assert states == {"3331234567": ("closed", "forced_closure", ""),
                      "3349998888": ("open", "", "celeste")}
    r = cli("history", "-u", "boss", *db)
    assert all(a in r.output for a in ("book", "assign", "flush"))
    assert cli("settings", "-u", "boss", "success_min_billsec", "abc", *db).exit_code != 0
    assert cli("reconcile", *db).exit_code == 0


def test_click_to_call_originates_through_the_fake_pbx(con, monkeypatch):
    from pbxlens.config import get_settings

    pbx = FakePbx()
    srv, url = pbx.start()
    try:
        monkeypatch.setenv("PBXLENS_PBX_URL", url)
        monkeypatch.setenv("PBXLENS_PBX_USER", "admin")
        monkeypatch.setenv("PBXLENS_PBX_PASSWORD", "admin")
        get_settings.cache_clear()
        c = Cdr(con)
        c.dynamic_routing("3331234567", "09:00:00")
        c.commit()
        db = op.Db.from_connection(con)
        me = op.Actor("michael", "operator", "default", "515")
        assert click2call.configured(db) is None  # the `originate` setting is off
        op.set_setting(db, op.Actor("boss", "supervisor"), "originate", "yes")
        key = request_of(con, "3331234567")["request_key"]
        r = click2call.call(db, me, key, click2call.configured(db), now=at("10:00:00"))
        assert r["tel"] == "tel:03331234567" and r["originated"] and r["call_uuid"] == "c2c-1"
        assert pbx.originated == [("515", "03331234567")]
        assert op.list_requests(db, me, "to_call", now=at("10:00:30")) == []  # hidden (R6b)
        with pytest.raises(op.MissedError, match="no extension"):
            click2call.call(db, op.Actor("mario"), key, click2call.configured(db))
    finally:
        srv.shutdown()
        get_settings.cache_clear()
