"""Every export format and variant loads to the same normalized calls and path."""

from __future__ import annotations

import shutil

import pytest

from pbxlens.store import analytics as db
from tests.ingest.helpers import load, snapshot

DETAILED = ["cdr_detailed.csv", "cdr.json", "cdr.xml", "cdr_detailed.xlsx"]


@pytest.fixture(scope="module")
def reference(sim_all, tmp_path_factory):
    con = db.connect(tmp_path_factory.mktemp("ref") / "ref.duckdb")
    r = load(con, sim_all / "cdr_detailed.csv")
    assert r.error is None and r.rows_quarantined == 0
    snap = snapshot(con)
    con.close()
    return snap


@pytest.mark.parametrize("name", DETAILED)
def test_each_detailed_format_gives_identical_tables(name, sim_all, store, reference):
    r = load(store, sim_all / name)
    assert r.error is None, r.error
    assert r.rows_quarantined == 0
    assert r.rows_read == r.rows_loaded
    assert snapshot(store) == reference


def test_summary_csv_gives_identical_calls_without_path(sim_all, store, reference):
    r = load(store, sim_all / "cdr_summary.csv")
    assert r.format == "kalliope_cdr_csv"
    calls, legs = snapshot(store)
    assert legs == []
    cols = [d[0] for d in store.execute("SELECT * EXCLUDE (batch_id, extra) FROM calls").description]
    skip = {cols.index("path_len"), cols.index("path_hash"), cols.index("direction")}
    strip = lambda rows: [tuple(v for i, v in enumerate(r) if i not in skip) for r in rows]  # noqa: E731
    assert strip(calls) == strip(reference[0])


def test_summary_after_detailed_keeps_the_path(sim_all, store, reference):
    load(store, sim_all / "cdr_detailed.csv")
    r = load(store, sim_all / "cdr_summary.csv")
    assert r.rows_loaded == 0 and r.rows_duplicate == r.rows_read
    assert snapshot(store) == reference


def test_all_formats_together_load_each_call_once(sim_all, store, reference):
    results = load(store, sim_all)
    assert all(r.error is None for r in results)
    loaded = sum(r.calls_loaded for r in results if r.format.startswith("kalliope"))
    assert loaded == len(reference[0])
    assert snapshot(store) == reference


def test_italian_gui_headers(sim_all, store, reference, tmp_path):
    from pbxlens.ingest.fields import fold

    italian = {
        "unique_id": "ID univoco", "source_type": "Tipo sorgente",
        "destination_type": "Tipo destinazione", "status": "Stato",
        "start_datetime": "Orario di inizio", "channel_up_datetime": "Durata del canale",
        "answer_datetime": "Orario di risposta", "answered_by": "Risposto da",
        "end_datetime": "Orario di fine", "caller": "Chiamante", "called": "Chiamato",
        "gateway_name": "Gateway", "account_code": "Codice di fatturazione",
        "bill_secs": "Tempo di fatturazione", "detail_source_num": "Numero sorgente",
        "detail_destination_type": "Tipo destinazione", "detail_destination_id": "ID destinazione",
        "detail_destination_name": "Nome", "detail_destination_num": "Numero",
        "detail_enter_datetime": "Orario di ingresso",
        "detail_enqueue_datetime": "Orario di accodamento",
        "detail_answer_datetime": "Orario di risposta", "detail_exit_datetime": "Orario di uscita",
        "detail_exit_cause": "Motivo di uscita", "detail_answered_by": "Risposto da",
        "detail_waiting_time": "Tempo di attesa",
        "detail_mapped_source_num": "Numero sorgente mappato",
        "detail_mapped_dst_num": "Numero destinazione mappato",
    }
    src = (sim_all / "cdr_detailed.csv").read_text(encoding="utf-8").splitlines(keepends=True)
    header = src[0].rstrip("\r\n").split(",")
    assert len({fold(italian.get(h, h)) for h in header}) < len(header)  # shared labels exist
    src[0] = ",".join(italian.get(h, h) for h in header) + "\n"
    target = tmp_path / "cdr_italiano.csv"
    target.write_text("".join(src), encoding="utf-8")
    r = load(store, target)
    assert r.error is None and r.rows_quarantined == 0
    assert snapshot(store) == reference


@pytest.mark.parametrize("encoding", ["utf-8-sig", "cp1252", "utf-16"])
def test_encodings(encoding, store, tmp_path):
    text = (
        "unique_id,status,start_datetime,end_datetime,duration,bill_secs,caller,caller_name,"
        "called,source_type,destination_type\n"
        "1700000000.1,OK,2023-11-14 23:13:20,2023-11-14 23:14:00,00:00:40,35.500,201,"
        "Niccolò Perché,0212345678,local_exten,obl\n"
    )
    target = tmp_path / f"cdr_{encoding}.csv"
    target.write_bytes(text.encode(encoding))
    r = load(store, target)
    assert r.error is None, r.error
    assert r.rows_loaded == 1
    name, bill = store.execute("SELECT caller_name, bill_s FROM calls").fetchone()
    assert name == "Niccolò Perché"
    assert str(bill) == "35.500"


def test_semicolon_csv_and_day_first_dates(store, tmp_path):
    target = tmp_path / "excel.csv"
    target.write_text(
        "ID univoco;Stato;Orario di inizio;Orario di fine;Durata;Tempo di fatturazione\n"
        "1455617312.30;Occupato;16/02/2016 11:08:32;16/02/2016 11:08:40;1gg 00:00:08;0\n",
        encoding="utf-8")
    r = load(store, target)
    assert r.error is None and r.rows_loaded == 1
    uid, status, dur, local = store.execute(
        "SELECT unique_id, status, duration_s, start_local FROM calls").fetchone()
    assert uid == "1455617312.30"  # text, trailing zero kept
    assert status == "BUSY"
    assert dur == 86408
    assert local.isoformat() == "2016-02-16T11:08:32"


def test_unknown_columns_are_kept_in_extra(store, tmp_path):
    target = tmp_path / "extra.csv"
    target.write_text("unique_id,status,start_datetime,duration,Firmware note\n"
                      "1.1,OK,2024-01-01 10:00:00,5,hello\n", encoding="utf-8")
    load(store, target)
    assert store.execute("SELECT extra->>'Firmware note' FROM calls").fetchone()[0] == "hello"


def test_copy_of_a_file_is_a_content_duplicate(sim_all, store, tmp_path):
    load(store, sim_all / "cdr_detailed.csv")
    before = snapshot(store)
    copy = tmp_path / "copy.csv"
    shutil.copy(sim_all / "cdr_detailed.csv", copy)
    with copy.open("a") as fh:
        fh.write("\n")  # other bytes, same content: no sha shortcut
    r = load(store, copy)
    assert r.skipped is None
    assert r.rows_loaded == 0 and r.rows_duplicate == r.rows_read
    assert snapshot(store) == before
