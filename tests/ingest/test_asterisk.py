"""Asterisk Master.csv and queue_log, fixtures written by hand from Asterisk's documentation
(cdr_csv column order; Queue-Logs event list), mapped into calls / call_legs."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from pbxlens.ingest import ingest_paths, sniff

# Asterisk testsuite self_test/Master.csv row (anchors.md §3.1): uniqueid + userfield (18 cols)
DOC_ROW = ('"","","1","default","","Console/dsp","","Hangup","","2010-04-02 00:26:32",'
           '"2010-04-02 00:26:32","2010-04-02 00:26:39",7,7,"ANSWERED","DOCUMENTATION","1270167992.0",""')
# 16 columns (no uniqueid/userfield); a caller id with embedded quotes; NO ANSWER, empty answer
NO_IDS = ('"","3331234567","201","from-pstn","""Mario ""Mr"" Rossi"" <3331234567>",'
          '"SIP/trunk1-00000001","SIP/201-00000002","Dial","SIP/201,30","2026-02-18 10:00:00","",'
          '"2026-02-18 10:00:30",30,0,"NO ANSWER","DOCUMENTATION"')
# newcdrcolumns: uniqueid, userfield, peeraccount, linkedid, sequence (21 cols); outbound
NEWCOLS = ('"acct7","201","0612345678","from-internal","""Anna"" <201>","SIP/201-00000003",'
           '"SIP/trunk1-00000004","Dial","SIP/trunk1/0612345678","2026-02-18 11:00:00",'
           '"2026-02-18 11:00:05","2026-02-18 11:01:05",65,60,"ANSWERED","DOCUMENTATION",'
           '"1771408800.3","vip","","1771408800.3",12')

# queue_log, 2026-02-18 12:00:00 UTC = 13:00 Europe/Rome
T0 = 1771416000
QLOG = f"""{T0 - 60}|NONE|support|SIP/201|ADDMEMBER|
{T0 - 50}|NONE|support|SIP/201|PAUSE|lunch
{T0}|{T0}.10|support|NONE|DID|0287654321
{T0}|{T0}.10|support|NONE|ENTERQUEUE||3331234567|1
{T0 + 5}|{T0}.10|support|SIP/201|RINGNOANSWER|5000
{T0 + 12}|{T0}.10|support|SIP/202|CONNECT|12|{T0 + 10}.11|2
{T0 + 100}|{T0}.10|support|SIP/202|COMPLETECALLER|12|88|1
{T0 + 200}|{T0 + 200}.20|support|NONE|ENTERQUEUE||3339999999|1
{T0 + 206}|{T0 + 200}.20|support|NONE|ABANDON|1|1|6
{T0 + 300}|{T0 + 300}.30|sales|NONE|ENTERQUEUE||3471112222|1
{T0 + 304}|{T0 + 300}.30|sales|SIP/301|CONNECT|4|{T0 + 302}.31|2
{T0 + 340}|{T0 + 300}.30|sales|SIP/301|ATTENDEDTRANSFER|APP|Queue|4|36|1
{T0 + 350}|{T0 + 300}.30|support|SIP/202|CONNECT|10|{T0 + 345}.33|3
{T0 + 400}|{T0 + 300}.30|support|SIP/202|COMPLETEAGENT|10|50|1
{T0 + 520}|{T0 + 500}.40|support|SIP/201|CONNECT|20|{T0 + 518}.41|2
{T0 + 560}|{T0 + 500}.40|support|SIP/201|COMPLETEAGENT|20|40|1
{T0 + 600}|{T0 + 600}.50|support|NONE|JOINEMPTY|1||
{T0 + 700}|{T0 + 700}.60|support|NONE|ENTERQUEUE||3480000000|1
{T0 + 730}|{T0 + 700}.60|support|NONE|EXITWITHTIMEOUT|1|1|30
not|a|queue|log|line
"""

# Master.csv for the first queue call: same uniqueid as the queue_log callid
MASTER_Q = (f'"","3331234567","800","from-pstn","""Cliente"" <3331234567>","SIP/trunk1-0000000a",'
            f'"SIP/202-0000000b","Queue","support,t","2026-02-18 13:00:00","2026-02-18 13:00:12",'
            f'"2026-02-18 13:01:40",100,88,"ANSWERED","DOCUMENTATION","{T0}.10",""')


def write(tmp_path: Path, name: str, text: str) -> Path:
    p = tmp_path / name
    p.write_text(text if text.endswith("\n") else text + "\n", encoding="utf-8")
    return p


def rows(con, sql, params=None):
    return con.execute(sql, params or []).fetchall()


