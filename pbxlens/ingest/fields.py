"""The Kalliope CDR fields and every header spelling that maps to them.

Headers are matched on a folded key (lower case, spaces/underscores/dots/brackets folded), so
`Unique ID`, `unique_id` and `UNIQUE-ID` are one spelling. Italian GUI labels come from the
column chooser and the example grid (seed L13516, L13604-13633); several are shared by a call
field and a detail field ("Tipo destinazione", "Orario di risposta"): the first occurrence in a
header is the call field, the second the detail field.
"""

from __future__ import annotations

import re

# Call (summary) fields, formats.md §1.1, in canonical export order.
CALL_FIELDS: tuple[str, ...] = (
    "unique_id", "source_type", "destination_type", "status", "start_datetime",
    "channel_up_datetime", "answer_datetime", "answered_by", "end_datetime", "caller",
    "caller_name", "anonymous", "called", "gateway_name", "account_code", "duration",
    "bill_secs", "src_peer_name", "src_ip_port", "src_extension", "tenant",
)
# Call path (detail) fields, formats.md §1.2.
DETAIL_FIELDS: tuple[str, ...] = (
    "detail_source_num", "detail_source_anonymous", "detail_destination_type",
    "detail_destination_id", "detail_destination_name", "detail_destination_num",
    "detail_enter_datetime", "detail_enqueue_datetime", "detail_answer_datetime",
    "detail_exit_datetime", "detail_exit_cause", "detail_answered_by", "detail_waiting_time",
    "detail_mapped_source_num", "detail_mapped_dst_num", "detail_account_code",
    "detail_checktime_in_hours",
)
ALL_FIELDS = CALL_FIELDS + DETAIL_FIELDS

# Spellings that belong to one field only.
_ALIASES: dict[str, tuple[str, ...]] = {
    "unique_id": ("uniqueid", "id univoco", "id", "unique id", "uid"),
    "source_type": ("tipo sorgente", "source type", "tipo (sorgente)"),
    "status": ("stato", "status", "esito"),
    "start_datetime": ("orario di inizio", "start time", "start", "inizio", "data inizio"),
    "channel_up_datetime": ("durata del canale", "channel up time", "channel up",
                            "orario apertura canale"),
    "end_datetime": ("orario di fine", "orario (fine)", "end time", "end", "fine"),
    "caller": ("chiamante", "caller num", "caller number", "src", "source"),
    "caller_name": ("caller name", "nome chiamante", "callername"),
    "anonymous": ("anonimo", "anonymous"),
    "called": ("chiamato", "called num", "called_num", "called number", "dst", "dnid"),
    "gateway_name": ("gateway", "gateway name", "linea", "line"),
    "account_code": ("codice di fatturazione", "account code", "accountcode",
                     "billing code", "codice fatturazione"),
    "duration": ("durata", "duration", "durata totale"),
    "bill_secs": ("tempo di fatturazione", "bill time", "billsec", "billsecs", "bill secs",
                  "billing time"),
    "src_peer_name": ("source peer name", "peer sorgente"),
    "src_ip_port": ("source ip/port", "source ip port", "ip/porta sorgente"),
    "src_extension": ("source extension", "interno sorgente"),
    "tenant": ("tenant domain", "dominio", "domain"),
    "detail_source_num": ("numero sorgente", "numero (sorgente)", "source number",
                          "detail source number"),
    "detail_source_anonymous": ("detail anonymous", "detail_anonymous", "source anonymous",
                                "numero sorgente anonimo"),
    "detail_destination_id": ("id destinazione", "destination id"),
    "detail_destination_name": ("nome destinazione", "nome", "destination name"),
    "detail_destination_num": ("numero destinazione", "numero", "destination number"),
    "detail_enter_datetime": ("orario di ingresso", "enter time"),
    "detail_enqueue_datetime": ("orario di accodamento", "enqueue time"),
    "detail_exit_datetime": ("orario di uscita", "exit time"),
    "detail_exit_cause": ("motivo di uscita", "motivo (di uscita)", "exit cause", "motivo"),
    "detail_waiting_time": ("tempo di attesa", "tempo (di attesa)", "waiting time", "wait time"),
    "detail_mapped_source_num": ("numero sorgente mappato", "mapped source number"),
    "detail_mapped_dst_num": ("numero destinazione mappato", "mapped destination number",
                              "detail_mapped_destination_num"),
    "detail_account_code": ("codice di fatturazione dettaglio", "detail account code"),
    "detail_checktime_in_hours": ("in orario", "checktime in hours", "in business hours"),
}
# Spellings shared by a call field and a detail field: first occurrence -> call field.
_SHARED: dict[str, tuple[str, str]] = {
    "tipo destinazione": ("destination_type", "detail_destination_type"),
    "tipo (destinazione)": ("destination_type", "detail_destination_type"),
    "destination type": ("destination_type", "detail_destination_type"),
    "orario di risposta": ("answer_datetime", "detail_answer_datetime"),
    "orario (risposta)": ("answer_datetime", "detail_answer_datetime"),
    "answer time": ("answer_datetime", "detail_answer_datetime"),
    "risposto da": ("answered_by", "detail_answered_by"),
    "risposto (da)": ("answered_by", "detail_answered_by"),
    "answered by": ("answered_by", "detail_answered_by"),
}

_FOLD = re.compile(r"[\s_.\-()\[\]]+")


def fold(header: str) -> str:
    """Comparison key of a header spelling."""
    return _FOLD.sub(" ", header.strip().lstrip("\ufeff").lower()).strip()


_ONE: dict[str, str] = {}
for _field in ALL_FIELDS:
    _ONE[fold(_field)] = _field
for _field, _spellings in _ALIASES.items():
    for _s in _spellings:
        _ONE.setdefault(fold(_s), _field)
_TWO = {fold(k): v for k, v in _SHARED.items()}

# JSON/XML detail objects may use the keys without the `detail_` prefix.
DETAIL_SHORT = {f.removeprefix("detail_"): f for f in DETAIL_FIELDS}


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
            field = None  # a repeated column: keep the first, the rest go to `extra`
        if field:
            seen.add(field)
        out.append(field)
    return out


def documented_aliases() -> dict[str, list[str]]:
    """field -> accepted spellings, for docs/formats.md."""
    doc: dict[str, list[str]] = {f: [f] for f in ALL_FIELDS}
    for f, spellings in _ALIASES.items():
        doc[f].extend(spellings)
    for s, (a, b) in _SHARED.items():
        doc[a].append(f"{s} (1st)")
        doc[b].append(f"{s} (2nd)")
    return doc
