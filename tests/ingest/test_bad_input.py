"""Bad input: each bad row lands in quarantine with its reason and line, the rest loads;
a file that cannot be parsed at all is a clear error and the other files still load."""

from __future__ import annotations

import pytest

from tests.ingest.helpers import load

HEADER = ("unique_id,status,start_datetime,end_datetime,duration,bill_secs,caller,called,"
          "source_type,destination_type")
GOOD = "1700000000.{n},OK,2023-11-14 23:13:20,2023-11-14 23:14:00,00:00:40,35.5,201,202,local_exten,local_exten"


def _csv(tmp_path, bad_line: str, name="bad.csv") -> object:
    lines = [HEADER, GOOD.format(n=1), bad_line, GOOD.format(n=3)]
    p = tmp_path / name
    p.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return p


BAD_ROWS = {
    "missing unique_id": (",OK,2023-11-14 23:13:20,2023-11-14 23:14:00,00:00:40,0,201,202,,",
                          "missing unique_id"),
    "unparsable date": ("9.2,OK,2023-13-45 99:00:00,2023-11-14 23:14:00,00:00:40,0,201,202,,",
                        "unparsable start_datetime"),
    "negative duration": ("9.2,OK,2023-11-14 23:13:20,2023-11-14 23:14:00,-00:00:40,0,201,202,,",
                          "negative duration"),
    "absurd duration": ("9.2,OK,2023-11-14 23:13:20,2023-11-14 23:14:00,9999:00:00,0,201,202,,",
                        "absurd duration"),
    "too many columns": ("9.2,OK,2023-11-14 23:13:20,2023-11-14 23:14:00,00:00:40,0,201,202,,,x",
                         "too many columns: 11 values where the header has 10"),
    "too few columns": ("9.2,OK,2023-11-14 23:13:20",
                        "too few columns: 3 values where the header has 10"),
    "end before start": ("9.2,OK,2023-11-14 23:13:20,2023-11-14 22:00:00,00:00:40,0,201,202,,",
                         "end_datetime before start_datetime"),
    "missing status": ("9.2,,2023-11-14 23:13:20,2023-11-14 23:14:00,00:00:40,0,201,202,,",
                       "missing status"),
}


@pytest.mark.parametrize("kind", sorted(BAD_ROWS))
def test_bad_row_goes_to_quarantine_with_reason_and_line(kind, store, tmp_path):
    line, reason = BAD_ROWS[kind]
    r = load(store, _csv(tmp_path, line))
    assert r.error is None
    assert (r.rows_read, r.rows_loaded, r.rows_quarantined) == (3, 2, 1)
    q_line, q_reason, raw = store.execute("SELECT line, reason, raw FROM quarantine").fetchone()
    assert q_line == 3
    assert reason in q_reason
    assert raw
    assert store.execute("SELECT count(*) FROM calls").fetchone()[0] == 2


def test_non_utf8_bytes_in_a_utf8_file(store, tmp_path):
    p = tmp_path / "mixed.csv"
    body = (HEADER + "\n" + GOOD.format(n=1) + "\n").encode() + "1700000000.5,OK,2023-11-14 23:13:20,2023-11-14 23:14:00,00:00:40,0,Niccolò,202,,\n".encode()
    body += b"1700000000.6,OK,2023-11-14 23:13:20,2023-11-14 23:14:00,00:00:40,0,\xff\xfe,202,,\n"
    p.write_bytes(body)
    r = load(store, p)
    assert (r.rows_loaded, r.rows_quarantined) == (2, 1)
    line, reason, raw = store.execute("SELECT line, reason, raw FROM quarantine").fetchone()
    assert line == 4 and "INVALID ENCODING" in reason
    assert "\\xff\\xfe" in raw  # the original bytes, escaped, not lost


def test_three_corrupted_rows_of_a_simulated_export(sim_all, store, tmp_path):
    lines = (sim_all / "cdr_detailed.csv").read_text(encoding="utf-8").splitlines()
    lines[5] = lines[5].replace("2026-05-1", "2026-55-1", 1)
    lines[10] = lines[10] + ",extra"
    first = lines[15].split(",")
    first[0] = ""
    lines[15] = ",".join(first)
    p = tmp_path / "corrupted.csv"
    p.write_text("\n".join(lines) + "\n", encoding="utf-8")
    r = load(store, p)
    assert r.rows_quarantined == 3
    assert r.rows_loaded == r.rows_read - 3
    assert sorted(x[0] for x in store.execute("SELECT line FROM quarantine").fetchall()) == [6, 11, 16]
    # the calls whose path lost a row are flagged
    assert store.execute("SELECT count(*) FROM calls WHERE path_incomplete").fetchone()[0] >= 1


def test_truncated_json_keeps_the_whole_calls(sim_all, store, tmp_path):
    text = (sim_all / "cdr.json").read_text(encoding="utf-8")
    p = tmp_path / "cut.json"
    p.write_text(text[: len(text) * 2 // 3], encoding="utf-8")
    r = load(store, p)
    assert r.error is None
    assert r.rows_loaded > 0 and r.rows_quarantined == 1
    assert "truncated" in store.execute("SELECT reason FROM quarantine").fetchone()[0]


def test_truncated_xml_keeps_the_whole_calls(sim_all, store, tmp_path):
    text = (sim_all / "cdr.xml").read_text(encoding="utf-8")
    p = tmp_path / "cut.xml"
    p.write_text(text[: len(text) // 2], encoding="utf-8")
    r = load(store, p)
    assert r.error is None
    assert r.rows_loaded > 0 and r.rows_quarantined == 1


def test_xml_entities_are_refused(store, tmp_path):
    p = tmp_path / "bomb.xml"
    p.write_text('<?xml version="1.0"?><!DOCTYPE cdr [<!ENTITY a "aaaa">]>'
                 "<cdr><call><unique_id>&a;</unique_id></call></cdr>", encoding="utf-8")
    r = load(store, p)
    assert r.error is not None


@pytest.mark.parametrize("content,message", [
    (b"", "empty"),
    (b"\x00\x01\x02\x03binary\x00", "binary"),
    (b"   \n\n", "white space"),
    (b"foo,bar\n1,2\n", "not a Kalliope CDR"),
    (b"PK\x03\x04garbage", "XLSX"),
    (b"[{\"unique_id\": ", "JSON"),
])
def test_unreadable_file_is_a_clear_error_and_others_still_load(content, message, store, tmp_path):
    bad = tmp_path / "a_bad.csv"
    bad.write_bytes(content)
    good = _csv(tmp_path, GOOD.format(n=2), name="b_good.csv")
    results = load(store, bad, good)
    assert message.lower() in (results[0].error or "").lower()
    assert results[1].error is None and results[1].rows_loaded == 3
    assert store.execute("SELECT count(*) FROM ingest_batches").fetchone()[0] == 1
