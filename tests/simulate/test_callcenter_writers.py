"""The simulator's Call Center CDR files: deterministic with or without the writer process,
and consistent with the CDR written from the same truth."""

from __future__ import annotations

import csv
from datetime import date

from pbxlens.simulate import CC_FORMATS, generate


def test_cc_files_identical_with_writer_process_and_match_the_cdr(tmp_path):
    kw = dict(days=1, calls_per_day=300, seed=3, start=date(2026, 5, 12),
              formats=[*CC_FORMATS, "csv-detailed"])
    generate(tmp_path / "a", writer_process=False, **kw)
    generate(tmp_path / "b", writer_process=True, **kw)
    for f in ("cc_cdr.csv", "cc_cdr_detailed.csv", "cc_cdr.json", "cc_cdr.xml", "cc_cdr.xlsx",
              "cc_cdr_detailed.xlsx"):
        assert (tmp_path / "a" / f).read_bytes() == (tmp_path / "b" / f).read_bytes(), f
    with open(tmp_path / "a" / "cdr_detailed.csv", encoding="utf-8", newline="") as fh:
        queue_lines = [r for r in csv.DictReader(fh) if r["detail_destination_type"] == "queue"]
    with open(tmp_path / "a" / "cc_cdr.csv", encoding="utf-8", newline="") as fh:
        cc = list(csv.DictReader(fh))
    assert len(cc) == len(queue_lines) > 0
    for q, row in zip(queue_lines, cc, strict=True):
        assert (row["unique_id"], row["queue_id"], row["enter_datetime"], row["exit_datetime"]) \
            == (q["unique_id"], q["detail_destination_id"], q["detail_enter_datetime"],
                q["detail_exit_datetime"])
        if row["exit_cause"] in ("CANCELED_NOWAIT", "QUEUE_JOINEMPTY"):
            assert row["welcome_end_datetime"] == row["enqueue_datetime"] == ""
        if row["exit_cause"] in ("NCC", "TRANSFER"):
            assert row["answer_datetime"] and row["operator_account"]
