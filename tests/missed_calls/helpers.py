"""Hand-made CDR for the missed-call tests: calls written straight into `calls`/`call_legs`
(the loader's tables), derived by the real `derive.refresh`, reconciled by the real
`reconcile.on_batches` inside one transaction and pushed to the operations store by the real
`sync.push`, as an ingest job does. Times are PBX local times."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import duckdb
import pyarrow as pa
import sqlalchemy as sa

from pbxlens.ingest import derive
from pbxlens.missed_calls import reconcile, sync
from pbxlens.store import schema

TZ = ZoneInfo("Europe/Rome")
DAY = "2021-07-06"
QUEUE = "IVR-Giorno-1Caldaie"


def at(hhmmss: str, day: str = DAY) -> datetime:
    return datetime.fromisoformat(f"{day} {hhmmss}").replace(tzinfo=TZ)


class Cdr:
    """Collects calls, then `commit()` loads them as one batch and reconciles."""

    _uid = itertools.count(1)

    def __init__(self, con: duckdb.DuckDBPyConnection, ops: sa.Engine | None = None,
                 tenant: str = "default") -> None:
        self.con, self.ops, self.tenant = con, ops, tenant
        self.calls: list[dict] = []
        self.legs: list[dict] = []
        self.dr: list[dict] = []

    def uid(self) -> str:
        return f"1625554800.{next(self._uid)}"

    # ---------------------------------------------------------------- inbound
    def inbound(self, caller: str, when: datetime | str, *, answered: bool = False,
                bill: float = 0, queue: str | None = QUEUE, voicemail: bool = False,
                uid: str | None = None, dur: int | None = None, checktime_fail: bool = False,
                day: str = DAY) -> str:
        start = at(when, day) if isinstance(when, str) else when
        uid = uid or self.uid()
        dur = dur if dur is not None else int(bill) + 20
        ans_ts = start + timedelta(seconds=dur - int(bill)) if (answered or voicemail) else None
        status = "OK" if (answered or voicemail) else "CANCELED"
        self.calls.append(dict(uid=uid, dir="incoming", status=status, start=start, caller=caller,
                               called="0501234567", dur=dur, bill=bill if (answered or voicemail) else 0,
                               answer=ans_ts, src_ext=None, stype="ibl", dtype="queue"))
        seq = 1
        end = start + timedelta(seconds=dur)
        if checktime_fail:
            self.legs.append(dict(uid=uid, seq=seq, dtype="checktime", did="1", dname="orario",
                                  src=caller, enter=start, answer=None, exit=start + timedelta(seconds=2),
                                  cause="CLOSED", ans_by=None, ct=False))
            seq += 1
        if queue is not None:
            q_exit = ans_ts if answered else (start + timedelta(seconds=dur - int(bill)) if voicemail else end)
            self.legs.append(dict(uid=uid, seq=seq, dtype="queue", did="700", dname=queue, src=caller,
                                  enter=start, answer=ans_ts if answered else None,
                                  exit=end if answered else q_exit,
                                  cause="NCC" if answered else "TIMEOUT", ans_by="515" if answered else None,
                                  ct=None))
            seq += 1
        if answered:
            self.legs.append(dict(uid=uid, seq=seq, dtype="local_exten", did="500", dname="Celeste",
                                  src=caller, enter=start, answer=ans_ts, exit=end, cause="NCC",
                                  ans_by="500", ct=None))
        if voicemail:
            self.legs.append(dict(uid=uid, seq=seq, dtype="voicemail", did="500", dname="vm",
                                  src=caller, enter=ans_ts, answer=ans_ts, exit=end, cause="NCC",
                                  ans_by=None, ct=None))
        return uid

    # --------------------------------------------------------------- outbound
    def outbound(self, called: str, when: datetime | str, *, status: str = "OK", bill: float = 0,
                 ext: str = "515", uid: str | None = None, dur: int | None = None,
                 branches: int = 1, day: str = DAY) -> str:
        start = at(when, day) if isinstance(when, str) else when
        uid = uid or self.uid()
        dur = dur if dur is not None else int(bill) + 15
        ans_ts = start + timedelta(seconds=dur - int(bill)) if status == "OK" else None
        for b in range(branches):
            self.calls.append(dict(uid=uid, dir="outgoing", status=status, start=start, caller=ext,
                                   called=called, dur=dur, bill=bill, answer=ans_ts, src_ext=ext,
                                   stype="local_exten", dtype="obl", branch=b))
        self.legs.append(dict(uid=uid, seq=1, dtype="obl", did="gw", dname="trunk", src=ext,
                              enter=start, answer=ans_ts, exit=start + timedelta(seconds=dur),
                              cause="NCC" if status == "OK" else status, ans_by=None, ct=None))
        return uid

    def dynamic_routing(self, caller: str, received: datetime | str, *, uid: str | None = None,
                        queue: str = QUEUE, type_: str = "queue") -> str:
        uid = uid or self.uid()
        ts = at(received) if isinstance(received, str) else received
        self.dr.append(dict(uid=uid, caller=caller, ts=ts, queue=queue, type=type_))
        return uid

    # ------------------------------------------------------------------ load
    def commit(self) -> int:
        con = self.con
        con.execute("BEGIN TRANSACTION")
        batch = con.execute("SELECT nextval('ingest_batch_seq')").fetchone()[0]
        for c in self.calls:
            local = c["start"].astimezone(TZ).replace(tzinfo=None)
            end = c["start"] + timedelta(seconds=c["dur"])
            con.execute("DELETE FROM calls WHERE tenant = ? AND unique_id = ? AND leg_branch = ?",
                        [self.tenant, c["uid"], c.get("branch", 0)])
            con.execute(
                "INSERT INTO calls (tenant, unique_id, leg_branch, source_type, destination_type, status,"
                " start_ts, start_local, answer_ts, end_ts, caller, called, duration_s, bill_s,"
                " src_extension, src_peer_name, direction, path_len, path_incomplete, content_hash,"
                " batch_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, false, 0, ?)",
                [self.tenant, c["uid"], c.get("branch", 0), c["stype"], c["dtype"], c["status"],
                 c["start"], local, c["answer"], end, c["caller"], c["called"], c["dur"],
                 c["bill"], c["src_ext"], c["src_ext"], c["dir"], batch])
        for lg in self.legs:
            con.execute("DELETE FROM call_legs WHERE tenant = ? AND unique_id = ? AND seq = ?",
                        [self.tenant, lg["uid"], lg["seq"]])
            con.execute(
                "INSERT INTO call_legs (tenant, unique_id, leg_branch, seq, source_num, dest_type,"
                " dest_id, dest_name, enter_ts, answer_ts, exit_ts, exit_cause, answered_by,"
                " checktime_in_hours, batch_id) VALUES (?, ?, 0, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [self.tenant, lg["uid"], lg["seq"], lg["src"], lg["dtype"], lg["did"], lg["dname"],
                 lg["enter"], lg["answer"], lg["exit"], lg["cause"], lg["ans_by"], lg["ct"], batch])
        if self.dr:  # one statement for them all (a test may post a thousand)
            dr = pa.table({"uid": [r["uid"] for r in self.dr],  # noqa: F841 (scanned by name)
                           "caller": [r["caller"] for r in self.dr],
                           "queue": [r["queue"] for r in self.dr],
                           "type": [r["type"] for r in self.dr],
                           "ts": pa.array([r["ts"] for r in self.dr], pa.timestamp("us", "UTC"))})
            con.execute(
                "INSERT INTO dynamic_routing_requests (tenant, unique_id, caller, called, param1,"
                " param2, received_at, batch_id) SELECT ?, uid, caller, '0501234567', queue, type,"
                " ts, ? FROM dr ON CONFLICT DO NOTHING", [self.tenant, batch])
        if self.calls:
            derive.refresh(con, batch)
        reconcile.on_batches(con, [batch])
        con.execute("COMMIT")
        if self.ops is not None:
            sync.push(con, self.ops)
        self.calls, self.legs, self.dr = [], [], []
        return batch


def requests(con, state: str | None = None) -> list[dict]:
    cur = con.execute("SELECT * FROM missed_requests" + (" WHERE state = ?" if state else "")
                      + " ORDER BY first_call, call_num", [state] if state else [])
    cols = [d[0] for d in cur.description]
    return [dict(zip(cols, r, strict=True)) for r in cur.fetchall()]


def request_of(con, num: str, state: str | None = "open") -> dict:
    rs = [r for r in requests(con, state) if r["call_num"] == num]
    assert len(rs) == 1, rs
    return rs[0]


def add_user(stores, name: str, role: str = "operator", extension: str | None = None, *,
             privacy: bool = True, tenant: str = "default") -> None:
    """A pbxlens user straight into the operations store (no password hashing: these users
    never log in)."""
    with stores.ops_write() as c:
        c.execute(schema.users.insert().values(username=name, password_hash="x", role=role,
                                               privacy=privacy, tenant=tenant,
                                               extension=extension))


def token_of(stores, num: str, state: str = "open") -> str:
    """The token of the number's request in the operations store."""
    r = schema.callback_requests
    with stores.ops_read() as c:
        return c.execute(sa.select(r.c.token).where(r.c.call_num == num, r.c.state == state)
                         ).scalar_one()


def ops_requests(stores) -> list[dict]:
    r = schema.callback_requests
    with stores.ops_read() as c:
        return [dict(x) for x in c.execute(sa.select(r).order_by(r.c.first_call, r.c.call_num)
                                           ).mappings()]
