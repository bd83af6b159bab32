"""Uploads are read first in a child process with a memory limit: a file whose reading would
exhaust memory ends the child with a clear error for that file; the other files load."""

from __future__ import annotations

from pathlib import Path

import pytest

from pbxlens.ingest import preflight
from pbxlens.ingest.job import ingest_job
from tests.ingest.hostile import good_csv

SAMPLES = Path(__file__).resolve().parents[2] / "data" / "samples" / "kalliope"
LIMIT = 1_000_000_000


@pytest.fixture(scope="module")
def greedy_json(tmp_path_factory) -> Path:
    """A valid CDR JSON whose one record carries a 200 MB name: the Python reader needs
    several times that to read it."""
    p = tmp_path_factory.mktemp("greedy") / "greedy.json"
    with p.open("w") as f:
        f.write('[{"unique_id": "1700000000.1", "start_datetime": "2023-11-14 23:13:20",'
                ' "status": "OK", "caller_name": "' + "x" * (200 << 20) + '"}]')
    return p


def test_a_file_within_the_limit_passes():
    assert preflight.check(SAMPLES / "cdr.json", LIMIT) is None
    assert preflight.check(SAMPLES / "cdr_detailed.xlsx", LIMIT) is None


def test_a_greedy_file_ends_only_the_child(greedy_json):
    assert preflight.check(greedy_json, LIMIT) == (
        f"{greedy_json}: reading it needs more than {LIMIT} bytes of memory (setting"
        " upload_parse_memory_bytes): not loaded")


def test_an_unreadable_file_reports_the_readers_error(tmp_path):
    bad = tmp_path / "broken.xlsx"
    bad.write_bytes(b"PK\x03\x04 not a zip at all")
    assert "not a readable XLSX workbook" in preflight.check(bad, LIMIT)


def test_an_isolated_upload_job_skips_only_the_greedy_file(tmp_path, monkeypatch,
                                                            greedy_json):
    from pbxlens.config import get_settings
    from pbxlens.store import Stores

    monkeypatch.setenv("PBXLENS_UPLOAD_PARSE_MEMORY_BYTES", str(LIMIT))
    get_settings.cache_clear()
    stores = Stores(tmp_path / "store.duckdb")
    try:
        first, last = good_csv(tmp_path / "a.csv", 1), good_csv(tmp_path / "z.csv", 2)
        results = stores.writer.run("upload", "test",
                                    ingest_job([first, greedy_json, last], isolate=True))
        assert [r.error is None for r in results] == [True, False, True]
        assert "upload_parse_memory_bytes" in results[1].error
        with stores.cursor() as cur:
            assert cur.execute("SELECT count(*) FROM calls").fetchone()[0] == 2
    finally:
        stores.close()
        get_settings.cache_clear()
