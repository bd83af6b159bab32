from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import pytest

from pbxlens.ingest import ingest_paths
from pbxlens.simulate import generate
from pbxlens.simulate.writers.common import CALL_FIELDS, DETAIL_FIELDS
from pbxlens.store import analytics as db

from . import naive

SEEDS = (11, 22, 33)
START = date(2026, 5, 4)  # far from both DST changes
DAYS = 3


@dataclass
class Store:
    path: Path
    csv: Path
    d_from: date
    d_to: date
    calls: list
    directory: dict

    def con(self):
        return db.connect(self.path, read_only=True)

    @property
    def accounts(self) -> dict[str, str]:
        return {a["account"]: o["extension"] for o in self.directory["operators"]
                for a in o["accounts"]}


def _build(folder: Path, seed: int) -> Store:
    generate(folder, days=DAYS, calls_per_day=300, seed=seed, start=START,
             formats=["csv-detailed"])
    path = folder / "store.duckdb"
    con = db.connect(path)
    ingest_paths(con, [folder / "cdr_detailed.csv", folder / "directory.json"])
    con.close()
    return Store(path, folder / "cdr_detailed.csv", START, START + timedelta(days=DAYS - 1),
                 naive.read_calls(folder / "cdr_detailed.csv"),
                 json.loads((folder / "directory.json").read_text(encoding="utf-8")))


@pytest.fixture(scope="session")
def stores(tmp_path_factory) -> list[Store]:
    return [_build(tmp_path_factory.mktemp(f"sim{s}"), s) for s in SEEDS]


@pytest.fixture(scope="session", params=range(len(SEEDS)), ids=[f"seed{s}" for s in SEEDS])
def store(request, stores) -> Store:
    return stores[request.param]


# ----------------------------------------------------------------------------- hand-made CDR

DIRECTORY = {
    "pbxlens_directory": 1, "timezone": "Europe/Rome",
    "tenants": [{"domain": "default", "name": "Default"}],
    "operators": [
        {"tenant": "default", "extension": "301", "name": "Tre Account",
         "accounts": [{"account": "301", "kind": "desk"}, {"account": "301-app", "kind": "app"},
                      {"account": "301-dect", "kind": "dect"}]},
        {"tenant": "default", "extension": "302", "name": "Due",
         "accounts": [{"account": "302", "kind": "desk"}]},
        {"tenant": "default", "extension": "303", "name": "Terzo",
         "accounts": [{"account": "303", "kind": "desk"}]},
    ],
    "queues": [{"tenant": "default", "id": "800", "name": "Coda Test", "strategy": "ringall",
                "max_wait_s": 300, "members": [{"account": "301", "penalty": 0}]}],
}


