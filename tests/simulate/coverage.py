"""What a generated month contains, read back from its files (CDR, Call Center CDR, event log,
truth tables) with DuckDB, and what the spec says it should contain.

`EXPECTED` lists, per kind, every code of the vocabulary module and the specs that the
simulator must produce; `NOT_SIMULATED` names the few it does not, with the reason. A
scenario may lack more (`SCENARIO_GAPS`: a small office has no outbound campaign queue ...).
"""

from __future__ import annotations

import csv
from pathlib import Path

import duckdb

from pbxlens.models import vocabulary as V
from pbxlens.simulate.scenarios import get_scenario

# ---------------------------------------------------------------------------- the spec's lists
# pbx_data.md §7.2 agent_events outcomes (Nexus L4854-4873) and queue_calls outcomes
CC_EVENT_OUTCOMES = ("NCC-AGENT", "NCC-CALLER", "NCC", "ANSWER", "TRANSFER",
                     "ANSWERED_ELSEWHERE", "BUSY", "CANCELED", "CFWD", "CONGESTION", "FORWARD",
                     "NOANSWER", "PICKUP", "REFUSED", "TIMEOUT", "UNAVAILABLE", "UNKNOWN")
CC_QUEUE_OUTCOMES = ("NCC", "TRANSFER", "CANCELED", "CANCELED_NOWAIT", "NOANSWER", "TIMEOUT",
                     "QUEUE_JOINEMPTY", "FULL", "LEAVEEMPTY", "CLOSED", "QUEUE_CALLBACK", "CCBS")
HEADER_TYPES = ("local_exten", "ibl", "obl", "service", "callg", "queue", "ivr", "conference",
                "fax")  # pbx_data.md §1.4: main source/destination types
# the call-center events of the catalogue (pbx_data.md §3.2)
EVENT_KINDS = ("pbx.call.start", "pbx.call.end", "pbx.queue.enter", "pbx.queue.enqueue",
               "pbx.queue.ringmember", "pbx.queue.ringnoanswer", "pbx.queue.servedcall",
               "pbx.queue.unservedcall", "pbx.queuemember.added", "pbx.queuemember.removed",
               "pbx.queuemember.pause", "pbx.queuemember.unpause", "pbx.dynamic-routing.enter",
               "cti.client.login", "cti.client.logoff")
# agent states (pbx_callcenter.md §1.2, Supervisor Panel L16039-16059)
AGENT_STATES = ("logged_out", "logged_in", "ringing", "talking", "wrap_up", "paused",
                "unavailable")
BEHAVIOURS = (
    "welcome_before_enqueue", "hangup_during_welcome", "overflow_on_timeout",
    "overflow_on_full", "overflow_on_joinempty", "transfer_to_queue", "answered_elsewhere",
    "outbound_campaign", "callbacks_in_cdr", "callback_reached", "callback_not_reached",
    "callback_by_two_operators", "callback_after_caller_called_again",
    "callback_within_minutes", "callback_next_morning", "caller_served_before_callback",
    "pause_reasons", "wrap_up_pause", "work_codes", "queue_callback_requested",
)

EXPECTED: dict[str, tuple[str, ...]] = {
    "status": tuple(t.code for t in V.STATUSES),
    "exit_cause": tuple(t.code for t in V.EXIT_CAUSES),
    "source_type": HEADER_TYPES,
    "destination_type": HEADER_TYPES,
    "line_type": tuple(t.code for t in V.ENDPOINT_TYPES),
    "cc_queue_outcome": CC_QUEUE_OUTCOMES,
    "cc_event_outcome": CC_EVENT_OUTCOMES,
    "cc_direction": ("incoming", "local"),
    "event": EVENT_KINDS,
    "agent_state": AGENT_STATES,
    "behaviour": BEHAVIOURS,
}

NOT_SIMULATED: dict[tuple[str, str], str] = {
    ("exit_cause", "ANSWER"): "an answered operator outcome of older firmware and Nexus; the "
                              "simulated firmware writes NCC-AGENT / NCC-CALLER",
    ("cc_event_outcome", "ANSWER"): "as above",
    ("cc_event_outcome", "NCC"): "as above (NCC is written on CDR lines)",
    ("cc_event_outcome", "UNKNOWN"): "the outcome of an event the PBX could not classify; the "
                                     "unknown end of a call is simulated on the CDR (`??`, `?`)",
    ("cc_queue_outcome", "NOANSWER"): "the max-wait exit is written TIMEOUT (the Nexus "
                                      "spelling; the reports read both as one block)",
    ("source_type", "obl"): "the spec lists the code but describes no call that starts on an "
                            "outbound line",
    ("source_type", "callg"): "no call starts in a ring group",
    ("source_type", "ivr"): "no call starts in an IVR",
    ("destination_type", "ibl"): "no call is placed to an inbound line",
    ("line_type", "ibl"): "the spec describes no path step to an inbound line",
}

