"""The Kalliope Call Center CDR fields and every header spelling that maps to them.

The seed lists no column of the Call Center CDR (pbx_data.md §2.1, A-9): pbxlens defines them
here, in the naming style of the CDR export, from the concepts the seed and the Nexus reports
use (pbx_data.md §7.2 `queue_calls` / `agent_events`, nexus_reports.md §0.9, C7, C26):

- a *queue call* row: one per call and queue visit (`unique_id` + queue + entry time);
- an *operator event* (`event_*` fields): one per presentation of the queue call to an
  operator account ("Export operator events", detailed layouts only, L12071-12079).

Headers are matched like the CDR's (`fields.fold`). A label shared by a queue-call field and
an event field ("Orario di risposta", "Esito" ...) is the queue-call field on its first
occurrence in a header and the event field on the second.
"""

from __future__ import annotations

from pbxlens.ingest.fields import fold

# Queue-call fields, canonical export order. (field, description) pairs feed docs/formats.md.
QUEUE_CALL_DOC: tuple[tuple[str, str], ...] = (
    ("unique_id", "the call's id (the CDR's `unique_id`, text)"),
    ("tenant", "tenant domain (pbxlens extension; absent = `default`)"),
    ("direction", "`incoming` (from an inbound line) or `local` (from an internal extension) "
                  "(C26); Italian `Ingresso` / `Locale`"),
    ("queue_id", "queue id; empty with `queue_name` = a call in an empty (unnamed) queue (C23)"),
    ("queue_name", "queue name"),
    ("caller", "caller number"),
    ("caller_name", "caller name (phonebook)"),
    ("called", "number dialled (DID for incoming calls)"),
    ("status", "the call's CDR status (`OK`, `CANCELED`, `NOANSWER` ...; CDR vocabulary)"),
    ("enter_datetime", "entry into the queue (the welcome message starts); required"),
    ("welcome_end_datetime", "end of the welcome message; empty when the caller left during "
                             "it or the queue has none"),
    ("enqueue_datetime", "the call joins the waiting line (after the welcome message); empty "
                         "when it never did (CANCELED NOWAIT, QUEUE_JOINEMPTY)"),
    ("answer_datetime", "an operator answered; empty when unanswered"),
    ("exit_datetime", "the call left the queue (hang-up, transfer, timeout, failover); required; "
                      "the Call Center CDR's end time (reports place rows by it, C22)"),
    ("exit_cause", "queue outcome: `NCC`, `TRANSFER`, `CANCELED`, `CANCELED_NOWAIT`, `TIMEOUT`, "
                   "`QUEUE_JOINEMPTY`, `FULL`, `LEAVEEMPTY`, `CLOSED`, `QUEUE_CALLBACK` ... "
                   "(an open set)"),
    ("operator_exten", "extension of the operator who answered (L2542)"),
    ("operator_name", "that operator's name"),
    ("operator_account", "SIP account that answered"),
    ("account_code", "billing code / tag (L2542)"),
    ("work_code", "work code (L1691)"),
)
EVENT_DOC: tuple[tuple[str, str], ...] = (
    ("event_operator_exten", "operator extension the call was presented to"),
    ("event_operator_name", "operator name"),
    ("event_operator_account", "SIP account rung (the operator's device)"),
    ("event_ring_datetime", "presentation (ringing) starts; required in an event"),
    ("event_answer_datetime", "this account answered; empty otherwise"),
    ("event_end_datetime", "presentation (or conversation) ends"),
    ("event_outcome", "`NCC-AGENT`, `NCC-CALLER`, `NCC`, `ANSWER`, `TRANSFER`, "
                      "`ANSWERED_ELSEWHERE`, `TIMEOUT`, `REFUSED`, `BUSY`, `UNAVAILABLE`, "
                      "`CANCELED`, `CANCELED_NOWAIT`, `FORWARD`, `NOANSWER`, `PICKUP` ... "
                      "(an open set)"),
)
QUEUE_CALL_FIELDS = tuple(f for f, _d in QUEUE_CALL_DOC)
EVENT_FIELDS = tuple(f for f, _d in EVENT_DOC)
ALL_FIELDS = QUEUE_CALL_FIELDS + EVENT_FIELDS
# JSON/XML event objects may use the keys without the `event_` prefix.
EVENT_SHORT = {f.removeprefix("event_"): f for f in EVENT_FIELDS}

_ALIASES: dict[str, tuple[str, ...]] = {
    "unique_id": ("uniqueid", "id univoco", "unique id", "uid"),
    "tenant": ("tenant domain", "dominio", "domain"),
    "direction": ("direzione", "direction"),
    "queue_id": ("id coda", "queue", "coda"),
    "queue_name": ("nome coda", "queue name"),
    "caller": ("chiamante", "caller number"),
    "caller_name": ("nome chiamante", "caller name"),
    "called": ("chiamato", "called number", "called_num", "dnid"),
    "status": ("stato",),
    "enter_datetime": ("orario di ingresso", "enter time", "ingresso in coda"),
    "welcome_end_datetime": ("fine messaggio di benvenuto", "welcome end time",
                             "welcome_end"),
    "enqueue_datetime": ("orario di accodamento", "enqueue time"),
    "exit_datetime": ("orario di uscita", "exit time", "end_datetime", "orario di fine"),
    "account_code": ("codice di fatturazione", "account code", "accountcode", "billing code"),
    "work_code": ("codice lavoro", "work code", "workcode"),
    "event_ring_datetime": ("orario di squillo", "ring time", "event ring time"),
    "event_end_datetime": ("fine evento", "event end time"),
}
# Spellings shared by a queue-call field and an event field: first occurrence -> queue call.
_SHARED: dict[str, tuple[str, str]] = {
    "orario di risposta": ("answer_datetime", "event_answer_datetime"),
    "answer time": ("answer_datetime", "event_answer_datetime"),
    "esito": ("exit_cause", "event_outcome"),
    "motivo di uscita": ("exit_cause", "event_outcome"),
    "outcome": ("exit_cause", "event_outcome"),
    "interno operatore": ("operator_exten", "event_operator_exten"),
    "operator extension": ("operator_exten", "event_operator_exten"),
    "nome operatore": ("operator_name", "event_operator_name"),
    "operator name": ("operator_name", "event_operator_name"),
    "account operatore": ("operator_account", "event_operator_account"),
    "operator account": ("operator_account", "event_operator_account"),
}

