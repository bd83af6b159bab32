"""`pbxlens missed ...` end to end (real store files, the real typer app, both operations
back-ends) and click to call against the fake PBX over real HTTP."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from pbxlens.cli import app
from pbxlens.missed_calls import click2call, listing
from pbxlens.missed_calls import operations as op
from pbxlens.missed_calls.actor import Actor
from pbxlens.simulate.fake_pbx import FakePbx
from tests.missed_calls.helpers import Cdr, add_user, at, token_of


@pytest.fixture
def store_file(stores, monkeypatch):
    with stores.cursor() as cur:
        c = Cdr(cur, stores.ops)
        c.dynamic_routing("3331234567", "09:00:00")
        c.dynamic_routing("3349998888", "09:05:00")
        c.commit()
    add_user(stores, "anon", "operator", "515", privacy=False)
    monkeypatch.setenv("PBXLENS_OPS_URL", stores.ops_url)
    stores.close()  # the CLI opens the files itself
    return str(stores.path)


def cli(*args):
    return CliRunner().invoke(app, ["missed", *args])


def rows(r) -> list[dict]:
    assert r.exit_code == 0, r.output
    return json.loads(r.output)["rows"]


def test_cli_list_book_conflict_assign_flush(store_file):
    db = ["--db", store_file]
    got = rows(cli("list", "-u", "celeste", "--json", *db))
    assert [x["call_num"] for x in got] == ["3349998888", "3331234567"]  # newest first
    assert [x["call_num"] for x in rows(cli("list", "-u", "anon", "--json", *db))] == \
        ["3349998xxx", "3331234xxx"]  # masked without the privacy right
    r = cli("book", "3331234567", "-u", "anon", *db)  # a hidden number is not a key
    assert r.exit_code != 0 and "no callback request" in str(r.exception)
    assert cli("book", "+39 333 123 4567", "-u", "michael", *db).exit_code == 0
    r = cli("book", "3331234567", "-u", "celeste", *db)
    assert r.exit_code != 0 and "already booked by michael" in str(r.exception or r.output)
    mine = rows(cli("list", "-u", "michael", "--view", "booked", "--json", *db))
    assert [x["call_num"] for x in mine] == ["3331234567"]
    r = cli("cancel", mine[0]["token"], "-u", "michael", *db)  # by token
    assert r.exit_code == 0 and "cancelled" in r.output, (r.output, r.exception)
    r = cli("assign", "3349998888", "celeste", "-u", "michael", *db)
    assert r.exit_code != 0 and "supervisors" in str(r.exception)
    assert cli("assign", "3349998888", "celeste", "-u", "boss", *db).exit_code == 0
    assert cli("flush", "3331234567", "-u", "boss", *db).exit_code == 0
    states = {x["call_num"]: (x["state"], x["closure"], x["booked_by"])
              for x in rows(cli("list", "-u", "boss", "--view", "all", "--json", *db))}
    assert states == {"3331234567": ("closed", "forced_closure", None),
                      "3349998888": ("open", None, "celeste")}
    r = cli("history", "-u", "boss", *db)
    assert all(a in r.output for a in ("book", "cancel", "assign", "flush"))
    assert cli("settings", "-u", "boss", "success_min_billsec", "abc", *db).exit_code != 0
    assert cli("settings", "-u", "michael", "crm_url", "https://crm", *db).exit_code != 0
    r = cli("reconcile", *db)
    assert r.exit_code == 0, r.output
    states = {x["call_num"]: x["state"]  # the rebuild kept the flush
              for x in rows(cli("list", "-u", "boss", "--view", "all", "--json", *db))}
    assert states == {"3331234567": "closed", "3349998888": "open"}


def test_click_to_call_originates_through_the_fake_pbx(con, stores, monkeypatch):
    from pbxlens.config import get_settings

    pbx = FakePbx()
    srv, url = pbx.start()
    try:
        monkeypatch.setenv("PBXLENS_PBX_URL", url)
        monkeypatch.setenv("PBXLENS_PBX_USER", "admin")
        monkeypatch.setenv("PBXLENS_PBX_PASSWORD", "admin")
        get_settings.cache_clear()
        c = Cdr(con, stores.ops)
        c.dynamic_routing("3331234567", "09:00:00")
        c.dynamic_routing("3349998888", "09:01:00")
        c.commit()
        me = Actor("michael", "operator", "default", "515", privacy=True)
        assert click2call.configured(stores) is None  # the `originate` setting is off
        op.set_setting(stores, Actor("boss", "supervisor"), "originate", "yes")
        key = token_of(stores, "3331234567")
        r = click2call.call(stores, me, key, click2call.configured(stores), now=at("10:00:00"))
        assert r["tel"] == "tel:03331234567" and r["originated"] and r["call_uuid"] == "c2c-1"
        assert pbx.originated == [("515", "03331234567")]
        hidden = listing.list_requests(stores, me, "to_call", now=at("10:00:30")).rows
        assert [x["call_num"] for x in hidden] == ["3349998888"]  # hidden while it rings (R6b)
        masked = Actor("anon", "operator", "default", "500")
        r = click2call.call(stores, masked, token_of(stores, "3349998888"),
                            click2call.configured(stores), now=at("10:00:00"))
        assert (r["tel"], r["call_num"]) == (None, "3349998xxx")  # no number to this user
        with pytest.raises(op.MissedError, match="no extension"):
            click2call.call(stores, Actor("mario"), key, click2call.configured(stores))
    finally:
        srv.shutdown()
        get_settings.cache_clear()