def test_detection(tmp_path):
    assert sniff.detect(write(tmp_path, "Master.csv", DOC_ROW)).kind == "asterisk_master"
    assert sniff.detect(write(tmp_path, "m16.csv", NO_IDS)).kind == "asterisk_master"
    assert sniff.detect(write(tmp_path, "queue_log", QLOG)).kind == "asterisk_queue_log"
    assert sniff.detect(write(tmp_path, "k.csv", "unique_id,status\n1.1,OK")).kind == "csv"
    (tmp_path / "sub").mkdir()
    write(tmp_path / "sub", "queue_log.1", QLOG)
    assert [p.name for p in sniff.walk([tmp_path / "sub"])] == ["queue_log.1"]


def test_master_csv_variants(store, tmp_path):
    p = write(tmp_path, "Master.csv", "\n".join([DOC_ROW, NO_IDS, NEWCOLS]))
    [r] = ingest_paths(store, [p])
    assert r.error is None and r.format == "asterisk_master_csv", r
    assert (r.rows_read, r.rows_loaded, r.rows_quarantined) == (3, 3, 0)
    doc = rows(store, "SELECT status, duration_s, bill_s, extra->>'lastapp' FROM calls"
                      " WHERE unique_id = '1270167992.0'")
    assert doc == [("OK", 7, 7, "Hangup")]
    got = rows(store, "SELECT status, caller, caller_name, called, source_type, answer_ts IS NULL"
                      " FROM calls WHERE caller = '3331234567'")
    assert got == [("NOANSWER", "3331234567", 'Mario "Mr" Rossi', "201", "ibl", True)]
    out = rows(store, "SELECT status, source_type, destination_type, account_code, src_peer_name,"
                      " gateway_name, extra->>'linkedid', extra->>'userfield' FROM calls"
                      " WHERE unique_id = '1771408800.3'")
    assert out == [("OK", "local_exten", "obl", "acct7", "201", "trunk1", "1771408800.3", "vip")]
    # idempotent: the same file again (other bytes, same rows) duplicates nothing
    p2 = write(tmp_path, "Master2.csv", "\n".join([NEWCOLS, DOC_ROW, NO_IDS, ""]))
    [r2] = ingest_paths(store, [p2])
    assert r2.rows_duplicate == 3 and rows(store, "SELECT count(*) FROM calls") == [(3,)]


def test_master_csv_bad_row_quarantined(store, tmp_path):
    p = write(tmp_path, "Master.csv", DOC_ROW + '\n"a","b","c"\n')
    [r] = ingest_paths(store, [p])
    assert (r.rows_loaded, r.rows_quarantined) == (1, 1)


def legs(con, uid):
    return rows(con, "SELECT dest_type, dest_id, exit_cause, answered_by,"
                     " strftime(enter_ts AT TIME ZONE 'UTC', '%H:%M:%S'),"
                     " strftime(answer_ts AT TIME ZONE 'UTC', '%H:%M:%S'),"
                     " strftime(exit_ts AT TIME ZONE 'UTC', '%H:%M:%S')"
                     " FROM call_legs WHERE unique_id = ? ORDER BY seq", [uid])


def test_queue_log_calls_and_paths(store, tmp_path):
    [r] = ingest_paths(store, [write(tmp_path, "queue_log", QLOG)])
    assert r.error is None and r.format == "asterisk_queue_log", r
    assert r.rows_quarantined == 1  # the garbage line; member events are skipped, not rejected
    calls = dict(rows(store, "SELECT unique_id, status FROM calls"))
    assert calls == {f"{T0}.10": "OK", f"{T0 + 200}.20": "CANCELED", f"{T0 + 300}.30": "OK",
                     f"{T0 + 500}.40": "OK", f"{T0 + 600}.50": "NOANSWER",
                     f"{T0 + 700}.60": "NOANSWER"}
    assert rows(store, "SELECT caller, called, duration_s, bill_s, answered_by FROM calls"
                       " WHERE unique_id = ?", [f"{T0}.10"]) == [("3331234567", "0287654321", 100, 88, "202")]
    assert legs(store, f"{T0}.10") == [
        ("queue", "support", "ANSWER", "202", "12:00:00", "12:00:12", "12:01:40"),
        ("local_exten", "201", "NOANSWER", None, "12:00:00", None, "12:00:05"),
        ("local_exten", "202", "ANSWER", "202", "12:00:10", "12:00:12", "12:01:40")]
    assert legs(store, f"{T0 + 200}.20") == [
        ("queue", "support", "CANCELED", None, "12:03:20", None, "12:03:26")]
    # multi-queue attended transfer keeps the original callid: one call, two queue visits
    assert legs(store, f"{T0 + 300}.30") == [
        ("queue", "sales", "ANSWER", "301", "12:05:00", "12:05:04", "12:05:40"),
        ("local_exten", "301", "ATXFER", "301", "12:05:02", "12:05:04", "12:05:40"),
        ("queue", "support", "ANSWER", "202", "12:05:40", "12:05:50", "12:06:40"),
        ("local_exten", "202", "ANSWER", "202", "12:05:47", "12:05:50", "12:06:40")]
    # ENTERQUEUE missing: the visit is back-dated by the CONNECT hold time
    assert legs(store, f"{T0 + 500}.40")[0] == (
        "queue", "support", "ANSWER", "201", "12:08:20", "12:08:40", "12:09:20")
    assert legs(store, f"{T0 + 600}.50")[0][2] == "JOINEMPTY"
    assert legs(store, f"{T0 + 700}.60")[0][2] == "TIMEOUT"
    # re-ingest: nothing new
    [r2] = ingest_paths(store, [write(tmp_path, "queue_log.copy", QLOG + "\n")])
    assert r2.rows_loaded == 0 and rows(store, "SELECT count(*) FROM calls") == [(6,)]