class CdrBuilder:
    """Writes detailed-CSV rows: one call header repeated on each of its detail lines."""

    def __init__(self) -> None:
        self.rows: list[list[str]] = []
        self.n = 0

    def call(self, start: str, end: str, legs: list[dict], *, src="ibl", dst="queue",
             status="OK", answer="", up="", caller="3330001111", called="0200000000",
             duration="", bill="0.000", peer="", answered_by="") -> None:
        self.n += 1
        from datetime import datetime
        s, e = (datetime.strptime(x, "%Y-%m-%d %H:%M:%S") for x in (start, end))
        dur = duration or str(timedelta(seconds=int((e - s).total_seconds()))).zfill(8)
        head = {"unique_id": f"{1780000000 + self.n}.{self.n}", "source_type": src,
                "destination_type": dst, "status": status, "start_datetime": start,
                "channel_up_datetime": up, "answer_datetime": answer,
                "answered_by": answered_by, "end_datetime": end, "caller": caller,
                "caller_name": "", "anonymous": "0", "called": called, "gateway_name": "",
                "account_code": "", "duration": dur, "bill_secs": bill,
                "src_peer_name": peer, "src_ip_port": ""}
        for lg in legs or [{}]:
            d = {f: "" for f in DETAIL_FIELDS}
            if lg:
                d.update({"detail_source_num": lg.get("src", caller),
                          "detail_source_anonymous": "0",
                          "detail_destination_type": lg["type"],
                          "detail_destination_id": lg.get("id", ""),
                          "detail_destination_name": lg.get("name", ""),
                          "detail_destination_num": lg.get("id", ""),
                          "detail_enter_datetime": lg["enter"],
                          "detail_enqueue_datetime": lg.get("enqueue", ""),
                          "detail_answer_datetime": lg.get("answer", ""),
                          "detail_exit_datetime": lg["exit"],
                          "detail_exit_cause": lg["cause"],
                          "detail_answered_by": lg.get("by", ""),
                          "detail_waiting_time": "0"})
            self.rows.append([head[f] for f in CALL_FIELDS] + [d[f] for f in DETAIL_FIELDS])

    def write(self, folder: Path) -> Path:
        folder.mkdir(parents=True, exist_ok=True)
        p = folder / "cdr_detailed.csv"
        with open(p, "w", encoding="utf-8", newline="") as f:
            w = csv.writer(f, lineterminator="\n")
            w.writerow(CALL_FIELDS + DETAIL_FIELDS)
            w.writerows(self.rows)
        (folder / "directory.json").write_text(json.dumps(DIRECTORY), encoding="utf-8")
        return p


def q(enter, exit_, cause, answer="", by="", qid="800", name="Coda Test"):
    return {"type": "queue", "id": qid, "name": name, "enter": enter, "enqueue": enter,
            "answer": answer, "exit": exit_, "cause": cause, "by": by}


def ext(eid, enter, exit_, cause, answer="", by="", src=None):
    d = {"type": "local_exten", "id": eid, "name": "", "enter": enter, "answer": answer,
         "exit": exit_, "cause": cause, "by": by}
    if src is not None:
        d["src"] = src
    return d


