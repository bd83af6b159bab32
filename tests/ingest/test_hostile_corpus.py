"""The corpus of hostile files (built by code): each kind gets its exact outcome, in the same
command as a good file, which always loads. With tests/ingest/test_hostile_files.py (bombs,
dates at both ends of time, huge lines, NULs, quarantine text) this covers the kinds of the
hardening list."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pbxlens.ingest import ingest_paths
from tests.ingest.hostile import HEADER, cdr_row, good_csv

SAMPLES = Path(__file__).resolve().parents[2] / "data" / "samples" / "kalliope"
FULL = "\n".join([HEADER, cdr_row(1), cdr_row(2), cdr_row(3)]) + "\n"


def _half(name: str) -> bytes:
    data = (SAMPLES / name).read_bytes()
    return data[: len(data) // 2]


LAUGHS = ('<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 '
          '"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]><cdr><call><unique_id>&lol2;'
          "</unique_id></call></cdr>")
XXE = ('<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
       "<cdr><call><unique_id>&x;</unique_id></call></cdr>")

# name -> (bytes, outcome): ("error", text in the error) or ("rows", loaded, quarantined)
CORPUS = {
    "empty.csv": (b"", ("error", "the file is empty (0 bytes)")),
    "header_only.csv": (HEADER + "\n", ("rows", 0, 0)),
    "white_space.csv": ("  \n\n \t\n", ("error", "the file holds only white space")),
    "truncated.csv": (FULL[: len(FULL) - 25], ("rows", 2, 1)),
    "truncated.json": (_half("cdr.json"), ("rows", 79, 1)),
    "truncated.xml": (_half("cdr.xml"), ("rows", 79, 1)),
    "truncated.xlsx": (_half("cdr_detailed.xlsx"), ("error", "not a readable XLSX workbook")),
    "billion_laughs.xml": (LAUGHS, ("error", "refused unsafe XML (EntitiesForbidden)")),
    "xxe.xml": (XXE, ("error", "refused unsafe XML (EntitiesForbidden)")),
    "binary.csv": (os.urandom(2048).replace(b"\x00", b"\x01") + b"\x00",
                   ("error", "not a text file")),
    "deep.json": ("[" * 100_000 + "]" * 100_000,
                  ("error", "JSON nested too deep to be a CDR export")),
    "not_json_array.json": ("{", ("error", "invalid JSON and not an array of calls")),
    "semicolons.csv": ("\n".join([HEADER.replace(",", ";"), cdr_row(1).replace(",", ";")]) + "\n",
                       ("rows", 1, 0)),
    "tabs.csv": ("\n".join([HEADER.replace(",", "\t"), cdr_row(1).replace(",", "\t")]) + "\n",
                 ("rows", 1, 0)),
    "crlf.csv": ("\r\n".join([HEADER, cdr_row(1), cdr_row(2)]) + "\r\n", ("rows", 2, 0)),
    "bom.csv": ("\ufeff" + HEADER + "\n" + cdr_row(1) + "\n", ("rows", 1, 0)),
    "no_final_break.csv": ("\n".join([HEADER, cdr_row(1), cdr_row(2)]), ("rows", 2, 0)),
    "absurd_duration.csv": (HEADER + "\n" + cdr_row(1).replace("00:00:40", "99999:00:00") + "\n",
                            ("rows", 0, 1)),
    "unclosed_quote.csv": ("\n".join([HEADER, cdr_row(1), '"1700000000.2,OK', cdr_row(3)]) + "\n",
                           ("error", "the CSV cannot be parsed: a quote that is never closed")),
    "utf16_bad_line.csv": (("\n".join([HEADER, cdr_row(1), cdr_row(2) + ",x"]) + "\n")
                           .encode("utf-16"), ("rows", 1, 1)),
    "cp1252_bad_line.csv": (("\n".join([HEADER, cdr_row(1).replace(",201,", ",Niccolò,"),
                                        cdr_row(2) + ",x"]) + "\n").encode("cp1252"),
                            ("rows", 1, 1)),
    # no valid multi-byte UTF-8 and one high byte: a cp1252 file (sniff.text_encoding)
    "lone_high_byte.csv": ((HEADER + "\n" + cdr_row(1) + "\n").encode()
                           + cdr_row(2).replace(",201,", ",\udcff,").encode("utf-8", "surrogateescape")
                           + b"\n", ("rows", 2, 0)),
}


@pytest.mark.parametrize("name", sorted(CORPUS))
def test_each_kind_has_its_exact_outcome(name, store, tmp_path):
    data, outcome = CORPUS[name]
    bad = tmp_path / name
    bad.write_bytes(data if isinstance(data, bytes) else data.encode())
    results = ingest_paths(store, [bad, good_csv(tmp_path / "good.csv")])
    r = results[0]
    if outcome[0] == "error":
        assert r.error and r.error.startswith(f"{bad}: ") and outcome[1] in r.error, r
        assert len(r.error) < 400
    else:
        assert r.error is None, r.error
        assert (r.rows_loaded, r.rows_quarantined) == outcome[1:], r
    assert results[1].rows_loaded == 1  # the good file of the same command


def test_a_folder_of_mixed_files(store, tmp_path):
    d = tmp_path / "mixed"
    (d / "sub").mkdir(parents=True)
    good_csv(d / "a.csv", 11)
    (d / "b.json").write_text("{")
    (d / "c.xlsx").write_bytes(b"PK\x03\x04junk")
    (d / "notes.md").write_text("# not an export: skipped by suffix")
    good_csv(d / "sub" / "d.csv", 12)
    results = ingest_paths(store, [d])
    assert [Path(r.path).name for r in results] == ["a.csv", "b.json", "c.xlsx", "d.csv"]
    assert [bool(r.error) for r in results] == [False, True, True, False]
    assert {u for (u,) in store.execute("SELECT unique_id FROM calls").fetchall()} == \
        {"1700000000.11", "1700000000.12"}


def test_a_symlink_loop_is_walked_once(store, tmp_path):
    d = tmp_path / "loop"
    d.mkdir()
    (d / "self").symlink_to(d)
    good_csv(d / "x.csv", 12)
    results = ingest_paths(store, [d])
    assert [(Path(r.path).name, r.rows_loaded) for r in results] == [("x.csv", 1)]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=st.binary(max_size=3000), header=st.booleans())
def test_random_bytes_never_crash_the_csv_reader(store, tmp_path_factory, body, header):
    """Whatever the bytes: a result per file, an error or counts that add up, never an
    exception, and the good file after it loads."""
    d = tmp_path_factory.mktemp("rand")
    p = d / "random.csv"
    p.write_bytes((HEADER + "\n").encode() + body if header else body)
    results = ingest_paths(store, [p, good_csv(d / "good.csv")])
    r = results[0]
    assert r.error or r.rows_read == r.rows_loaded + r.rows_duplicate + r.rows_quarantined
    assert results[1].error is None
