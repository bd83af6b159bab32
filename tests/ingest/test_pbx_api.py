"""X-authenticate (seed worked example), the fake PBX's refusals over real HTTP, and the
incremental pull (watermark, late rows, no duplicates, retries)."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

import httpx
import pytest
from typer.testing import CliRunner

from pbxlens.ingest import pbx_api
from pbxlens.simulate.fake_pbx import FakePbx

SALT = "b5a8fdcf2f8d5acdad33c4a072a97d7a"
NONCE = "bfb79078ff44c35714af28b7412a702b"
CREATED = "2016-04-29T15:48:26Z"
SEED_HEADER = ('X-authenticate: RestApiUsernameToken Username="admin", Domain="default", '
               'Digest="+PJg7Tb3v98XnL6iJVv+v5hwhYjdzQ2tIWxvJB2cE40=",'
               'Nonce="bfb79078ff44c35714af28b7412a702b", Created="2016-04-29T15:48:26Z"')


def test_header_matches_seed_worked_example():
    assert pbx_api.digest_password("admin", SALT) == (
        "dd7b0be7fa37d6cbaf0b842bf7532f229cb79ab8d54d509c2aa7eea27a53cd5e")
    assert pbx_api.header_line("admin", "admin", "default", SALT, nonce=NONCE,
                               created=CREATED) == SEED_HEADER


def test_header_cli_prints_the_line():
    from pbxlens.cli import app

    r = CliRunner().invoke(app, ["pbx-auth-header", "--user", "admin", "--password", "admin",
                                 "--domain", "default", "--salt", SALT, "--nonce", NONCE,
                                 "--created", CREATED])
    assert r.exit_code == 0, r.output
    assert r.stdout.strip() == SEED_HEADER
    r = CliRunner().invoke(app, ["pbx-auth-header", "--user", "a", "--password", "b",
                                 "--domain", "default", "--salt", SALT])
    f = pbx_api.parse_x_authenticate(r.stdout.strip().split(": ", 1)[1])
    assert len(f["Nonce"]) == 32
    created = datetime.strptime(f["Created"], pbx_api.CREATED_FORMAT).replace(tzinfo=UTC)
    assert abs((datetime.now(UTC) - created).total_seconds()) < 60


def _call(uid: str, day: date, hhmmss: str = "10:00:00", status: str = "OK") -> dict:
    start = f"{day.isoformat()} {hhmmss}"
    return {"unique_id": uid, "source_type": "ibl", "destination_type": "local_exten",
            "status": status, "start_datetime": start, "answer_datetime": start,
            "end_datetime": start, "caller": "3331234567", "called": "0287654321",
            "duration": "00:00:00", "bill_secs": "0", "details": [
                {"source_num": "3331234567", "destination_type": "local_exten",
                 "destination_id": "201", "destination_num": "201", "enter_datetime": start,
                 "exit_datetime": start, "exit_cause": "ANSWER", "answered_by": "201"}]}


@pytest.fixture
def fake():
    pbx = FakePbx()
    srv, url = pbx.start()
    pbx.url = url
    yield pbx
    srv.shutdown()
    srv.server_close()


def _get(url: str, header: str | None):
    return httpx.get(url + "/rest/cdr", params={"year": 2026, "month": 5, "day": 11},
                     headers={"X-authenticate": header} if header else {})


def test_fake_pbx_rejections_over_http(fake):
    salt = httpx.get(fake.url + "/rest/salt/default").json()["salt"]
    assert salt == SALT
    ok = pbx_api.x_authenticate("admin", "admin", "default", salt, nonce="abcdef0123456789")
    assert _get(fake.url, ok).status_code == 200
    again = _get(fake.url, ok)  # the very same header: nonce reused within 5 minutes
    assert again.status_code == 401 and "nonce" in again.json()["error"]
    skewed = (datetime.now(UTC) - timedelta(minutes=6)).strftime(pbx_api.CREATED_FORMAT)
    r = _get(fake.url, pbx_api.x_authenticate("admin", "admin", "default", salt, created=skewed))
    assert r.status_code == 401 and "5 minutes" in r.json()["error"]
    ahead = (datetime.now(UTC) + timedelta(minutes=6)).strftime(pbx_api.CREATED_FORMAT)
    assert _get(fake.url, pbx_api.x_authenticate("admin", "admin", "default", salt,
                                                 created=ahead)).status_code == 401
    r = _get(fake.url, pbx_api.x_authenticate("admin", "wrong", "default", salt))
    assert r.status_code == 401 and r.json()["error"] == "wrong digest"
    assert _get(fake.url, None).status_code == 401
    assert _get(fake.url, pbx_api.x_authenticate("admin", "admin", "default", salt,
                                                 nonce="xyz")).status_code == 401
    # a header built by hand with a hex digest (the errata's trap) is refused too
    f = pbx_api.parse_x_authenticate(pbx_api.x_authenticate("admin", "admin", "default", salt))
    import hashlib
    hexd = hashlib.sha256((f["Nonce"] + pbx_api.digest_password("admin", salt) + "admin" + "default"
                           + f["Created"]).encode()).hexdigest()
    bad = (f'RestApiUsernameToken Username="admin", Domain="default", Digest="{hexd}",'
           f'Nonce="{pbx_api.new_nonce()}", Created="{f["Created"]}"')
    assert _get(fake.url, bad).status_code == 401


def _counts(con):
    return con.execute("SELECT count(*), count(DISTINCT unique_id) FROM calls").fetchone()


def test_pull_resumes_from_watermark_without_duplicates(fake, store, tmp_path):
    today = date(2026, 5, 14)
    days = [today - timedelta(days=i) for i in range(4, -1, -1)]  # 10..14
    for n, d in enumerate(days):
        fake.add_calls([_call(f"17785{n}0000.{k}", d, f"1{k}:00:00") for k in range(3)])
    client = pbx_api.PbxClient(fake.url, "admin", "admin", "default")
    res = pbx_api.pull(store, client, since=days[0], today=today, raw_dir=tmp_path / "raw")
    assert [d.day for d in res.days] == days
    assert res.watermark == today
    assert _counts(store) == (15, 15)
    fake.requests.clear()
    # late rows on the previous day and a changed call (status) on today; an old day changes too
    fake.add_calls([_call("1778530000.9", days[3], "23:59:00")])
    changed = _call("1778540000.0", today, "10:00:00", status="NOANSWER")
    fake.add_calls([changed, _call("1778500000.7", days[0], "09:00:00")])
    res = pbx_api.pull(store, client, today=today, raw_dir=tmp_path / "raw")
    assert [d.day for d in res.days] == [days[3], today]  # watermark - 1 .. today
    assert not any("day=10&" in r or "day=10 " in r for r in fake.requests)
    assert _counts(store) == (16, 16)
    assert store.execute("SELECT status FROM calls WHERE unique_id = '1778540000.0'").fetchone()[0] \
        == "NOANSWER"
    # the next day: resumes at the old watermark - 1 and never duplicates
    res = pbx_api.pull(store, client, today=today + timedelta(days=1), raw_dir=tmp_path / "raw")
    assert [d.day for d in res.days] == [days[3], today, today + timedelta(days=1)]
    assert _counts(store) == (16, 16)
    assert res.days[0].loaded == 0
    # an explicit --since backfills the old day's late call
    pbx_api.pull(store, client, since=days[0], today=today + timedelta(days=1),
                 raw_dir=tmp_path / "raw")
    assert _counts(store) == (17, 17)
    assert pbx_api.watermark(store, pbx_api.source_key(client)) == today + timedelta(days=1)


def test_pull_retries_with_backoff_and_cc_note(fake, store, tmp_path):
    d = date(2026, 5, 11)
    fake.add_calls([_call("1778490000.1", d)])
    fake.fail_next = 2  # two 503 answers, then success: each attempt has a fresh nonce
    client = pbx_api.PbxClient(fake.url, "admin", "admin", "default")
    res = pbx_api.pull(store, client, since=d, today=d, raw_dir=tmp_path / "raw")
    assert res.days[0].calls == 1 and res.days[0].cc == "not served"
    assert sum(" 503" in r for r in fake.requests) == 2
    assert _counts(store) == (1, 1)



def test_pull_loads_the_call_center_cdr(fake, store, tmp_path):
    """The Call Center CDR of each day is pulled and ingested like a file: queue calls with
    their operator events, idempotent on the next pull."""
    from pbxlens.simulate import generate

    d = date(2026, 5, 11)
    generate(tmp_path / "sim", days=1, calls_per_day=60, seed=4, start=d,
             formats=["json", "cc-json"])
    fake.load_dir(tmp_path / "sim")
    want = json.loads((tmp_path / "sim" / "cc_cdr.json").read_text())
    client = pbx_api.PbxClient(fake.url, "admin", "admin", "default")
    res = pbx_api.pull(store, client, since=d, today=d + timedelta(days=1), raw_dir=tmp_path / "raw")
    assert res.days[0].cc.startswith(f"{len(want)} rows, {len(want)} loaded")
    n_events = sum(len(r.get("operator_events") or []) for r in want)
    assert store.execute("SELECT count(*) FROM queue_calls").fetchone()[0] == len(want)
    assert 0 < store.execute("SELECT count(*) FROM cc_agent_legs").fetchone()[0] <= n_events
    res = pbx_api.pull(store, client, since=d, today=d + timedelta(days=1), raw_dir=tmp_path / "raw")
    assert store.execute("SELECT count(*) FROM queue_calls").fetchone()[0] == len(want)


def test_pull_fails_cleanly_on_bad_password(fake, store, tmp_path):
    client = pbx_api.PbxClient(fake.url, "admin", "nope", "default", attempts=2)
    with pytest.raises(pbx_api.PbxApiError, match="401"):
        pbx_api.pull(store, client, since=date(2026, 5, 11), today=date(2026, 5, 11),
                     raw_dir=tmp_path / "raw")
    assert pbx_api.watermark(store, pbx_api.source_key(client)) is None


def test_pull_cli_against_fake_pbx(fake, tmp_path):
    from zoneinfo import ZoneInfo

    from pbxlens.cli import app
    from pbxlens.config import get_settings

    # the PBX's today, as the pull counts days (the machine's clock is UTC: between 23:00 and
    # midnight it is already tomorrow in Rome)
    today = datetime.now(ZoneInfo(get_settings().timezone)).date()
    fake.add_calls([_call("1778490000.5", today, "00:00:01")])
    db = tmp_path / "cli.duckdb"
    args = ["pull", "--pbx", fake.url, "--user", "admin", "--password", "admin", "--db", str(db),
            "--since", (today - timedelta(days=1)).isoformat()]
    r = CliRunner().invoke(app, args)
    assert r.exit_code == 0, r.output
    assert "pulled 2 days, 1 calls" in r.stdout


def test_pull_settings_from_env(monkeypatch):
    assert pbx_api.pull_settings() is None
    monkeypatch.setenv("PBXLENS_PBX_URL", "https://pbx.example")
    monkeypatch.setenv("PBXLENS_PBX_USER", "api")
    monkeypatch.setenv("PBXLENS_PBX_PASSWORD", "secret")
    monkeypatch.setenv("PBXLENS_PULL_INTERVAL_S", "60")
    s = pbx_api.pull_settings()
    assert (s.url, s.user, s.domain, s.interval_s, s.verify) == (
        "https://pbx.example", "api", "default", 60.0, True)
