"""The committed samples load cleanly and agree with each other."""

from pathlib import Path

from tests.ingest.helpers import load, snapshot

SAMPLES = Path(__file__).parents[2] / "data" / "samples"


def test_every_sample_loads_without_quarantine(store):
    results = load(store, SAMPLES)
    assert all(r.error is None and r.rows_quarantined == 0 for r in results)
    assert {r.format for r in results} >= {"kalliope_cdr_csv", "kalliope_cdr_csv_detailed",
                                          "kalliope_cdr_json", "kalliope_cdr_xml",
                                          "kalliope_cdr_xlsx_detailed", "directory_json"}


def test_seed_examples_match_the_wiki(store):
    load(store, SAMPLES / "seed_examples_detailed.csv")
    rows = dict(store.execute("SELECT unique_id, status FROM calls").fetchall())
    assert rows == {"1455902736.0": "OK", "1455815211.0": "CANCELED", "1455620674.66": "FAILED",
                    "1455620623.55": "OK", "1455617228.7": "BUSY"}
    # the FAILED call has no path; bill time 0:01:06 = end - answer (L13527)
    assert store.execute("SELECT path_len, bill_s FROM calls WHERE unique_id = '1455620674.66'"
                         ).fetchone()[0] == 0
    assert float(store.execute("SELECT bill_s FROM calls WHERE unique_id = '1455620623.55'"
                               ).fetchone()[0]) == 66.0


def test_sample_formats_agree(store, tmp_path):
    from pbxlens.store import analytics as db

    snaps = []
    for name in ("cdr_detailed.csv", "cdr.json", "cdr.xml", "cdr_detailed.xlsx"):
        con = db.connect(tmp_path / f"{name}.duckdb")
        load(con, SAMPLES / "kalliope" / name)
        snaps.append(snapshot(con))
        con.close()
    assert all(s == snaps[0] for s in snaps)
