"""The JSON contract of every report on one fixed store: the sources (committed under
`tests/reports/data/contract/`, so that neither the simulator nor the clock changes them), the
store built from them, and the JSON of every report of the catalog in both languages.

`expected.json.gz` was written from `main` before reports became objects; the test
`test_json_contract.py` compares every report with it, byte for byte. To write it again (only
for a deliberate change of the contract):

    .venv/bin/python -m tests.reports.json_contract --write

or, to pin one report added later without touching the others' expected JSON:

    .venv/bin/python -m tests.reports.json_contract --add REPORT_ID
"""

from __future__ import annotations

import gzip
import json
import shutil
import sys
from datetime import date
from pathlib import Path

DATA = Path(__file__).with_name("data") / "contract"
EXPECTED = DATA / "expected.json.gz"
SOURCES = ("directory.json", "cdr_detailed.csv", "cc_cdr_detailed.csv", "events.jsonl",
           "feedback_requests.ndjson")
START, END = date(2026, 5, 4), date(2026, 5, 5)
TODAY = date(2026, 5, 6)

TARIFFS = (
    dict(description="generica", valid_from="2026-01-01", rate_in="0.5", rate_out="0.25",
         answer_charge="0.05", free_minutes=20, initial_block_s=30, increment_s=6),
    dict(description="mobili", valid_from="2026-01-01", prefix="3", rate_out="0.9",
         increment_s=60),
    dict(description="servizi clienti", valid_from="2026-01-01", company="ORG2",
         rate_in="0.02", rate_out="0.3", free_minutes=10),
)


def write_sources() -> None:
    """Simulate the two days once (seed 41) and keep the files, gzipped."""
    import tempfile

    from pbxlens.simulate import generate

    DATA.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        generate(Path(tmp), days=2, calls_per_day=120, seed=41, start=START,
                 formats=["csv-detailed", "cc-csv-detailed", "events", "feedback"])
        for name in SOURCES:
            with open(Path(tmp) / name, "rb") as src, gzip.open(DATA / f"{name}.gz", "wb") as dst:
                shutil.copyfileobj(src, dst)


def build_store(folder: Path) -> Path:
    """Ingest the committed sources into `folder/store.duckdb`, rate the calls, and add a
    multiservice contract; returns the store's path."""
    from pbxlens.billing import multiservice, rating, tariffs
    from pbxlens.ingest import ingest_paths
    from pbxlens.store import analytics as db

    src = folder / "sources"
    src.mkdir(parents=True, exist_ok=True)
    for name in SOURCES:
        with gzip.open(DATA / f"{name}.gz", "rb") as fh, open(src / name, "wb") as out:
            shutil.copyfileobj(fh, out)
    path = folder / "store.duckdb"
    con = db.connect(path)
    try:
        ingest_paths(con, [src / name for name in SOURCES])
        for t in TARIFFS:
            tariffs.add_tariff(con, rerate=False, **t)
        con.execute("BEGIN TRANSACTION")
        rating.rate_all(con)
        con.execute("COMMIT")
        multiservice.set_contract(con, "ORG1", "2026-05-01", None)
        multiservice.add_service(con, name="chiamate in", kind="calls_in", rate="0.25",
                                 free_limit=10, answer_charge="0.05")
        unit = multiservice.add_service(con, name="visura camerale", rate="24")
        multiservice.add_quantity(con, "ORG1", unit, "2026-05-01", "2026-05-31", 3)
        _add_bundles(con)
        _load_feedback(con, src / "feedback_requests.ndjson")
    finally:
        con.close()
    return path


def _add_bundles(con) -> None:
    """A bundle for every company without rollover, and one for ORG2 with rollover from March
    (billing.bundles; no other report reads bundles)."""
    from pbxlens.billing import bundles

    ids = dict(con.execute("SELECT description, id FROM billing_tariffs").fetchall())
    bundles.add_bundle(con, description="generica 10 min", tariff_id=ids["generica"],
                       minutes=10, flat_fee="12.5", overage_rate="0.2", valid_from="2026-01-01")
    bundles.add_bundle(con, description="ORG2 roll", tariff_id=ids["servizi clienti"],
                       company="ORG2", minutes=2, rollover=True, flat_fee="5",
                       overage_rate="0.1", valid_from="2026-03-01")