def test_queue_report_works_on_asterisk_data(store, tmp_path):
    from pbxlens.reports import Params, run

    ingest_paths(store, [write(tmp_path, "queue_log", QLOG)])
    res = run(store, "cdr.queues", Params(date_from=date(2026, 2, 18), date_to=date(2026, 2, 18)))
    text = repr(res)
    assert "support" in text and "sales" in text


def test_merge_master_and_queue_log_in_one_ingest(store, tmp_path):
    m = write(tmp_path, "Master.csv", MASTER_Q)
    q = write(tmp_path, "queue_log", QLOG)
    results = ingest_paths(store, [m, q])
    assert all(r.error is None for r in results), results
    # one call for the shared id: Master.csv's call fields, queue_log's path
    assert rows(store, "SELECT count(*) FROM calls WHERE unique_id = ?", [f"{T0}.10"]) == [(1,)]
    got = rows(store, "SELECT status, caller_name, called, bill_s, gateway_name,"
                      " extra->>'queue_log_callid' FROM calls WHERE unique_id = ?", [f"{T0}.10"])
    assert got == [("OK", "Cliente", "800", 88, "trunk1", f"{T0}.10")]
    assert [x[:3] for x in legs(store, f"{T0}.10")] == [
        ("queue", "support", "ANSWER"), ("local_exten", "201", "NOANSWER"),
        ("local_exten", "202", "ANSWER")]
    assert rows(store, "SELECT count(*) FROM calls") == [(6,)]
    # the other order in one run gives the same store
    other = tmp_path / "o"
    other.mkdir()
    from pbxlens.store import analytics as db

    con2 = db.connect(other / "s.duckdb")
    ingest_paths(con2, [q, m])
    snap = "SELECT unique_id, status, caller, path_len FROM calls ORDER BY 1"
    assert rows(con2, snap) == rows(store, snap)
    con2.close()


def _snapshot(con):
    calls = rows(con, "SELECT unique_id, status, caller, caller_name, called, bill_s, path_len,"
                      " gateway_name FROM calls ORDER BY 1")
    paths = rows(con, "SELECT unique_id, seq, dest_type, dest_id, exit_cause, enter_ts, exit_ts"
                      " FROM call_legs ORDER BY 1, 2")
    visits = rows(con, "SELECT unique_id, queue_id, exit_cause FROM queue_visits ORDER BY 1, 2")
    return calls, paths, visits


def test_merge_across_runs_equals_one_run(tmp_path):
    """Master.csv and queue_log loaded in separate runs, in either order, give the store one
    run gives (call fields from Master.csv, path from queue_log); reloading changes nothing."""
    from pbxlens.store import analytics as db

    m = write(tmp_path, "Master.csv", MASTER_Q)
    q = write(tmp_path, "queue_log", QLOG)
    snaps = []
    for name, runs in (("one", [[m, q]]), ("mq", [[m], [q]]), ("qm", [[q], [m]])):
        con = db.connect(tmp_path / f"{name}.duckdb")
        for files in runs:
            assert all(r.error is None for r in ingest_paths(con, files))
        for files in runs:  # the same files again: a no-op
            copies = []
            for f in files:
                c = tmp_path / f"{name}-again-{f.name}"
                c.write_text(f.read_text() + "\n")  # other bytes, same content
                copies.append(c)
            assert sum(r.rows_loaded for r in ingest_paths(con, copies)) == 0, name
        snaps.append(_snapshot(con))
        got = rows(con, "SELECT status, caller_name, called, bill_s FROM calls WHERE unique_id = ?",
                   [f"{T0}.10"])
        assert got == [("OK", "Cliente", "800", 88)], name
        con.close()
    assert snaps[1] == snaps[0] and snaps[2] == snaps[0]
