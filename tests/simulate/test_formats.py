"""All five formats carry the same calls with the same values."""

from __future__ import annotations

import csv
import json
import xml.etree.ElementTree as ET

import openpyxl

from pbxlens.simulate.writers import CALL_FIELDS, DETAIL_FIELDS


def _from_detailed_rows(rows):
    calls = {}
    for r in rows:
        call = {k: r[k] or "" for k in CALL_FIELDS}
        det = {k: r[k] or "" for k in DETAIL_FIELDS}
        entry = calls.setdefault(call["unique_id"], (call, []))
        assert entry[0] == call  # call fields repeated identically
        if any(det.values()):
            entry[1].append(det)
    return calls


def test_all_formats_equal(spring_run):
    out = spring_run.out
    with open(out / "cdr_detailed.csv", encoding="utf-8", newline="") as f:
        detailed = _from_detailed_rows(csv.DictReader(f))
    with open(out / "cdr_summary.csv", encoding="utf-8", newline="") as f:
        summary = {r["unique_id"]: dict(r) for r in csv.DictReader(f)}
    assert list(summary) == list(detailed)
    for uid, row in summary.items():
        assert row == detailed[uid][0]

    data = json.loads((out / "cdr.json").read_text(encoding="utf-8"))
    js = {c["unique_id"]: ({k: c[k] for k in CALL_FIELDS}, c["details"]) for c in data}
    assert list(js) == list(detailed)
    assert js == detailed

    root = ET.parse(out / "cdr.xml").getroot()
    xm = {}
    for call in root.findall("call"):
        cv = {k: (call.findtext(k) or "") for k in CALL_FIELDS}
        dets = [{k: (d.findtext(k) or "") for k in DETAIL_FIELDS}
                for d in call.findall("details/detail")]
        xm[cv["unique_id"]] = (cv, dets)
    assert list(xm) == list(detailed)
    assert xm == detailed

    wb = openpyxl.load_workbook(out / "cdr_detailed.xlsx", read_only=True)
    ws = wb.worksheets[0]
    it = ws.iter_rows(values_only=True)
    header = list(next(it))
    assert header == list(CALL_FIELDS) + list(DETAIL_FIELDS)
    rows = []
    for values in it:
        assert all(v is None or isinstance(v, str) for v in values)  # text cells only
        rows.append(dict(zip(header, (v or "" for v in values), strict=False)))
    wb.close()
    assert _from_detailed_rows(rows) == detailed


def test_directory_schema(spring_run):
    d = spring_run.directory
    assert d["pbxlens_directory"] == 1 and d["timezone"] == "Europe/Rome"
    assert d["tenants"] == [{"domain": "default", "name": "Default"}]
    for key in ("organizations", "org_units", "cost_centers", "divisions", "operators", "queues",
                "ring_groups", "ivrs", "checktimes", "gateways", "outbound_configurations",
                "billing_codes"):
        assert d[key], key
        assert all(x["tenant"] == "default" for x in d[key])
    ops = d["operators"]
    assert 30 <= len(ops) <= 60
    accounts = {a["account"] for o in ops for a in o["accounts"]}
    kinds = {a["kind"] for o in ops for a in o["accounts"]}
    assert kinds == {"desk", "app", "hotdesk"}
    exts = {o["extension"] for o in ops}
    orgs = {o["id"] for o in d["organizations"]}
    ous = {o["id"] for o in d["org_units"]}
    for o in ops:
        assert o["organization"] in orgs and o["org_unit"] in ous
        assert o["mobile"].startswith("3") and len(o["mobile"]) == 10
    strategies = set()
    for q in d["queues"]:
        strategies.add(q["strategy"])
        assert all(m["account"] in accounts for m in q["members"])
    assert {"ringall", "linear", "leastrecent", "rrmemory", "random"} <= strategies
    assert 4 <= len(d["queues"]) <= 6 and len(d["ring_groups"]) == 2
    for g in d["ring_groups"]:
        assert set(g["members"]) <= exts
    gws = {g["name"] for g in d["gateways"]}
    assert all(c["gateway"] in gws for c in d["outbound_configurations"])
    # every number dialled in on an ibl call is a number of its gateway
    nums = {g["name"]: set(g["numbers"]) for g in d["gateways"]}
    for rows in spring_run.calls.values():
        c = rows[0]
        if c["source_type"] == "ibl" and not c["called"].startswith("0287654"):
            assert c["called"] in nums[c["gateway_name"]], c["called"]
