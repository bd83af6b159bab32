"""Rating from persisted keys: re-rating only what a tariff or profile change touches equals
rating the whole store from scratch, over seeded random sequences of changes (three seeds);
the keys kept per ingest batch (overlapping and re-loaded calls) equal keys rebuilt from
every call."""

from __future__ import annotations

import csv
import random
from datetime import date, timedelta

import pytest

from pbxlens.billing import profiles, rating, rating_keys, tariffs
from pbxlens.ingest import ingest_paths
from pbxlens.simulate import generate
from pbxlens.store import analytics as db

SEEDS = (7, 19, 41)
START = date(2026, 5, 4)
DAYS = 3
COLS = ("tenant, unique_id, leg_branch, method, tariff_id, profile_id, rule_id, direction, "
        "start_ts, day, yr, company, extension, gateway, billed_s, free_s, charged_s, cost, "
        "cost_nofree")
PREFIXES = (None, None, "0", "02", "3", "33", "34", "06", "0039")
COMPANIES = (None, None, None, "ORG1", "ORG2", "SERVIZI CLIENTI")
GATEWAYS = ("GW-Milano", "GW-Roma", "GW-Bergamo")
CONFIGS = ("Uscita-Milano", "Uscita-Roma", "Uscita-Bergamo")


@pytest.fixture(scope="module")
def sim(tmp_path_factory):
    folder = tmp_path_factory.mktemp("rk")
    generate(folder, days=DAYS, calls_per_day=250, seed=5, start=START, formats=["csv-detailed"])
    return folder


def _day(rng: random.Random) -> date:
    return START + timedelta(days=rng.randrange(-1, DAYS + 1))


def _tariff(rng: random.Random) -> dict:
    d0 = _day(rng)
    v = {"description": f"t{rng.randrange(10**6)}", "valid_from": d0,
         "valid_to": rng.choice([None, d0 + timedelta(days=rng.randrange(0, 3))]),
         "rate_in": rng.choice([None, "0.1", "0.25", "0.5"]),
         "rate_out": rng.choice([None, "0.2", "0.65", "1.5"]),
         "answer_charge": rng.choice([None, "0.05"]),
         "free_minutes": rng.choice([None, None, 3, 20]),
         "prefix": rng.choice(PREFIXES), "company": rng.choice(COMPANIES),
         "initial_block_s": rng.choice([0, 30]), "increment_s": rng.choice([1, 6, 60]),
         "active": rng.random() > 0.15}
    if rng.random() < 0.25:
        v["inbound_gateway"] = rng.choice(GATEWAYS)
    if rng.random() < 0.25:
        v["outbound_config"] = rng.choice(CONFIGS)
    if rng.random() < 0.15:
        v["countries"] = rng.choice(["IT", "FR,DE", "GB"])
    if v["rate_in"] is None and v["rate_out"] is None:
        v["rate_out"] = "0.3"
    return v


def _change(con, rng: random.Random) -> str:
    """One random change through the public billing functions (each re-rates what it can)."""
    ids = [r[0] for r in con.execute("SELECT id FROM billing_tariffs").fetchall()]
    op = rng.choice(["add", "add", "update", "price", "price", "delete", "profile"] if ids else ["add"])
    if op == "add":
        tariffs.add_tariff(con, **_tariff(rng))
    elif op == "update":
        fresh = _tariff(rng)
        keys = rng.sample(sorted(fresh), rng.randrange(1, 4))
        tariffs.update_tariff(con, rng.choice(ids), **{k: fresh[k] for k in keys
                                                       if k != "description"})
    elif op == "price":  # prices only: re-priced in place (rating.reprice_tariffs)
        rated = [r[0] for r in con.execute("SELECT DISTINCT tariff_id FROM call_costs "
                                           "WHERE method = 'tariff' ORDER BY 1").fetchall()]
        tid = rng.choice(rated or ids)  # preferably one whose calls it re-prices
        old = tariffs.get_tariff(con, tid)
        new = {"answer_charge": rng.choice([None, "0.05", "0.2"]),
               "min_charge": rng.choice([None, "0.1", "1"]),
               "initial_block_s": rng.choice([0, 30, 60]), "increment_s": rng.choice([1, 6, 60]),
               **{k: rng.choice(["0.15", "0.8"]) for k in ("rate_in", "rate_out") if old[k] is not None}}
        tariffs.update_tariff(con, tid, **new)
        assert tariffs.prices_only(old, tariffs.get_tariff(con, tid))
    elif op == "delete":
        tariffs.delete_tariff(con, rng.choice(ids))
    else:
        rules = [{"kind": "any", "connection_fee": "0.01", "connection_s": 1,
                  "next_fee": rng.choice(["0.02", "0.05"]), "next_s": 60}]
        if rng.random() < 0.5:
            rules.append({"kind": "prefix", "selection": rng.choice(["3", "02", "0"]),
                          "connection_fee": "0.1", "connection_s": 30, "next_fee": "0.1",
                          "next_s": 30})
        con.execute("BEGIN TRANSACTION")  # as import_profiles: save, re-rate the profile's lines
        pid = profiles.save_profile(con, rng.choice(["p1", "p2"]), rules,
                                    enabled=rng.random() > 0.2)
        lines = [r[0] for r in con.execute("SELECT line FROM billing_profile_lines WHERE "
                                           "profile_id = ?", [pid]).fetchall()]
        rating.rerate_lines(con, "default", lines)
        con.execute("COMMIT")
        line = rng.choice(["GW-Milano", "GW-Roma", "GW-Bergamo"])
        names = [r[0] for r in con.execute("SELECT name FROM billing_profiles ORDER BY name").fetchall()]
        profiles.set_line(con, line, rng.choice([None, *names]))
    return op


