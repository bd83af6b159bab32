from __future__ import annotations

from datetime import date

from pbxlens.simulate import ALL_FORMATS, generate, simulate
from pbxlens.simulate.truth import CC_OUTCOMES, CC_QUEUE_CAUSES
from pbxlens.simulate.truth_tables import TRUTH_FILES


def _files(out):
    return {p.name: p.read_bytes() for p in sorted(out.iterdir())}


def test_same_seed_identical_files(tmp_path):
    a, b, c = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    kw = dict(days=2, calls_per_day=400, start=date(2026, 1, 12), formats=ALL_FORMATS)
    sa = generate(a, seed=11, **kw)
    generate(b, seed=11, **kw)
    generate(c, seed=12, **kw)
    fa, fb, fc = _files(a), _files(b), _files(c)
    assert set(fa) == {"cdr_summary.csv", "cdr_detailed.csv", "cdr.json", "cdr.xml",
                       "cdr_detailed.xlsx", "directory.json", *TRUTH_FILES}
    for name in fa:
        assert fa[name] == fb[name], name
    assert fa["cdr_detailed.csv"] != fc["cdr_detailed.csv"]
    assert sa.calls > 500 and sa.legs > sa.calls
    assert len(sa.files) == 6 + len(TRUTH_FILES)


def test_xlsx_deterministic_cells(tmp_path):
    import openpyxl

    kw = dict(days=1, calls_per_day=200, start=date(2026, 1, 12), formats=["xlsx"], seed=5)
    generate(tmp_path / "a", **kw)
    generate(tmp_path / "b", **kw)

    def cells(p):
        wb = openpyxl.load_workbook(p / "cdr_detailed.xlsx", read_only=True)
        rows = list(wb.worksheets[0].iter_rows(values_only=True))
        wb.close()
        return rows

    assert cells(tmp_path / "a") == cells(tmp_path / "b")


def test_simulate_truth_matches_generate(tmp_path):
    tr = simulate(days=2, calls_per_day=400, seed=11, start=date(2026, 1, 12))
    s = generate(tmp_path, days=2, calls_per_day=400, seed=11, start=date(2026, 1, 12),
                 formats=["csv"])
    assert len(tr.calls) == s.calls
    assert sum(len(c.legs) for c in tr.calls) == s.legs


def test_truth_keeps_call_center_outcomes():
    tr = simulate(days=3, calls_per_day=800, seed=2, start=date(2026, 2, 2))
    seen = set()
    for c in tr.calls:
        for lg in c.legs:
            if lg.dtype == "queue":
                assert lg.cc_cause in CC_QUEUE_CAUSES, lg
                if lg.t_enqueue is not None:  # queued after the welcome message
                    assert lg.t_enter <= lg.welcome_end <= lg.t_enqueue <= lg.t_exit
                elif lg.cc_cause == "CANCELED_NOWAIT":
                    assert lg.welcome_end is None
            if lg.queue is not None:
                assert lg.cc_outcome in CC_OUTCOMES, lg
                assert lg.visit is not None and lg.visit.dtype == "queue"
                seen.add(lg.cc_outcome)
                if lg.t_answer is not None:
                    assert lg.account and lg.cc_outcome in ("NCC-AGENT", "NCC-CALLER",
                                                            "TRANSFER")
    assert {"NCC-AGENT", "NCC-CALLER", "TRANSFER", "ANSWERED_ELSEWHERE", "TIMEOUT", "REFUSED",
            "CANCELED"} <= seen


def test_writer_process_matches_inline(tmp_path):
    """The writer process (formatting/writing overlapped with the simulation) and the inline
    path produce byte-identical files, DST days included."""
    kw = dict(days=3, calls_per_day=500, start=date(2026, 3, 28), formats=ALL_FORMATS, seed=4)
    generate(tmp_path / "inline", writer_process=False, **kw)
    generate(tmp_path / "proc", writer_process=True, **kw)
    a, b = _files(tmp_path / "inline"), _files(tmp_path / "proc")
    assert set(a) == set(b)
    for name in a:
        assert a[name] == b[name], name


def test_writer_process_failure_is_reported(tmp_path):
    import pytest

    (tmp_path / "cdr_detailed.csv").mkdir()  # the writer cannot open its file
    with pytest.raises((RuntimeError, OSError)):
        generate(tmp_path, days=1, calls_per_day=100, start=date(2026, 1, 12),
                 formats=["csv-detailed"], writer_process=True)