# what a scenario's PBX cannot do (beyond NOT_SIMULATED)
SCENARIO_GAPS: dict[str, dict[tuple[str, str], str]] = {
    "small-office": {
        ("cc_direction", "local"): "no outbound campaign queue",
        ("behaviour", "outbound_campaign"): "no outbound campaign queue",
        ("source_type", "service"): "no Call Campaign notices",
        ("line_type", "dre"): "no missed-calls dynamic routing",
        ("event", "pbx.dynamic-routing.enter"): "no missed-calls dynamic routing",
        ("exit_cause", "BLOCKED"): "its one line falls back to nothing only in an outage",
        ("exit_cause", "ANSWNOACC"): "few fork-to-mobile group calls in a month",
        ("behaviour", "callback_next_morning"): "closed at night: no night call reaches a "
                                                "queue",
        ("exit_cause", "CCBS"): "few callback requests in a month (a quarter of them CCBS)",
        ("cc_queue_outcome", "CCBS"): "as above",
        ("exit_cause", "ATXFER_UNAVAILABLE"): "few attended transfers in a month",
        ("exit_cause", "LEAVEEMPTY"): "two queues of a few people: rarely all away at once "
                                      "while someone waits",
        ("cc_queue_outcome", "LEAVEEMPTY"): "as above",
        ("cc_event_outcome", "NOANSWER"): "a presentation cut by the queue's timeout: waits "
                                          "are short",
        ("behaviour", "overflow_on_full"): "one overflow (sales to the switchboard), from a "
                                           "queue seldom full or empty",
        ("behaviour", "overflow_on_joinempty"): "as above",
    },
    "night-weekend": {
        ("cc_direction", "local"): "no outbound campaign queue",
        ("behaviour", "outbound_campaign"): "no outbound campaign queue",
        ("source_type", "service"): "no Call Campaign notices",
        ("exit_cause", "BLOCKED"): "its lines fall back to each other",
    },
}


def gaps(scenario: str) -> dict[tuple[str, str], str]:
    """NOT_SIMULATED plus the scenario's own gaps (a provider has its tenants' paths: the
    union, so no gap of its own)."""
    out = dict(NOT_SIMULATED)
    out.update(SCENARIO_GAPS.get(get_scenario(scenario).name, {}))
    return out


# ---------------------------------------------------------------------------- observations
def _set(con, sql: str) -> set[str]:
    return {r[0] for r in con.execute(sql).fetchall() if r[0] not in (None, "")}


def _code(value: str) -> str:
    return V.normalize("exit_cause", value) or value


def observe(folder: Path) -> dict[str, set[str]]:
    """Every code and behaviour of `EXPECTED` the files of `folder` show."""
    con = duckdb.connect()
    # read once into tables: some twenty queries below would each parse the files again
    con.execute("CREATE TABLE cdr AS SELECT * FROM read_csv(?, all_varchar=true)",
                [str(folder / "cdr_detailed.csv")])
    con.execute("CREATE TABLE cc AS SELECT * FROM read_csv(?, all_varchar=true)",
                [str(folder / "cc_cdr_detailed.csv")])
    con.execute("CREATE TABLE ev AS SELECT event_name, params FROM read_json(?, "
                "format='newline_delimited', columns={'event_name': 'VARCHAR', 'params': 'JSON'})",
                [str(folder / "events.jsonl")])
    got: dict[str, set[str]] = {}
    got["status"] = _set(con, "SELECT DISTINCT status FROM cdr")
    got["source_type"] = _set(con, "SELECT DISTINCT source_type FROM cdr")
    got["destination_type"] = _set(con, "SELECT DISTINCT destination_type FROM cdr")
    got["line_type"] = _set(con, "SELECT DISTINCT detail_destination_type FROM cdr")
    cdr_causes = _set(con, "SELECT DISTINCT detail_exit_cause FROM cdr")
    got["cc_queue_outcome"] = _set(con, "SELECT DISTINCT exit_cause FROM cc")
    got["cc_event_outcome"] = _set(con, "SELECT DISTINCT event_outcome FROM cc")
    got["exit_cause"] = {_code(x) for x in cdr_causes | got["cc_queue_outcome"]
                         | got["cc_event_outcome"]}
    got["cc_direction"] = _set(con, "SELECT DISTINCT direction FROM cc")
    got["event"] = _set(con, "SELECT DISTINCT event_name FROM ev")
    got["agent_state"] = _agent_states(con)
    got["behaviour"] = _behaviours(con, folder)
    return got


def _agent_states(con) -> set[str]:
    out = set()
    names = _set(con, "SELECT DISTINCT event_name FROM ev")
    for name, state in (("pbx.queuemember.added", "logged_in"),
                        ("pbx.queuemember.removed", "logged_out"),
                        ("pbx.queue.ringmember", "ringing"), ("pbx.queue.servedcall", "talking")):
        if name in names:
            out.add(state)
    reasons = _set(con, "SELECT DISTINCT coalesce(params->>'reason', '(none)') FROM ev "
                        "WHERE event_name = 'pbx.queuemember.pause'")
    if "wrap-up" in reasons:
        out.add("wrap_up")
    if reasons - {"wrap-up"}:
        out.add("paused")
    if _set(con, "SELECT 'x' FROM ev WHERE event_name = 'pbx.queue.ringnoanswer' "
                 "AND (params->>'cause') = 'UNAVAILABLE' LIMIT 1"):
        out.add("unavailable")
    return out


