"""The catalog as objects: every report holds a callable build and bilingual filter definitions
whose choices run on a store; the docs list them all; a report registered from outside the
package (as a plugin would) runs like a built-in one."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from pbxlens.reports import Report, all_reports, get, register_report
from pbxlens.reports.catalog import all_filters
from pbxlens.store import analytics as db

ROOT = Path(__file__).resolve().parents[2]


def test_every_report_holds_its_build_and_its_filters():
    docs = (ROOT / "docs" / "reports.md").read_text(encoding="utf-8")
    ids = [r.id for r in all_reports()]
    assert len(ids) == len(set(ids)) == 55
    for r in all_reports():
        assert callable(r.build), r.id
        assert r.en and r.it and r.tables_doc, r.id
        assert f"## `{r.id}`" in docs, r.id
        assert not hasattr(r, "family") and not hasattr(r, "grouping")
        for f in r.filters:
            assert f.en and f.it and f.doc and f.label("it") == f.it, (r.id, f.key)
        assert get(r.id) is r


def test_every_filter_offers_its_choices(tmp_path):
    con = db.connect(tmp_path / "s.duckdb")
    con.execute("INSERT INTO queues (tenant, id, name) VALUES ('default', '700', 'Vendite'),"
                " ('other', '900', 'Altro')")
    for f in all_filters():
        if f.options is None:  # a text box
            continue
        for lang in ("en", "it"):
            opts = f.options(con, "default", lang)
            assert isinstance(opts, list), f.key
            assert all(set(o) == {"value", "label"} for o in opts), f.key
    queue = get("cdr.queues").filter("queue")
    assert queue.options(con, "default", "en") == [{"value": "700", "label": "Vendite (700)"}]
    assert get("cdr.queues").filter("empty_queue").options(con, None, "it")[1]["label"] == "Sì"
    with pytest.raises(KeyError):
        get("cdr.queues").filter("nope")


def test_register_report_refuses_a_second_definition_of_an_id():
    with pytest.raises(ValueError, match="registered twice"):
        register_report(get("cdr.queues"))
    with pytest.raises(ValueError, match="listed twice"):
        q = get("cdr.queues")
        register_report(Report(id="test.twice", en="x", it="x", source="x", build=q.build,
                               tables_doc="x", filters=(*q.filters, q.filters[0]),
                               layout=q.layout))


def test_a_plugin_registers_a_report_the_same_way(tmp_path):
    plugin = tmp_path / "my_plugin.py"
    plugin.write_text(textwrap.dedent('''
        """A plugin report: calls per status, built by one query."""
        from pbxlens.reports import FilterDef, Report, register_report
        from pbxlens.reports.catalog import Group
        from pbxlens.reports.common import QTY
        from pbxlens.reports.engine import RawTable, RowSpec

        MINE = FilterDef("status", "Status", "Stato", doc="a status")

        def build(con, report, p, d_from, d_to):
            rows = con.execute("SELECT status, count(*) FROM calls GROUP BY ALL").fetchall()
            facts = {s: {"all": {"n": n}} for s, n in rows}
            return [RawTable("t", "by status", [RowSpec(s, s) for s in sorted(facts)],
                             facts)], []

        register_report(Report(id="plugin.by_status", en="By status", it="Per stato",
                               source="CDR call", build=build, tables_doc="one row per status",
                               filters=(MINE,),
                               layout=(Group("total", "TOTAL", "TOTALE", (QTY,)),)))
    '''), encoding="utf-8")
    script = textwrap.dedent(f'''
        import my_plugin  # registers its report
        from pbxlens.store import analytics as db
        from pbxlens.reports import Params, all_reports, run
        from pbxlens.reports.docs import render
        con = db.connect({str(tmp_path / "s.duckdb")!r})
        r = run(con, "plugin.by_status", Params(today=__import__("datetime").date(2026, 5, 6)))
        print(all_reports()[-1].id, r.tables[0].totals["total.n"], "plugin.by_status" in render())
    ''')
    # a fresh interpreter (not tests/clirun.py): the plugin's report would stay registered in
    # this process's catalog for the tests after it
    out = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, capture_output=True,
                         text=True, timeout=120, env={"PYTHONPATH": str(tmp_path),
                                                      "PBXLENS_CONFIG": "/nonexistent",
                                                      "PATH": "/usr/bin:/bin"})
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["plugin.by_status", "0", "True"]
