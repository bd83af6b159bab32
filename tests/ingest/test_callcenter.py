"""Call Center CDR ingest: every layout, sniffing, idempotency, quarantine (issue 6)."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from pbxlens.ingest import sniff
from pbxlens.simulate import CC_FORMATS, generate
from pbxlens.simulate.writers.callcenter import EVENT_FIELDS, QUEUE_CALL_FIELDS
from pbxlens.store import analytics as db
from tests.ingest.helpers import load

QC_SNAP = "SELECT * EXCLUDE (batch_id) FROM queue_calls ORDER BY ALL"
LEG_SNAP = "SELECT * EXCLUDE (batch_id) FROM cc_agent_legs ORDER BY ALL"
DETAILED = ("cc_cdr_detailed.csv", "cc_cdr.json", "cc_cdr.xml", "cc_cdr_detailed.xlsx")
SUMMARY = ("cc_cdr.csv", "cc_cdr.xlsx")


@pytest.fixture(scope="session")
def cc_sim(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("cc_sim")
    generate(out, days=2, calls_per_day=250, seed=5, start=date(2026, 5, 11),
             formats=[*CC_FORMATS, "csv-detailed"])
    return out


def _snap(con):
    return con.execute(QC_SNAP).fetchall(), con.execute(LEG_SNAP).fetchall()


def test_every_layout_gives_the_same_normalized_result(cc_sim, tmp_path):
    snaps = {}
    for name in DETAILED + SUMMARY:
        con = db.connect(tmp_path / f"{name}.duckdb")
        r = load(con, cc_sim / name)
        assert r.error is None and r.rows_quarantined == 0, r
        assert r.rows_read == r.rows_loaded > 0
        assert r.format.startswith("kalliope_cc_")
        snaps[name] = _snap(con)
        con.close()
    first = snaps[DETAILED[0]]
    assert first[0] and first[1]
    for name in DETAILED:
        assert snaps[name] == first, name
    strip = len(first[0][0]) - 4  # n_events, content_hash, events_hash, extra may differ
    for name in SUMMARY:  # no operator events in the summary layouts, same queue calls
        assert [x[:strip] for x in snaps[name][0]] == [x[:strip] for x in first[0]], name
        assert snaps[name][1] == [], name


def test_sniffing_tells_call_center_from_plain_cdr(cc_sim):
    for name, kind in (("cc_cdr.csv", "callcenter_csv"), ("cc_cdr_detailed.csv", "callcenter_csv"),
                       ("cc_cdr.json", "callcenter_json"), ("cc_cdr.xml", "callcenter_xml"),
                       ("cc_cdr.xlsx", "callcenter_xlsx"),
                       ("cc_cdr_detailed.xlsx", "callcenter_xlsx"),
                       ("cdr_detailed.csv", "csv"), ("directory.json", "json")):
        assert sniff.detect(cc_sim / name).kind == kind, name


def test_reloading_changes_nothing(cc_sim, store, tmp_path):
    first = load(store, cc_sim / "cc_cdr_detailed.csv")
    snap = _snap(store)
    again = load(store, cc_sim / "cc_cdr_detailed.csv")  # same bytes: skipped
    assert again.skipped and again.rows_duplicate == first.rows_read
    for name in ("cc_cdr.json", "cc_cdr.xml", "cc_cdr.csv"):  # same content, other bytes
        r = load(store, cc_sim / name)
        assert r.rows_loaded == 0 and r.rows_duplicate == r.rows_read > 0, name
    assert _snap(store) == snap  # the summary layout kept the stored events
    assert store.execute("SELECT count(*) FROM quarantine").fetchone()[0] == 0


def _rows(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines()


def test_changed_queue_call_replaces_it_and_summary_keeps_events(cc_sim, store, tmp_path):
    load(store, cc_sim / "cc_cdr_detailed.csv")
    lines = _rows(cc_sim / "cc_cdr.csv")
    head, row = lines[0].split(","), lines[1].split(",")
    uid = row[0]
    n_legs = store.execute("SELECT count(*) FROM cc_agent_legs WHERE unique_id = ?",
                           [uid]).fetchone()[0]
    row[head.index("status")] = "BUSY"
    changed = tmp_path / "changed.csv"
    changed.write_text("\n".join([lines[0], ",".join(row), *lines[2:]]) + "\n", encoding="utf-8")
    r = load(store, changed)
    assert (r.calls_loaded, r.rows_loaded, r.rows_duplicate) == (1, 1, len(lines) - 2)
    assert store.execute("SELECT status FROM queue_calls WHERE unique_id = ?",
                         [uid]).fetchone()[0] == "BUSY"
    assert store.execute("SELECT count(*), min(status) FROM cc_agent_legs WHERE unique_id = ?",
                         [uid]).fetchone() == (n_legs, "BUSY" if n_legs else None)


HEAD = ",".join(QUEUE_CALL_FIELDS + EVENT_FIELDS)


def _qc(uid, enter, exit_, cause, *, qid="800", answer="", op="", acc="", direction="incoming",
        welcome="", status="OK"):
    vals = {"unique_id": uid, "direction": direction, "queue_id": qid,
            "queue_name": "Coda Test" if qid else "", "caller": "3330001111",
            "caller_name": "", "called": "0200000000", "status": status,
            "enter_datetime": enter, "welcome_end_datetime": welcome,
            "enqueue_datetime": welcome, "answer_datetime": answer, "exit_datetime": exit_,
            "exit_cause": cause, "operator_exten": op, "operator_name": "",
            "operator_account": acc, "account_code": "", "work_code": ""}
    return [vals[f] for f in QUEUE_CALL_FIELDS]


def _ev(op, ring, end, outcome, answer="", acc=None):
    return [op, "", acc or op, ring, answer, end, outcome]


def test_bad_rows_go_to_quarantine_with_their_line(store, tmp_path):
    a = _qc("1.1", "2026-05-04 10:00:00", "2026-05-04 10:03:00", "NCC",
            answer="2026-05-04 10:00:20", op="301", acc="301", welcome="2026-05-04 10:00:05")
    rows = [
        a + _ev("301", "2026-05-04 10:00:05", "2026-05-04 10:03:00", "NCC-AGENT",
                "2026-05-04 10:00:20"),
        a + _ev("302", "2026-05-04 10:00:05", "2026-05-04 10:00:20", "ANSWERED_ELSEWHERE"),
        a + _ev("303", "10:00:05 yesterday", "2026-05-04 10:00:20", "TIMEOUT"),       # line 4
        _qc("1.2", "2026-05-04 11:00:00", "", "CANCELED") + [""] * 7,                  # line 5
        _qc("1.3", "2026-05-04 12:00:00", "2026-05-04 11:00:00", "CANCELED") + [""] * 7,  # 6
        [*_qc("1.4", "2026-05-04 13:00:00", "2026-05-04 13:01:00", "CANCELED"), *[""] * 7,
         "spare"],                                                                     # line 7
        _qc("", "2026-05-04 14:00:00", "2026-05-04 14:01:00", "CANCELED") + [""] * 7,  # line 8
        _qc("1.5", "2026-05-04 15:00:00", "2026-05-04 15:00:01", "QUEUE_JOINEMPTY") + [""] * 7,
    ]
    p = tmp_path / "bad_cc.csv"
    p.write_text(HEAD + "\n" + "\n".join(",".join(r) for r in rows) + "\n", encoding="utf-8")
    r = load(store, p)
    assert r.error is None
    assert (r.rows_read, r.rows_loaded, r.rows_quarantined) == (8, 3, 5)
    q = store.execute("SELECT line, reason, raw FROM quarantine ORDER BY line").fetchall()
    assert [x[0] for x in q] == [4, 5, 6, 7, 8]
    assert "unparsable event_ring_datetime" in q[0][1] and "10:00:05 yesterday" in q[0][2]
    assert "missing exit_datetime" in q[1][1]
    assert "exit_datetime before enter_datetime" in q[2][1]
    assert "wrong number of columns" in q[3][1]
    assert "missing unique_id" in q[4][1]
    assert store.execute("SELECT unique_id, block, n_events FROM queue_calls ORDER BY 1"
                         ).fetchall() == [("1.1", "NCC", 2), ("1.5", "QUEUE_JOINEMPTY", 0)]
    assert load(store, p).skipped  # loading twice is a no-op


def test_json_truncated_and_unsafe_xml(store, tmp_path, cc_sim):
    text = (cc_sim / "cc_cdr.json").read_text(encoding="utf-8")
    p = tmp_path / "cut.json"
    p.write_text(text[: len(text) // 2], encoding="utf-8")
    r = load(store, p)
    assert r.error is None and r.rows_quarantined == 1 and r.rows_loaded > 0
    assert "truncated" in store.execute("SELECT reason FROM quarantine").fetchone()[0]
    x = tmp_path / "evil.xml"
    x.write_text('<?xml version="1.0"?><!DOCTYPE r [<!ENTITY e "x">]><callcenter_cdr>'
                 "<queue_call><unique_id>&e;</unique_id></queue_call></callcenter_cdr>",
                 encoding="utf-8")
    r = load(store, x)
    assert r.error and "unsafe" in r.error


def test_json_keys_without_event_prefix(store, tmp_path):
    obj = dict(zip(QUEUE_CALL_FIELDS, _qc("9.1", "2026-05-04 10:00:00", "2026-05-04 10:01:00",
                                          "NCC", answer="2026-05-04 10:00:10", op="301",
                                          acc="301"), strict=True))
    obj["operator_events"] = [{"operator_exten": "301", "operator_account": "301-app",
                               "ring_datetime": "2026-05-04 10:00:02",
                               "answer_datetime": "2026-05-04 10:00:10",
                               "end_datetime": "2026-05-04 10:01:00", "outcome": "NCC-CALLER"}]
    p = tmp_path / "one.json"
    p.write_text(json.dumps([obj]), encoding="utf-8")
    r = load(store, p)
    assert r.format == "kalliope_cc_json" and r.rows_loaded == 1
    assert store.execute("SELECT account, block, ring_s, talk_s, resp_s FROM cc_agent_legs"
                         ).fetchall() == [("301-app", "NCC-CALLER", 8, 50, 10)]
