from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

TZ = ZoneInfo("Europe/Rome")
# answered lines that make a call OK (a person, an external party, a voicemail, a service, a
# conference room, the fax server); IVR and queue lines have answer times but do not
ANSWER_TYPES = {"local_exten", "obl", "voicemail", "service", "conference", "fax"}
STATUS_OF_CAUSE = {
    "CANCELED": "CANCELED", "NOANSWER": "NOANSWER", "TIMEOUT": "NOANSWER",
    "JOINEMPTY": "NOANSWER", "CLOSED": "NOANSWER", "DECLINED": "NOANSWER",
    "ANSWERED_ELSEWHERE": "NOANSWER", "ANSWNOACC": "NOANSWER", "QUEUE_CALLBACK": "NOANSWER",
    "CCBS": "NOANSWER", "FULL": "NOANSWER", "LEAVEEMPTY": "NOANSWER", "NCC": "NOANSWER",
    "BUSY": "BUSY", "UNAVAILABLE": "UNAVAILABLE", "BLOCKED": "FAILED", "CONGESTION": "FAILED",
    "FORBIDDEN_NOCLASS": "FAILED", "FORBIDDEN_NORULE": "FAILED", "?": "??",
}


def candidates(local: str) -> list[int]:
    """Epoch seconds a local wall-clock string can denote (2 in the repeated autumn hour)."""
    naive = datetime.strptime(local, "%Y-%m-%d %H:%M:%S")
    out = set()
    for fold in (0, 1):
        dt = naive.replace(tzinfo=TZ, fold=fold)
        # reject non-existent wall times (spring gap): they do not round-trip
        back = datetime.fromtimestamp(dt.timestamp(), TZ).replace(tzinfo=None)
        if back == naive:
            out.add(int(dt.timestamp()))
    return sorted(out)


def to_epoch(local: str, ref: int) -> int:
    """Resolve a local time against a reference instant (the call start): the earliest
    candidate not before ref-1."""
    c = candidates(local)
    assert c, f"non-existent local time {local}"
    for e in c:
        if e >= ref - 1:
            return e
    return c[-1]


def hms_to_s(v: str) -> int:
    h, m, s = v.split(":")
    return int(h) * 3600 + int(m) * 60 + int(s)