_ONE: dict[str, str] = {fold(f): f for f in ALL_FIELDS}
for _field, _spellings in _ALIASES.items():
    for _s in _spellings:
        _ONE.setdefault(fold(_s), _field)
_TWO = {fold(k): v for k, v in _SHARED.items()}

# Direction spellings (C26): Ingresso = from an inbound line, Locale = from an extension.
DIRECTIONS = {"incoming": ("incoming", "ingresso", "in", "inbound", "entrata", "ibl"),
              "local": ("local", "locale", "internal", "interna", "local_exten")}


def map_headers(headers: list[str]) -> list[str | None]:
    """Canonical field per header position; None for a column pbxlens does not know."""
    seen: set[str] = set()
    out: list[str | None] = []
    for h in headers:
        k = fold(h)
        field = _ONE.get(k)
        if k in _TWO:
            first, second = _TWO[k]
            field = second if first in seen else first
        if field in seen:
            field = None
        if field:
            seen.add(field)
        out.append(field)
    return out


def is_callcenter_header(headers: list[str]) -> bool:
    """A Call Center CDR names a queue and an entry time and no call start (the plain CDR's
    `start_datetime` is what tells the two apart)."""
    from pbxlens.ingest.fields import map_headers as cdr_map

    mapped = set(map_headers(headers))
    return ("unique_id" in mapped and "enter_datetime" in mapped
            and bool(mapped & {"queue_id", "queue_name"})
            and "start_datetime" not in set(cdr_map(headers)))


def documented_aliases() -> dict[str, list[str]]:
    doc: dict[str, list[str]] = {f: [f] for f in ALL_FIELDS}
    for f, spellings in _ALIASES.items():
        doc[f].extend(spellings)
    for s, (a, b) in _SHARED.items():
        doc[a].append(f"{s} (1st)")
        doc[b].append(f"{s} (2nd)")
    return doc


def doc_section() -> str:
    """The Call Center CDR section of docs/formats.md."""
    aliases = documented_aliases()
    lines = ["", "## Kalliope Call Center CDR", "",
             "The seed lists no column of the Call Center CDR (pbx_data.md §2.1, A-9): pbxlens "
             "defines the layouts below, in the CDR's naming style, from the spec's concepts "
             "(queue calls and operator events, nexus_reports.md R28-R34, C7, C26). The "
             "simulator writes them (`pbxlens generate --formats cc-csv,cc-csv-detailed,"
             "cc-json,cc-xml,cc-xlsx,cc-xlsx-detailed`).", "",
             "| layout | how it is recognized | one record is |", "|---|---|---|",
             "| CSV / XLSX | a header with `unique_id`, `enter_datetime` and `queue_id` or "
             "`queue_name` (or aliases) and no CDR `start_datetime` | a row = a queue call |",
             "| CSV / XLSX detailed (\"Export operator events\") | `event_*` columns too; one "
             "row per operator event, the queue-call fields repeated; a queue call without "
             "events has one row with empty event fields | a row |",
             "| JSON | an array of queue-call objects with `\"operator_events\": [...]` (event "
             "keys may omit the `event_` prefix) | an object = a queue call |",
             "| XML | `<callcenter_cdr><queue_call>...<operator_events><event>...` "
             "(defusedxml) | a `<queue_call>` |", "",
             "- **Queue call** = one call's visit to one queue; natural key (tenant, "
             "`unique_id`, queue id else name else '' (empty queue), `enter_datetime`). "
             "Loaded into `queue_calls`; its operator events into `cc_agent_legs` (one row per "
             "presentation to an account; identical duplicate events, K-17113, count once).",
             "- Instants, encodings, delimiters, idempotency (skip of identical bytes; "
             "identical content = duplicate; different content = the newer load replaces the "
             "queue call and its events; a summary file keeps the stored events) and the "
             "`ingest --json` summary are as for the CDR.",
             "- **Rejected rows** (quarantine, with line and reason): missing `unique_id`, "
             "`enter_datetime` or `exit_datetime`; an unparsable instant; exit before enter; a "
             "queue call over 7 days; an event without `event_ring_datetime`; event end before "
             "ring; the wrong number of columns; the unreadable tail of a JSON/XML file.",
             "- Outcomes are normalized with the exit-cause vocabulary above (`CANCELLED` -> "
             "`CANCELED`, `QUEUE_JOINEMPTY` -> `JOINEMPTY`, `ANSWERED ELSEWHERE` -> "
             "`ANSWERED_ELSEWHERE` ...); `direction` accepts "
             + "; ".join(f"`{c}`: " + ", ".join(f"`{s}`" for s in sp)
                         for c, sp in DIRECTIONS.items()) + " (blank = `incoming`).", "",
             "| field | level | meaning | accepted names |", "|---|---|---|---|"]
    for level, doc in (("queue call", QUEUE_CALL_DOC), ("event", EVENT_DOC)):
        for f, meaning in doc:
            names = ", ".join(f"`{a}`" for a in dict.fromkeys(aliases[f]))
            lines.append(f"| `{f}` | {level} | {meaning} | {names} |")
    return "\n".join(lines)