def edge_cdr() -> CdrBuilder:
    b = CdrBuilder()
    # 1. across midnight: starts 04/05 23:59:50, answered after midnight (counts on 04/05)
    b.call("2026-05-04 23:59:50", "2026-05-05 00:02:00", [
        q("2026-05-04 23:59:50", "2026-05-05 00:02:00", "NCC", "2026-05-05 00:00:05", "301"),
        ext("301", "2026-05-04 23:59:52", "2026-05-05 00:02:00", "NCC", "2026-05-05 00:00:05",
            "301"),
    ], answer="2026-05-05 00:00:05", up="2026-05-04 23:59:50", bill="115.000",
        answered_by="301")
    # 2. ringall: 301 answers on its app, 302 answered elsewhere, 303 declines
    b.call("2026-05-04 10:00:00", "2026-05-04 10:05:00", [
        q("2026-05-04 10:00:00", "2026-05-04 10:05:00", "NCC", "2026-05-04 10:00:30",
          "301-app"),
        ext("301", "2026-05-04 10:00:10", "2026-05-04 10:05:00", "NCC", "2026-05-04 10:00:30",
            "301-app"),
        ext("302", "2026-05-04 10:00:10", "2026-05-04 10:00:30", "ANSWERED_ELSEWHERE"),
        ext("303", "2026-05-04 10:00:10", "2026-05-04 10:00:14", "DECLINED"),
    ], answer="2026-05-04 10:00:30", up="2026-05-04 10:00:00", bill="270.000",
        answered_by="301-app")
    # 3. attended transfer from the queue (ATXFER), target leg 302 (source = operator 301)
    b.call("2026-05-04 11:00:00", "2026-05-04 11:04:00", [
        q("2026-05-04 11:00:00", "2026-05-04 11:02:00", "ATXFER", "2026-05-04 11:00:20",
          "301-dect"),
        ext("301", "2026-05-04 11:00:05", "2026-05-04 11:02:00", "ATXFER",
            "2026-05-04 11:00:20", "301-dect"),
        ext("302", "2026-05-04 11:01:30", "2026-05-04 11:04:00", "NCC", "2026-05-04 11:01:40",
            "302", src="301"),
    ], answer="2026-05-04 11:00:20", up="2026-05-04 11:00:00", bill="220.000",
        answered_by="301-dect")
    # 4. blind transfer by the operator
    b.call("2026-05-04 12:00:00", "2026-05-04 12:03:00", [
        q("2026-05-04 12:00:00", "2026-05-04 12:01:00", "NCC", "2026-05-04 12:00:10", "301"),
        ext("301", "2026-05-04 12:00:02", "2026-05-04 12:01:00", "BLINDXFER",
            "2026-05-04 12:00:10", "301"),
        ext("303", "2026-05-04 12:01:00", "2026-05-04 12:03:00", "NCC", "2026-05-04 12:01:05",
            "303", src="301"),
    ], answer="2026-05-04 12:00:10", up="2026-05-04 12:00:00", bill="170.000",
        answered_by="301")
    # 5. caller abandons after 3 s (short), 6. after 40 s (timeout ring on 301)
    b.call("2026-05-04 13:00:00", "2026-05-04 13:00:03", [
        q("2026-05-04 13:00:00", "2026-05-04 13:00:03", "CANCELED")], status="CANCELED",
        up="2026-05-04 13:00:00")
    b.call("2026-05-04 13:10:00", "2026-05-04 13:10:40", [
        q("2026-05-04 13:10:00", "2026-05-04 13:10:40", "CANCELED"),
        ext("301", "2026-05-04 13:10:05", "2026-05-04 13:10:25", "NOANSWER"),
    ], status="CANCELED", up="2026-05-04 13:10:00")
    # 7. a visit to an empty (unnamed) queue, and 8. join-empty
    b.call("2026-05-04 14:00:00", "2026-05-04 14:00:20", [
        q("2026-05-04 14:00:00", "2026-05-04 14:00:20", "CANCELED", qid="", name="")],
        status="CANCELED", up="2026-05-04 14:00:00")
    b.call("2026-05-04 15:00:00", "2026-05-04 15:00:09", [
        q("2026-05-04 15:00:00", "2026-05-04 15:00:00", "JOINEMPTY")], status="NOANSWER",
        up="2026-05-04 15:00:00")
    # 9-12. DST: spring (23 h day) and autumn (25 h day)
    for start, end in (("2026-03-29 01:30:00", "2026-03-29 01:31:00"),
                       ("2026-03-29 03:30:00", "2026-03-29 03:31:00"),
                       ("2026-10-25 02:30:00", "2026-10-25 02:31:00"),
                       ("2026-10-25 23:59:59", "2026-10-26 00:00:30")):
        b.call(start, end, [q(start, end, "NOANSWER")], status="NOANSWER", up=start)
    # 13. an outgoing call from 301's third account, 14. before the range (28/03 23:59:59)
    b.call("2026-05-04 16:00:00", "2026-05-04 16:02:00", [
        {"type": "obl", "id": "Uscita", "enter": "2026-05-04 16:00:01",
         "answer": "2026-05-04 16:00:11", "exit": "2026-05-04 16:02:00", "cause": "NCC",
         "by": "0612345678"}], src="local_exten", dst="obl", answer="2026-05-04 16:00:11",
        up="2026-05-04 16:00:11", caller="301", called="0612345678", bill="109.000",
        peer="301-dect")
    b.call("2026-03-28 23:59:59", "2026-03-29 00:00:20", [
        q("2026-03-28 23:59:59", "2026-03-29 00:00:20", "NOANSWER")], status="NOANSWER",
        up="2026-03-28 23:59:59")
    return b


@pytest.fixture(scope="session")
def edge(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("edge")
    edge_cdr().write(folder)
    path = folder / "store.duckdb"
    con = db.connect(path)
    res = ingest_paths(con, [folder / "cdr_detailed.csv", folder / "directory.json"])
    assert con.execute("SELECT count(*) FROM quarantine").fetchone()[0] == 0, res
    con.close()
    return path