def test_csv_quoting_fallback(tmp_path):
    """Values needing CSV quoting (commas, quotes, line breaks) are written as csv.writer does."""
    import csv
    import io

    from pbxlens.simulate.writers.cdr import CsvDetailedWriter, CsvSummaryWriter
    from pbxlens.simulate.writers.common import CALL_FIELDS, DETAIL_FIELDS

    cv = tuple(f"c{i}" for i in range(len(CALL_FIELDS)))
    odd = ("Rossi, Mario", 'say "hi"', "a\nb", "x\ry")
    batch = [((*cv[:10], v, *cv[11:]), [tuple(f"d{i}" for i in range(len(DETAIL_FIELDS)))])
             for v in odd] + [(cv, [])]
    w = CsvDetailedWriter(tmp_path)
    w.write(batch)
    w.close()
    s = CsvSummaryWriter(tmp_path)
    s.write(batch)
    s.close()
    exp_d, exp_s = io.StringIO(), io.StringIO()
    wd, ws = csv.writer(exp_d, lineterminator="\n"), csv.writer(exp_s, lineterminator="\n")
    wd.writerow(CALL_FIELDS + DETAIL_FIELDS)
    ws.writerow(CALL_FIELDS)
    for c, dets in batch:
        ws.writerow(c)
        for d in dets or [("",) * len(DETAIL_FIELDS)]:
            wd.writerow(c + d)
    assert (tmp_path / "cdr_detailed.csv").read_bytes() == exp_d.getvalue().encode()
    assert (tmp_path / "cdr_summary.csv").read_bytes() == exp_s.getvalue().encode()


def test_every_scenario_byte_identical_with_and_without_writer_process(tmp_path):
    """Same seed and scenario: the same bytes in every file (exports, event log, feedback,
    directory, truth tables), written inline or by the writer process; another seed differs."""
    from pbxlens.simulate import CC_FORMATS, EXTRA_FORMATS, SCENARIOS

    fmts = [*ALL_FORMATS, *CC_FORMATS, *EXTRA_FORMATS]
    for name in SCENARIOS:
        kw = dict(days=2, calls_per_day=150, start=date(2026, 3, 28), formats=fmts,
                  scenario=name)
        a, b, c = (tmp_path / name / x for x in "abc")
        generate(a, seed=9, writer_process=False, **kw)
        generate(b, seed=9, writer_process=True, **kw)
        generate(c, seed=10, writer_process=False, **kw)
        fa, fb = _files(a), _files(b)
        assert set(fa) == set(fb) and {"events.jsonl", *TRUTH_FILES} <= set(fa), name
        for f in fa:
            assert fa[f] == fb[f], (name, f)
        assert fa["cdr_detailed.csv"] != _files(c)["cdr_detailed.csv"], name


def test_multi_tenant_exports_carry_the_tenant(tmp_path):
    """One PBX, three tenants: one call sequence increasing with time, a tenant column, SIP
    accounts with each tenant's prefix, and a directory naming every tenant."""
    import csv
    import json

    generate(tmp_path, days=2, start=date(2026, 5, 4), formats=["csv-detailed", "cc-csv"],
             scenario="multi-tenant", seed=4)
    with open(tmp_path / "cdr_detailed.csv", encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    tenants = {r["tenant"] for r in rows}
    assert tenants == {"acme.example", "beta.example", "gamma.example"}
    seqs = [int(r["unique_id"].split(".")[1]) for r in rows]
    assert seqs == sorted(seqs)
    d = json.loads((tmp_path / "directory.json").read_text(encoding="utf-8"))
    assert {t["domain"] for t in d["tenants"]} == tenants
    prefix = {}
    for o in d["operators"]:
        acc = o["accounts"][0]["account"]
        assert acc.endswith(o["extension"]) and len(acc) == len(o["extension"]) + 6
        prefix.setdefault(o["tenant"], set()).add(acc[:6])
    assert all(len(p) == 1 for p in prefix.values()) and len(prefix) == 3
    with open(tmp_path / "cc_cdr.csv", encoding="utf-8", newline="") as fh:
        assert {r["tenant"] for r in csv.DictReader(fh)} <= tenants
