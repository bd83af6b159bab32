"""Invariants checked on the WRITTEN files (cdr_detailed.csv parsed with the csv module)."""

from __future__ import annotations

import re
from collections import defaultdict

from pbxlens.simulate.writers import CALL_FIELDS, DETAIL_FIELDS

from .helpers import ANSWER_TYPES, STATUS_OF_CAUSE, candidates, hms_to_s, to_epoch


def test_header_is_canonical(spring_run):
    assert spring_run.header == list(CALL_FIELDS) + list(DETAIL_FIELDS)
    assert "caller_name" in spring_run.header and "called" in spring_run.header


def test_unique_ids(any_run):
    uids = list(any_run.calls)
    assert len(uids) == any_run.summary.calls
    seqs = []
    for uid in uids:
        m = re.fullmatch(r"(\d+)\.(\d+)", uid)
        assert m, uid
        seqs.append(int(m.group(2)))
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)
    # rows of a call are consecutive: grouping preserved the count of rows
    assert sum(len(r) for r in any_run.calls.values()) >= len(uids)


def test_times_durations_and_ordering(any_run):
    for uid, rows in any_run.calls.items():
        c = rows[0]
        start = int(uid.split(".")[0])
        assert start in candidates(c["start_datetime"]), (uid, c["start_datetime"])
        end = to_epoch(c["end_datetime"], start)
        assert hms_to_s(c["duration"]) == end - start, uid
        if c["answer_datetime"]:
            ans = to_epoch(c["answer_datetime"], start)
            assert start <= ans <= end
            bill = float(c["bill_secs"])
            assert abs(bill - (end - ans)) <= 1.0
        else:
            assert float(c["bill_secs"]) == 0
        if not rows[0]["detail_destination_type"]:
            assert len(rows) == 1
            continue
        prev_enter = start
        for r in rows:
            enter = to_epoch(r["detail_enter_datetime"], start)
            assert enter >= prev_enter, uid  # path order
            prev_enter = enter
            seq = [enter]
            for k in ("detail_enqueue_datetime", "detail_answer_datetime"):
                if r[k]:
                    seq.append(to_epoch(r[k], start))
            exit_ = to_epoch(r["detail_exit_datetime"], start)
            seq.append(exit_)
            assert seq == sorted(seq), (uid, r)
            assert start <= enter and exit_ <= end, uid
            ref = seq[-2] if r["detail_answer_datetime"] else exit_
            w = int(r["detail_waiting_time"])
            assert 0 <= w <= ref - enter + 1, (uid, r)
            if r["detail_enqueue_datetime"]:
                assert r["detail_destination_type"] == "queue"
                assert enter <= to_epoch(r["detail_enqueue_datetime"], start) <= exit_
            if r["detail_destination_type"] == "checktime":
                assert r["detail_checktime_in_hours"] in ("0", "1")
            else:
                assert r["detail_checktime_in_hours"] == ""


def test_status_consistent_with_path(any_run):
    for uid, rows in any_run.calls.items():
        c = rows[0]
        answered = [r for r in rows if r["detail_answer_datetime"]
                    and r["detail_destination_type"] in ANSWER_TYPES]
        if c["status"] == "OK":
            assert answered, uid
            assert c["answer_datetime"] and c["answered_by"], uid
        else:
            assert not answered, uid
            assert not c["answer_datetime"], uid
            if rows[0]["detail_destination_type"]:
                # causes not in the table (forwards ...) read as NOANSWER, as the engine maps them
                assert STATUS_OF_CAUSE.get(rows[-1]["detail_exit_cause"], "NOANSWER") \
                    == c["status"], uid


