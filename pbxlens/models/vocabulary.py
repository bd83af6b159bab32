"""The one owner of the PBX vocabulary: statuses, exit causes, source/destination types and
every alias they are written with (Italian GUI labels, spelling variants, OCR forms).

Codes are the PBX's own (`pbx_data.md` §1.4-1.6). Unknown codes are an open set: they are kept
verbatim (upper-cased), never dropped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Term:
    code: str
    en: str
    it: str
    aliases: tuple[str, ...] = ()


# Call (CDR header) status, L13666-13675; labels from L13518-13539 and L14976.
STATUSES: tuple[Term, ...] = (
    Term("OK", "Answered", "OK", ("ANSWERED", "RISPOSTA", "ANSWER")),
    Term("CANCELED", "Canceled", "Cancellata", ("CANCELLED", "CANCELLATA", "ANNULLATA")),
    Term("NOANSWER", "No answer", "Nessuna risposta",
         ("NO ANSWER", "NOT ANSWERED", "NESSUNA RISPOSTA", "SENZA RISPOSTA", "NON RISPOSTA")),
    Term("BUSY", "Busy", "Occupato", ("OCCUPATO",)),
    Term("FAILED", "Failed", "Fallita", ("FALLITA", "FELLITE", "FELITE", "FALITA")),
    Term("UNAVAILABLE", "Unavailable", "Non disponibile",
         ("NON DISPONIBILE", "UNAVIABLE", "NAVIABLE")),
    Term("FORBIDDEN", "Forbidden", "Vietata", ("VIETATA",)),
    Term("??", "Unknown", "Sconosciuto", ("?", "UNKNOWN", "SCONOSCIUTO")),
)

# Detail exit causes, L13677-13706, plus the queue outcomes and Call Center operator outcomes
# that appear elsewhere (FULL/JOINEMPTY/LEAVEEMPTY #5228, TIMEOUT, CCBS, Nexus columns).
EXIT_CAUSES: tuple[Term, ...] = (
    Term("NCC", "Normal clearing", "Chiusura normale"),
    Term("NCC-AGENT", "Closed by agent", "Chiusa dall'operatore"),
    Term("NCC-CALLER", "Closed by caller", "Chiusa dal chiamante"),
    Term("ANSWER", "Answered", "Risposta"),
    Term("TRANSFER", "Transfer", "Trasferita"),  # Nexus's column shows the code itself
    Term("ATXFER", "Attended transfer", "Trasferimento", ("TRASFERIMENTO",)),
    Term("BLINDXFER", "Blind transfer", "Trasferimento cieco"),
    Term("ATXFER_START", "Attended transfer started", "Inizio trasferimento"),
    Term("ATXFER_REFUSED", "Attended transfer refused", "Trasferimento rifiutato"),
    Term("ATXFER_BUSY", "Attended transfer busy", "Trasferimento occupato"),
    Term("ATXFER_UNAVAILABLE", "Attended transfer unavailable", "Trasferimento non disponibile"),
    Term("ATXFER_NOANSWER", "Attended transfer not answered", "Trasferimento senza risposta"),
    Term("ANSWERED_ELSEWHERE", "Answered elsewhere", "Risposta altrove",
         ("ANSWERED ELSEWHERE", "RISPOSTA ALTROVE")),
    Term("ANSWNOACC", "Answered, not accepted", "Risposta non accettata"),
    Term("BUSY", "Busy", "Occupato", ("OCCUPATO",)),
    Term("CANCELED", "Canceled", "Cancellata", ("CANCELLED", "CANCELLATA", "ANNULLATA")),
    Term("CANCELED_NOWAIT", "Canceled, no wait", "Cancellata senza attesa",
         ("CANCELLED NOWAIT", "CANCELED NOWAIT", "CANCELLED_NOWAIT")),
    Term("CFWD", "Conditional forward", "Inoltro condizionato"),
    Term("UFWD", "Unconditional forward", "Inoltro incondizionato"),
    Term("CFWD2MOBILE", "Forward to mobile", "Inoltro al cellulare"),
    Term("FORK2MOBILE", "Fork to mobile", "Squillo anche sul cellulare"),
    Term("FASTXFER2MOBILE", "Fast transfer to mobile", "Trasferimento rapido al cellulare"),
    Term("FASTXFER2EXTEN", "Fast transfer to extension", "Trasferimento rapido all'interno"),
    Term("FORWARD", "Forward", "Inoltro"),
    Term("CONGESTION", "Congestion", "Congestione"),
    Term("DECLINED", "Declined", "Rifiutata"),
    Term("REFUSED", "Refused", "Rifiutata dall'operatore"),
    Term("NOANSWER", "No answer", "Nessuna risposta", ("NO ANSWER", "NESSUNA RISPOSTA")),
    Term("TIMEOUT", "Timeout", "Timeout"),
    Term("PICKUP", "Picked up", "Risposta per assente"),
    Term("PARKED", "Parked", "Parcheggiata"),
    Term("UNAVAILABLE", "Unavailable", "Non disponibile",
         ("NON DISPONIBILE", "UNAVIABLE", "NAVIABLE")),
    Term("BLOCKED", "Blocked (no line)", "Bloccata"),
    Term("FORBIDDEN_NOCLASS", "Forbidden, no class", "Vietata: nessuna classe"),
    Term("FORBIDDEN_NORULE", "Forbidden, no rule", "Vietata: nessuna regola"),
    Term("QUEUE_CALLBACK", "Queue callback", "Richiamata dalla coda"),
    Term("CLOSED", "Closed", "Chiusa", ("NOT SERVED", "NON SERVITA")),
    Term("JOINEMPTY", "Joined empty queue", "Coda vuota", ("QUEUE_JOINEMPTY",)),
    Term("LEAVEEMPTY", "Left empty queue", "Uscita da coda vuota", ("QUEUE_LEAVEEMPTY",)),
    Term("FULL", "Queue full", "Coda piena", ("QUEUE_FULL",)),
    Term("CCBS", "Callback on busy", "Richiamata su occupato"),
    Term("?", "Unknown", "Sconosciuto", ("??", "UNKNOWN", "SCONOSCIUTO")),
)

# Source / destination types, L13635-13662.
ENDPOINT_TYPES: tuple[Term, ...] = (
    Term("local_exten", "Extension", "Interno", ("EXTENSION", "INTERNO")),
    Term("ibl", "Inbound line", "Linea entrante", ("INBOUND LINE", "LINEA ENTRANTE")),
    Term("obl", "Outbound line", "Linea uscente", ("OUTBOUND LINE", "LINEA USCENTE")),
    Term("service", "Service", "Servizio", ("SERVIZIO",)),
    Term("callg", "Ring group", "Gruppo di chiamata", ("RING GROUP", "GRUPPO DI CHIAMATA", "GRUPPO")),
    Term("queue", "Queue", "Coda", ("CODA",)),
    Term("ivr", "IVR", "IVR"),
    Term("conference", "Conference", "Conferenza", ("CONFERENZA",)),
    Term("fax", "FAX", "FAX"),
    Term("dre", "Dynamic routing", "Instradamento dinamico", ("DYNAMIC ROUTING",)),
    Term("checktime", "Time control", "Controllo orario", ("TIME CONTROL", "CONTROLLO ORARIO")),
    Term("voicemail", "Voicemail", "Casella vocale", ("CASELLA VOCALE", "SEGRETERIA")),
)

DIRECTIONS: tuple[Term, ...] = (
    Term("incoming", "Incoming", "Ingresso"),
    Term("outgoing", "Outgoing", "Uscita"),
    Term("internal", "Internal", "Interna"),
)

SCOPES = {"status": STATUSES, "exit_cause": EXIT_CAUSES, "endpoint_type": ENDPOINT_TYPES}

_KEY_RE = re.compile(r"[-_\s]+")


def key(value: str) -> str:
    """The comparison key of a spelling: upper case, runs of space/-/_ folded to one `_`.

    Mirrored in SQL by `vocab_key()` (see `sql_key`).
    """
    return _KEY_RE.sub("_", value.strip().upper())


def alias_rows() -> list[tuple[str, str, str]]:
    """(scope, key, code) for every code and alias, for the loader's SQL joins."""
    rows: dict[tuple[str, str], str] = {}
    for scope, terms in SCOPES.items():
        for t in terms:
            for spelling in (t.code, t.en, t.it, *t.aliases):
                rows.setdefault((scope, key(spelling)), t.code)
    return [(scope, k, code) for (scope, k), code in rows.items()]


_LOOKUP = {(s, k): c for s, k, c in alias_rows()}


def normalize(scope: str, value: str | None) -> str | None:
    """The canonical code of a spelling; unknown spellings come back upper-cased, verbatim."""
    if value is None or not value.strip():
        return None
    found = _LOOKUP.get((scope, key(value)))
    if found is not None:
        return found
    return value.strip() if scope == "endpoint_type" else value.strip().upper()


def label(scope: str, code: str, lang: str = "en") -> str:
    for t in SCOPES[scope]:
        if t.code == code:
            return t.it if lang == "it" else t.en
    return code
