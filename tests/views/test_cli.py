"""`pbxlens views list|run` and `pbxlens schedules list|run-due` on both operations back-ends
(PBXLENS_OPS_URL), against a real SMTP server for run-due: in this process (tests/clirun.py),
the first one in a real `python -m pbxlens`."""

from __future__ import annotations

import io
import json
import shutil
from datetime import UTC, datetime, timedelta

import openpyxl

from pbxlens.views.query import ReportQuery
from tests.clirun import pbxlens, pbxlens_process
from tests.delivery.servers import smtp_server
from tests.views.conftest import DAY1, DAY2, PASSWORD


def _prepare(tmp_path, ops_url, sim_store):
    from pbxlens.store import Stores, users
    from pbxlens.views import saved, schedules

    for p in sim_store.parent.glob(sim_store.name + "*"):
        shutil.copy(p, tmp_path / p.name.replace(sim_store.name, "store.duckdb"))
    with Stores(tmp_path / "store.duckdb", ops_url) as s:
        sup = users.create_user(s, "sup", PASSWORD, "supervisor", privacy=False)
        schedules.set_user_email(s, sup.id, "sup@example.it")
        sup = users.get_user(s, sup.id)
        v = saved.save(s, sup, "Code maggio", "cdr.dashboard",
                       ReportQuery("fixed", DAY1, DAY2, {"source": ["0461123456"]}))
        schedules.create(s, sup, v.id, "daily", "07:00", fmt="csv", users=[sup.id],
                         emails=["boss@acme.it"], at=datetime.now(UTC) - timedelta(days=2))
    return tmp_path / "store.duckdb"


def _run(env, *args):
    return pbxlens(*args, env=env)


def test_views_and_schedules_from_the_command_line(tmp_path, ops_url, sim_store):
    db = _prepare(tmp_path, ops_url, sim_store)
    env = {"PBXLENS_OPS_URL": ops_url, "COLUMNS": "80"}  # over this process's environment
    listed = pbxlens_process("views", "list", "--db", str(db), env=env)  # the entry point too
    assert listed.returncode == 0, listed.stderr
    assert "Code maggio" in listed.stdout and "│ sup " in listed.stdout
    (view,) = json.loads(_run(env, "views", "list", "--json", "--db", str(db)).stdout)["views"]
    assert view["filters"] == {"source": ["0461123456"]} and view["from"] == "2026-05-11"
    out = tmp_path / "v.xlsx"
    ran = _run(env, "views", "run", "Code maggio", "--format", "xlsx", "--out", str(out),
               "--db", str(db))
    assert ran.returncode == 0, ran.stderr
    assert "Sorgente = 0461123xxx" in ran.stderr  # as its owner, who has no privacy right
    ws = openpyxl.load_workbook(io.BytesIO(out.read_bytes())).worksheets[0]
    assert ws.cell(1, 1).value.startswith("Voip Report Cdr")
    full = _run(env, "views", "run", "1", "--format", "csv", "--out", str(tmp_path / "v.csv"),
                "--lang", "en", "--db", str(db))
    assert full.returncode == 0 and (tmp_path / "v.csv").read_text().startswith("table,label")
    bad = _run(env, "views", "run", "Nope", "--db", str(db))
    assert bad.returncode == 2 and "views list" in bad.stderr
    bad = _run(env, "views", "run", "1", "--format", "docx", "--db", str(db))
    assert bad.returncode == 2 and "format" in bad.stderr

    sched = _run(env, "schedules", "list", "--db", str(db))
    assert sched.returncode == 0 and "│ daily " in sched.stdout and "│ csv " in sched.stdout
    (row,) = json.loads(_run(env, "schedules", "list", "--json", "--db", str(db)).stdout)[
        "schedules"]
    assert (row["view"], row["at"], row["last_run"]) == ("Code maggio", "07:00", None)
    with smtp_server() as sink:
        env.update(PBXLENS_SMTP_ENABLED="true", PBXLENS_SMTP_HOST="127.0.0.1",
                   PBXLENS_SMTP_PORT=str(sink.port))
        due = _run(env, "schedules", "run-due", "--db", str(db))
        assert due.returncode == 0, due.stderr
        assert "1 schedule run(s), 2 message(s) queued" in due.stdout and "sent 2" in due.stdout
        again = _run(env, "schedules", "run-due", "--db", str(db))  # cron, a minute later
        assert "0 schedule run(s)" in again.stdout and "sent 0" in again.stdout
        assert len(sink.wait_for(2)) == 2
    assert sorted(r[0] for r, _ in sink.messages) == ["boss@acme.it", "sup@example.it"]