def test_queue_lines_and_operator_legs(any_run):
    accounts = {a["account"]: o["extension"] for o in any_run.directory["operators"]
                for a in o["accounts"]}
    queue_causes = set()
    leg_causes = set()
    welcome = 0
    for uid, rows in any_run.calls.items():
        for r in rows:
            t = r["detail_destination_type"]
            if t == "queue":
                queue_causes.add(r["detail_exit_cause"])
                # enqueued after the welcome message, or never (hung up during it, join-empty,
                # full, closed)
                if r["detail_enqueue_datetime"] > r["detail_enter_datetime"]:
                    welcome += 1
                if r["detail_exit_cause"] in ("JOINEMPTY", "FULL", "CLOSED"):
                    assert not r["detail_enqueue_datetime"], uid
            elif t == "local_exten":
                leg_causes.add(r["detail_exit_cause"])
                if r["detail_answered_by"]:
                    assert accounts[r["detail_answered_by"]] == r["detail_destination_id"], uid
                assert r["detail_destination_num"] == r["detail_destination_id"]
        if rows[0]["source_type"] == "ibl" and rows[0]["status"] != "FORBIDDEN":
            assert rows[0]["gateway_name"] and rows[0]["called"]
    assert welcome > 0
    assert {"NCC", "CANCELED", "JOINEMPTY", "NOANSWER"} <= queue_causes
    assert {"NCC", "ANSWERED_ELSEWHERE", "NOANSWER", "BUSY", "DECLINED", "BLINDXFER",
            "ATXFER", "CANCELED"} <= leg_causes


def test_gateway_channel_limits(any_run):
    limits = {g["name"]: g["channel_limit"] for g in any_run.directory["gateways"]}
    events = defaultdict(list)
    for uid, rows in any_run.calls.items():
        c = rows[0]
        start = int(uid.split(".")[0])
        end = to_epoch(c["end_datetime"], start)
        used = {c["gateway_name"]} if c["gateway_name"] else set()
        used |= {r["detail_destination_name"] for r in rows
                 if r["detail_destination_type"] == "obl" and r["detail_destination_name"]}
        for g in used:
            assert g in limits, g
            events[g].append((start, 1))
            events[g].append((end, -1))
    peak = {}
    for g, ev in events.items():
        ev.sort()  # at equal instants the release (-1) comes first
        n = m = 0
        for _t, d in ev:
            n += d
            m = max(m, n)
        peak[g] = m
        assert m <= limits[g], (g, m, limits[g])
    assert peak  # gateways are used


def test_midnight_crossing_calls_exist(spring_run):
    crossing = [uid for uid, rows in spring_run.calls.items()
                if rows[0]["start_datetime"][:10] != rows[0]["end_datetime"][:10]]
    assert crossing


def test_mix_and_statuses(spring_run):
    by_src = defaultdict(int)
    statuses = set()
    for rows in spring_run.calls.values():
        c = rows[0]
        direction = ("in" if c["source_type"] == "ibl" else
                     "out" if c["destination_type"] == "obl" else "internal")
        by_src[direction] += 1
        statuses.add(c["status"])
    n = sum(by_src.values())
    assert 0.4 < by_src["in"] / n < 0.6
    assert 0.25 < by_src["out"] / n < 0.45
    assert 0.08 < by_src["internal"] / n < 0.22
    assert {"OK", "NOANSWER", "BUSY", "CANCELED", "UNAVAILABLE", "FAILED"} <= statuses


def test_spring_gap_has_no_local_times(spring_run):
    for rows in spring_run.calls.values():
        for r in rows:
            for k in ("start_datetime", "end_datetime", "detail_enter_datetime",
                      "detail_exit_datetime"):
                assert not r[k].startswith("2026-03-29 02:"), r[k]


def test_billing_codes_on_outbound(spring_run):
    codes = {b["code"] for b in spring_run.directory["billing_codes"]}
    seen = {rows[0]["account_code"] for rows in spring_run.calls.values()} - {""}
    assert seen and seen <= codes
    for rows in spring_run.calls.values():
        if rows[0]["account_code"]:  # an outbound call, direct or through the campaign queue
            assert rows[0]["destination_type"] in ("obl", "queue")
            assert any(r["detail_destination_type"] == "obl" for r in rows)