def _truth(folder: Path, name: str) -> list[dict]:
    with open(folder / name, encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh, delimiter="\t"))


def _behaviours(con, folder: Path) -> set[str]:
    out = set()
    checks = {
        "welcome_before_enqueue": "SELECT 'x' FROM cdr WHERE detail_destination_type = 'queue' "
                                  "AND detail_enqueue_datetime > detail_enter_datetime",
        "hangup_during_welcome": "SELECT 'x' FROM cc WHERE exit_cause = 'CANCELED_NOWAIT'",
        "answered_elsewhere": "SELECT 'x' FROM cc WHERE event_outcome = 'ANSWERED_ELSEWHERE'",
        "outbound_campaign": "SELECT 'x' FROM cc WHERE direction = 'local' "
                             "AND account_code <> '' AND answer_datetime <> ''",
        "work_codes": "SELECT 'x' FROM cc WHERE work_code <> ''",
        "queue_callback_requested": "SELECT 'x' FROM cc WHERE exit_cause IN "
                                    "('QUEUE_CALLBACK', 'CCBS') AND EXISTS (SELECT 1 FROM cdr "
                                    "WHERE source_type = 'queue')",
        "wrap_up_pause": "SELECT 'x' FROM ev WHERE event_name = 'pbx.queuemember.pause' "
                         "AND (params->>'reason') = 'wrap-up'",
    }
    for name, sql in checks.items():
        if _set(con, sql + " LIMIT 1"):
            out.add(name)
    # a queue visit followed by another queue visit of the same call
    con.execute("""CREATE TEMP TABLE qv AS SELECT unique_id, exit_cause,
        lead(queue_id) OVER (PARTITION BY unique_id ORDER BY enter_datetime) AS next_q
        FROM (SELECT DISTINCT unique_id, queue_id, enter_datetime, exit_cause FROM cc)""")
    for cause, name in (("TIMEOUT", "overflow_on_timeout"), ("FULL", "overflow_on_full"),
                        ("QUEUE_JOINEMPTY", "overflow_on_joinempty"),
                        ("TRANSFER", "transfer_to_queue")):
        if _set(con, f"SELECT 'x' FROM qv WHERE exit_cause = '{cause}' AND next_q IS NOT NULL"):
            out.add(name)
    reasons = _set(con, "SELECT DISTINCT params->>'reason' FROM ev "
                        "WHERE event_name = 'pbx.queuemember.pause'")
    if {"break", "lunch", "training", "backoffice"} <= reasons:
        out.add("pause_reasons")
    out |= _callback_behaviours(con, folder)
    return out


def _callback_behaviours(con, folder: Path) -> set[str]:
    out = set()
    cbs = _truth(folder, "truth_callbacks.tsv")
    missed = {r["request_key"]: r for r in _truth(folder, "truth_missed.tsv")}
    # every callback is an outbound CDR call from the operator to the missed number
    uids = {r["unique_id"] for r in cbs}
    if uids:
        con.execute("CREATE TEMP TABLE cb (unique_id TEXT)")
        con.executemany("INSERT INTO cb VALUES (?)", [(u,) for u in sorted(uids)])
        n = con.execute("""SELECT count(DISTINCT c.unique_id) FROM cdr c SEMI JOIN cb USING
            (unique_id) WHERE c.source_type = 'local_exten'
            AND c.destination_type = 'obl'""").fetchone()[0]
        if n == len(uids):
            out.add("callbacks_in_cdr")
    if any(r["customer_answered"] == "1" for r in cbs):
        out.add("callback_reached")
    if any(r["customer_answered"] == "0" for r in cbs):
        out.add("callback_not_reached")
    ops: dict[str, set[str]] = {}
    for r in cbs:
        ops.setdefault(r["request_key"], set()).add(r["operator"])
    if any(len(v) >= 2 for v in ops.values()):
        out.add("callback_by_two_operators")
    for m in missed.values():
        first_cb = m["first_team_callback"]
        if not first_cb:
            continue
        if int(m["num_calls"]) >= 2 and m["last_call"] < first_cb:
            out.add("callback_after_caller_called_again")
        hour = int(m["first_call"][11:13])
        same_day = m["first_call"][:10] == first_cb[:10]
        if same_day and 9 <= hour < 17 and _minutes(m["first_call"], first_cb) <= 60:
            out.add("callback_within_minutes")
        if (hour >= 20 or hour < 7) and not same_day and "08:30" <= first_cb[11:16] <= "12:00":
            out.add("callback_next_morning")
    if any(m["closure"] == "served_inbound" for m in missed.values()):
        out.add("caller_served_before_callback")
    return out


def _minutes(a: str, b: str) -> float:
    from datetime import datetime

    f = "%Y-%m-%d %H:%M:%S"
    return (datetime.strptime(b, f) - datetime.strptime(a, f)).total_seconds() / 60