def _costs(con) -> list:
    return con.execute(f"SELECT {COLS} FROM call_costs ORDER BY ALL").fetchall()


@pytest.mark.parametrize("seed", SEEDS)
def test_rerating_touched_keys_equals_a_full_rating(sim, tmp_path, seed):
    rng = random.Random(seed)
    con = db.connect(tmp_path / "s.duckdb")
    ingest_paths(con, [sim / "directory.json", sim / "cdr_detailed.csv"])
    # a tariff for every call, with an allowance: the random changes act on rated calls
    tariffs.add_tariff(con, description="base", valid_from=START - timedelta(days=1),
                       rate_in="0.1", rate_out="0.2", free_minutes=30)
    ops, most = [], 0
    try:
        for _ in range(12):
            ops.append(_change(con, rng))
            kept = _costs(con)
            most = max(most, len(kept))
            con.execute("BEGIN TRANSACTION")
            con.execute("DELETE FROM call_costs")
            rating.rate_all(con)
            full = _costs(con)
            con.execute("ROLLBACK")
            assert kept == full, ops
        assert most > 0, ops  # the changes acted on rated calls
        assert len(set(ops)) >= 3, ops  # adds, edits, price edits, deletions, profile changes
        assert "price" in ops, ops
    finally:
        con.close()


def _keyed_calls(con) -> list:
    return con.execute("""SELECT rc.tenant, rc.unique_id, rc.leg_branch, rc.start_ts, rc.day,
        rc.yr, rc.s, k.dir, k.gw, k.line, k.num, k.acc, k.ext
        FROM rating_calls rc JOIN rating_keys k ON k.kid = rc.kid ORDER BY ALL""").fetchall()


def test_keys_kept_per_batch_equal_a_rebuild(sim, tmp_path):
    """Overlapping batches, then a re-load that changes some calls (another number, another
    billed time, no longer answered): the batch-kept keys equal keys built from every call,
    and no two keys are equal."""
    with open(sim / "cdr_detailed.csv", encoding="utf-8", newline="") as f:
        rd = csv.DictReader(f)
        header, rows = list(rd.fieldnames or []), list(rd)
    uids = list(dict.fromkeys(r["unique_id"] for r in rows))
    halves = [set(uids[: len(uids) * 2 // 3]), set(uids[len(uids) // 3:])]
    changed = set(uids[::9])
    redo = []
    for r in rows:
        if r["unique_id"] in changed:
            n = len(redo) % 3
            redo.append({**r, "called": "+39 333 0000000" if n == 0 else r["called"],
                         "caller": "0039 02 1234567" if n == 0 else r["caller"],
                         "bill_secs": "0" if n == 1 else "61.5" if n == 2 else r["bill_secs"]})
    con = db.connect(tmp_path / "k.duckdb")
    ingest_paths(con, [sim / "directory.json"])
    for i, part in enumerate([*halves, changed]):
        path = tmp_path / f"b{i}.csv"
        with open(path, "w", encoding="utf-8", newline="") as f:
            w = csv.DictWriter(f, header, lineterminator="\n")
            w.writeheader()
            w.writerows(redo if i == 2 else [r for r in rows if r["unique_id"] in part])
        ingest_paths(con, [path])
    kept = _keyed_calls(con)
    assert kept and len({r[1:3] for r in kept}) == len(kept)  # one row per call
    dup = con.execute(f"SELECT count(*) - count(DISTINCT ({', '.join(rating_keys.KEY_COLS)})) "
                      "FROM rating_keys").fetchone()[0]
    assert dup == 0
    rating_keys.rebuild(con)
    assert _keyed_calls(con) == kept
    assert con.execute("SELECT count(*) FROM calls WHERE bill_s > 0 AND direction IN "
                       "('incoming', 'outgoing')").fetchone()[0] == len(kept)
    con.close()


def test_a_change_of_the_number_settings_rebuilds_the_keys(sim, tmp_path, monkeypatch):
    from pbxlens.config import get_settings

    con = db.connect(tmp_path / "p.duckdb")
    ingest_paths(con, [sim / "directory.json", sim / "cdr_detailed.csv"])
    assert rating_keys.current(con)
    monkeypatch.setenv("PBXLENS_LINE_PREFIX", "0")
    get_settings.cache_clear()
    try:
        assert not rating_keys.current(con)
        con.execute("BEGIN TRANSACTION")
        rating.rate_all(con)  # rebuilds the keys first
        con.execute("COMMIT")
        assert rating_keys.current(con)
        assert con.execute("SELECT seize FROM rating_keys_meta").fetchone()[0] == "0"
    finally:
        monkeypatch.delenv("PBXLENS_LINE_PREFIX")
        get_settings.cache_clear()
        con.close()