def _load_feedback(con, path: Path) -> None:
    """The feedback requests as the feedback webhook stores them (received on a fixed day)."""
    import hashlib
    import re

    for line in path.read_text(encoding="utf-8").splitlines():
        body = json.loads(line)["body"]
        tag = {k: (re.search(f"<{k}>([^<]*)</{k}>", body) or [None, None])[1]
               for k in ("unique_id", "caller", "called", "param1", "group")}
        rating = int(tag["param1"]) if (tag["param1"] or "").isdigit() else None
        con.execute(
            "INSERT INTO feedback_requests (tenant, unique_id, grp, body_sha256, caller, called,"
            " param1, rating, received_at, raw, batch_id) VALUES ('default', ?, ?, ?, ?, ?, ?, ?,"
            " TIMESTAMPTZ '2026-05-05 12:00:00+02', ?, 0)",
            [tag["unique_id"], tag["group"] or "", hashlib.sha256(body.encode()).hexdigest(),
             tag["caller"], tag["called"], tag["param1"],
             rating if rating is not None and 1 <= rating <= 6 else None, body])


# one value per filter key, to run every report once more per filter it accepts
FILTER_VALUES = {
    "status": ["OK"], "exit_cause": ["NCC", "NCC-AGENT"], "queue": ["700"],
    "operator": ["201", "202"],
    "account": ["202", "209"], "source": ["3"], "destination": ["0*2"], "billing_code": ["1001"],
    "gateway": ["GW-Milano"], "empty_queue": ["yes"], "direction": ["incoming"],
    "group": ["600", "CS"], "organization": ["ORG1"], "org_unit": ["OU2"],
    "checktime": ["CT1"], "ivr": ["1"], "chart_minutes": ["15"], "out_config": ["Uscita-Roma"],
    "from_start": ["yes"], "province": ["MI"], "abandon_only": ["yes"], "company": ["ORG2"],
    "cost_center": ["CC1"], "division": ["DIV1"], "billing_method": ["tariff"],
    "type": ["queue"], "number": ["3"], "hours": ["open"],
}


def report_ids() -> list[str]:
    from pbxlens.reports import all_reports

    return [d.id for d in all_reports()]


def cases() -> list[tuple[str, str, dict]]:
    """(report id, language, filters): every report in both languages, then once per filter
    it accepts."""
    from pbxlens.reports import get

    out = [(rid, lang, {}) for rid in report_ids() for lang in ("en", "it")]
    out += [(rid, "en", {k: FILTER_VALUES[k]}) for rid in report_ids()
            for k in get(rid).filter_keys]
    return out


def case_key(report_id: str, lang: str, filters: dict) -> str:
    return " ".join([report_id, lang, *(f"{k}={','.join(v)}" for k, v in filters.items())])


def report_json(con, report_id: str, lang: str, filters: dict) -> str:
    """`pbxlens report ID --format json --from START --to END --lang LANG --filter ...`."""
    from pbxlens.reports import Params, export, run

    return export.to_json(run(con, report_id, Params(date_from=START, date_to=END,
                                                      filters=filters, lang=lang, today=TODAY)))


def all_json(path: Path) -> dict[str, str]:
    from pbxlens.store import analytics as db

    con = db.connect(path, read_only=True)
    try:
        return {case_key(*c): report_json(con, *c) for c in cases()}
    finally:
        con.close()


def read_expected() -> dict[str, str]:
    with gzip.open(EXPECTED, "rt", encoding="utf-8") as fh:
        return json.load(fh)


def add_expected(folder: Path, report_id: str) -> None:
    """Pin one more report (all its cases) in the file, leaving every other one as it is."""
    want = read_expected()
    con_path = build_store(folder)
    from pbxlens.store import analytics as db

    con = db.connect(con_path, read_only=True)
    try:
        want |= {case_key(*c): report_json(con, *c) for c in cases() if c[0] == report_id}
    finally:
        con.close()
    with gzip.open(EXPECTED, "wt", encoding="utf-8") as fh:
        json.dump(want, fh, ensure_ascii=False, sort_keys=True, indent=0)


def write_expected(folder: Path) -> None:
    got = all_json(build_store(folder))
    with gzip.open(EXPECTED, "wt", encoding="utf-8") as fh:
        json.dump(got, fh, ensure_ascii=False, sort_keys=True, indent=0)


if __name__ == "__main__":
    import tempfile

    if "--add" in sys.argv[1:]:  # --add REPORT_ID
        with tempfile.TemporaryDirectory() as tmp_dir:
            add_expected(Path(tmp_dir), sys.argv[sys.argv.index("--add") + 1])
        sys.exit(0)
    if "--write" not in sys.argv[1:]:
        sys.exit(__doc__)
    if "--sources" in sys.argv[1:]:
        write_sources()
    with tempfile.TemporaryDirectory() as tmp_dir:
        write_expected(Path(tmp_dir))
