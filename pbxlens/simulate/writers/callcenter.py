"""Call Center CDR writers: the layouts of docs/formats.md "Kalliope Call Center CDR", written
from the simulated truth (queue lines, their operator presentations, `cc_outcome`, `cc_cause`,
`welcome_end`).

Truth -> export rules:
- one queue-call row per `queue` line; direction `incoming` for calls from an inbound line,
  `local` otherwise (an agent's campaign call through the outbound queue, say);
- `welcome_end_datetime` = the end of the welcome message when the caller heard it all (empty
  for a caller who hung up during it, and for a visit never queued: join-empty, full, closed);
  `enqueue_datetime` = when the call joined the waiting line (after the welcome message and
  the position announcement), empty when it never did;
- exit cause = the queue line's `cc_cause` (queues.py: NCC, TRANSFER, CANCELED,
  CANCELED_NOWAIT, TIMEOUT, QUEUE_JOINEMPTY, FULL, LEAVEEMPTY, CLOSED, QUEUE_CALLBACK, CCBS);
- one operator event per presentation (`local_exten` line of the visit, or an agent's
  campaign presentation in `Call.cc_legs`), outcome = `Leg.cc_outcome`; the account is the one
  that answered, else the operator's primary account (named as the extension: the truth does
  not say which device rang);
- `work_code` = the code the operator tagged at wrap-up.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

from .cdr import XLSX_MAX_ROWS, WriterBase, csv_text, xml_element
from .common import TENANT_FIELD, TimeFormatter

QUEUE_CALL_FIELDS = (
    "unique_id", "direction", "queue_id", "queue_name", "caller", "caller_name", "called",
    "status", "enter_datetime", "welcome_end_datetime", "enqueue_datetime", "answer_datetime",
    "exit_datetime", "exit_cause", "operator_exten", "operator_name", "operator_account",
    "account_code", "work_code",
)
EVENT_FIELDS = (
    "event_operator_exten", "event_operator_name", "event_operator_account",
    "event_ring_datetime", "event_answer_datetime", "event_end_datetime", "event_outcome",
)
EMPTY_EVENT = ("",) * len(EVENT_FIELDS)


def cc_raw(calls) -> list[tuple]:
    """``Call`` objects -> raw queue-call tuples (ms instants), cheap to pickle."""
    out = []
    for c in calls:
        legs = c.legs
        for qleg in legs:
            if qleg.dtype != "queue":
                continue
            events = [lg for lg in legs if lg.visit is qleg and lg.cc_outcome]
            if c.cc_legs:
                events += [lg for lg in c.cc_legs if lg.visit is qleg]
            ans = next((lg for lg in events if lg.t_answer is not None), None)
            out.append((
                c.unique_id, "incoming" if c.src_type == "ibl" else "local", qleg.did,
                qleg.dname, c.caller, c.caller_name, c.called, c.status, qleg.t_enter,
                qleg.welcome_end, qleg.t_enqueue, qleg.t_answer, qleg.t_exit, qleg.cc_cause,
                ans.op if ans else "", ans.dname if ans else "", ans.account if ans else "",
                c.acode, qleg.work_code,
                [(lg.op, lg.dname, lg.account or lg.op, lg.t_enter, lg.t_answer, lg.t_exit,
                  lg.cc_outcome) for lg in events], c.tenant))
    return out


def format_cc(batch: list[tuple], fmt: TimeFormatter, tenant: bool = False
              ) -> list[tuple[tuple, list[tuple]]]:
    """Raw queue-call tuples -> ``[(queue-call values, [event values, ...]), ...]`` (strings;
    the tenant last when `tenant`)."""
    out = []
    for (uid, dr, qid, qname, caller, cname, called, status, ten, twe, teq, tan, tex, cause,
         op, opname, acc, acode, wcode, events, tnt) in batch:
        qv = (uid, dr, qid, qname, caller, cname, called, status, fmt(ten), fmt(twe), fmt(teq),
              fmt(tan), fmt(tex), cause, op, opname, acc, acode, wcode)
        if tenant:
            qv += (tnt,)
        ev = [(eop, ename, eacc, fmt(tr), fmt(ta), fmt(te), oc)
              for eop, ename, eacc, tr, ta, te, oc in events]
        out.append((qv, ev))
    return out


class _CcBase(WriterBase):
    callcenter = True  # the sink hands these the Call Center rows, not the CDR rows

    def __init__(self, out_dir: Path, tenant: bool = False):
        super().__init__(out_dir, tenant)
        self.qfields = QUEUE_CALL_FIELDS + ((TENANT_FIELD,) if tenant else ())


class _CcCsv(_CcBase):
    detailed = False

    def __init__(self, out_dir: Path, tenant: bool = False):
        super().__init__(out_dir, tenant)
        self.f = open(self.path, "w", encoding="utf-8", newline="")  # noqa: SIM115
        head = self.qfields + (EVENT_FIELDS if self.detailed else ())
        self.f.write(csv_text([head], len(head)))

    def write(self, batch) -> None:
        if self.detailed:
            rows = [qv + ev for qv, evs in batch for ev in (evs or (EMPTY_EVENT,))]
            self.f.write(csv_text(rows, len(self.qfields) + len(EVENT_FIELDS)))
        else:
            self.f.write(csv_text([qv for qv, _e in batch], len(self.qfields)))

    def close(self) -> None:
        self.f.close()


class CcCsvWriter(_CcCsv):
    filename = "cc_cdr.csv"


class CcCsvDetailedWriter(_CcCsv):
    filename = "cc_cdr_detailed.csv"
    detailed = True


class CcJsonWriter(_CcBase):
    """An array of queue calls, each with its `operator_events`."""

    filename = "cc_cdr.json"

    def __init__(self, out_dir: Path, tenant: bool = False):
        super().__init__(out_dir, tenant)
        self.f = open(self.path, "w", encoding="utf-8")  # noqa: SIM115
        self.f.write("[")
        self.first = True

    def write(self, batch) -> None:
        parts = []
        for qv, evs in batch:
            obj = dict(zip(self.qfields, qv, strict=True))
            obj["operator_events"] = [dict(zip(EVENT_FIELDS, ev, strict=True)) for ev in evs]
            parts.append(json.dumps(obj, ensure_ascii=False))
        if parts:
            self.f.write(("\n" if self.first else ",\n") + ",\n".join(parts))
            self.first = False

    def close(self) -> None:
        self.f.write("\n]\n")
        self.f.close()


class CcXmlWriter(_CcBase):
    """``<callcenter_cdr><queue_call>...<operator_events><event>...``"""

    filename = "cc_cdr.xml"

    def __init__(self, out_dir: Path, tenant: bool = False):
        super().__init__(out_dir, tenant)
        self.f = open(self.path, "w", encoding="utf-8")  # noqa: SIM115
        self.f.write('<?xml version="1.0" encoding="UTF-8"?>\n<callcenter_cdr>\n')

    def write(self, batch) -> None:
        out = []
        for qv, evs in batch:
            out.append("<queue_call>")
            out.extend(xml_element(k, v) for k, v in zip(self.qfields, qv, strict=True))
            out.append("<operator_events>")
            for ev in evs:
                out.append("<event>")
                out.extend(xml_element(k, v) for k, v in zip(EVENT_FIELDS, ev, strict=True))
                out.append("</event>")
            out.append("</operator_events></queue_call>\n")
        self.f.write("".join(out))

    def close(self) -> None:
        self.f.write("</callcenter_cdr>\n")
        self.f.close()


class _CcXlsx(_CcBase):
    detailed = False

    def __init__(self, out_dir: Path, tenant: bool = False):
        import xlsxwriter

        super().__init__(out_dir, tenant)
        self.wb = xlsxwriter.Workbook(str(self.path), {"constant_memory": True,
                                                       "strings_to_numbers": False,
                                                       "strings_to_formulas": False,
                                                       "strings_to_urls": False})
        self.wb.set_properties({"created": datetime(2000, 1, 1)})
        self.head = self.qfields + (EVENT_FIELDS if self.detailed else ())
        self.sheet_no = 0
        self._new_sheet()

    def _new_sheet(self) -> None:
        self.sheet_no += 1
        self.ws = self.wb.add_worksheet("cc_cdr" if self.sheet_no == 1 else
                                        f"cc_cdr_{self.sheet_no}")
        for c, h in enumerate(self.head):
            self.ws.write_string(0, c, h)
        self.row = 1

    def _row(self, values) -> None:
        if self.row >= XLSX_MAX_ROWS:
            self._new_sheet()
        for c, v in enumerate(values):
            if v:
                self.ws.write_string(self.row, c, v)
        self.row += 1

    def write(self, batch) -> None:
        for qv, evs in batch:
            if self.detailed:
                for ev in evs or (EMPTY_EVENT,):
                    self._row(qv + ev)
            else:
                self._row(qv)

    def close(self) -> None:
        self.wb.close()


class CcXlsxWriter(_CcXlsx):
    filename = "cc_cdr.xlsx"


class CcXlsxDetailedWriter(_CcXlsx):
    filename = "cc_cdr_detailed.xlsx"
    detailed = True


CC_WRITERS = {
    "cc-csv": CcCsvWriter,
    "cc-csv-detailed": CcCsvDetailedWriter,
    "cc-json": CcJsonWriter,
    "cc-xml": CcXmlWriter,
    "cc-xlsx": CcXlsxWriter,
    "cc-xlsx-detailed": CcXlsxDetailedWriter,
}
