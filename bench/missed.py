"""Missed-calls benchmark (issue 9).

1. Reconcile: a full rebuild of the callback requests (missed_events + missed_contacts from the
   CDR, then the A.9 segmentation, attempts and requests) over N CDR rows of which M are missed
   queue calls; then one incremental ingest batch of 10k calls (the after-ingest hook).
   Target: 1M missed calls against 10M CDR rows <= 10 s.
2. Booking: K operator threads on one process's Store (its write lock and SQLAlchemy engine,
   as the web server runs them) each book and cancel their own requests in a loop; a quarter of
   the bookings target a request another operator is also booking (conflicts). Target: p99 <=
   50 ms with 50 operators.

The CDR is generated inside DuckDB (not by the simulator, which would need hours for 10M rows):
calls over 30 days, a pool of caller numbers written in several forms (+39, 0039, spaces),
answered inbound calls and outbound callbacks to the same numbers; queue_visits for the missed
calls (what derive would write). Store: bench/out/missed.duckdb (rebuilt with --rebuild).
Usage: python bench/missed.py [--calls 10000000] [--missed 1000000] [--operators 50] [--rebuild]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

OUT = Path(__file__).parent / "out"
STORE = OUT / "missed.duckdb"

GEN = """
INSERT INTO calls (tenant, unique_id, leg_branch, unique_epoch, source_type, destination_type,
  status, start_ts, start_local, answer_ts, end_ts, caller, called, duration_s, bill_s,
  src_extension, src_peer_name, direction, path_len, path_incomplete, content_hash, batch_id)
WITH g AS (
  SELECT i, CASE WHEN i < {b1} THEN 'missed' WHEN i < {b2} THEN 'in'
                 WHEN i < {b3} THEN 'out' ELSE 'int' END AS kind,
    '3' || lpad(CAST(hash(i * 7919) % {pool} AS TEXT), 9, '0') AS num,
    TIMESTAMP '2026-01-01 00:00:00' + to_seconds(CAST((i * 2654435761) % (30 * 86400) AS BIGINT)) AS loc,
    CAST(hash(i) % 400 AS INTEGER) AS bill
  FROM range({start}, {stop}) t(i)
), f AS (
  SELECT *, CASE i % 4 WHEN 0 THEN '+39' || num WHEN 1 THEN '0039 ' || num
                      WHEN 2 THEN substr(num, 1, 3) || ' ' || substr(num, 4) ELSE num END AS form
  FROM g
)
SELECT 'default', CAST(1767225600 + i AS TEXT) || '.' || CAST(i % 97 AS TEXT), 0, 1767225600 + i,
  CASE WHEN kind IN ('missed', 'in') THEN 'ibl' ELSE 'local_exten' END,
  CASE WHEN kind = 'out' THEN 'obl' WHEN kind = 'int' THEN 'local_exten' ELSE 'queue' END,
  CASE WHEN kind = 'missed' THEN 'CANCELED' WHEN kind = 'out' AND bill % 3 = 0 THEN 'NOANSWER'
       ELSE 'OK' END,
  CAST(loc AS TIMESTAMPTZ), loc, NULL, CAST(loc AS TIMESTAMPTZ) + to_seconds(bill + 20),
  CASE WHEN kind IN ('missed', 'in') THEN form ELSE '5' || CAST(i % 40 AS TEXT) END,
  CASE WHEN kind = 'out' THEN num WHEN kind = 'int' THEN '5' || CAST(i % 37 AS TEXT)
       ELSE '0461000000' END,
  bill + 20, CASE WHEN kind = 'missed' OR (kind = 'out' AND bill % 3 = 0) THEN 0 ELSE bill END,
  CASE WHEN kind IN ('out', 'int') THEN '5' || CAST(i % 40 AS TEXT) END, NULL,
  CASE WHEN kind IN ('missed', 'in') THEN 'incoming' WHEN kind = 'out' THEN 'outgoing'
       ELSE 'internal' END, 1, false, 0, {batch}
FROM f
"""

VISITS = """
INSERT INTO queue_visits
SELECT tenant, unique_id, 0, 1, CAST(start_local AS DATE), CAST(hour(start_local) AS SMALLINT),
  CAST(dayofweek(start_local) AS SMALLINT), status, '700', '700', 'Assistenza', false, 'TIMEOUT',
  'TIMEOUT', false, NULL, 0, 0, 0, 20, 0, 20, 0
FROM calls WHERE batch_id = ? AND direction = 'incoming' AND status <> 'OK'
"""


def _gen(con, start: int, stop: int, missed: int, batch: int, pool: int) -> None:
    """Rows start..stop-1: the first `missed` are missed queue calls, then 30 % answered
    inbound, 35 % outbound, the rest internal (of the whole range)."""
    rest = stop - start - missed
    b1 = start + missed
    b2, b3 = b1 + int(rest * 0.3), b1 + int(rest * 0.65)
    step = 2_000_000
    for s in range(start, stop, step):
        con.execute(GEN.format(b1=b1, b2=b2, b3=b3, start=s, stop=min(stop, s + step),
                               batch=batch, pool=pool))
    con.execute(VISITS, [batch])


def build(calls: int, missed: int) -> None:
    from pbxlens.store import analytics as db

    OUT.mkdir(parents=True, exist_ok=True)
    for p in (STORE, Path(str(STORE) + ".wal")):
        p.unlink(missing_ok=True)
    con = db.connect(STORE)
    t0 = time.perf_counter()
    _gen(con, 0, calls, missed, 1, max(1000, missed // 3))
    n, m = con.execute("SELECT count(*), count(*) FILTER (WHERE status = 'CANCELED') FROM calls"
                       ).fetchone()
    print(f"generated {n:,} CDR rows ({m:,} missed queue calls) in {time.perf_counter() - t0:.1f} s")
    con.close()


def bench_reconcile(calls: int, missed: int) -> dict:
    from pbxlens.missed_calls import reconcile
    from pbxlens.store import analytics as db

    con = db.connect(STORE)
    out = {}
    t0 = time.perf_counter()
    con.execute("BEGIN TRANSACTION")
    r = reconcile.rebuild_all(con)
    con.execute("COMMIT")
    out["full_s"] = time.perf_counter() - t0
    out["requests"] = r["requests"]
    stats = con.execute("""SELECT (SELECT count(*) FROM missed_events),
        (SELECT count(*) FROM missed_contacts), (SELECT count(*) FROM missed_attempts),
        count(*) FILTER (WHERE state = 'open') FROM missed_requests""").fetchone()
    out["events"], out["contacts"], out["attempts"], out["open"] = stats
    # one ingest batch of 10k calls, 10 % missed, reconciled by the after-ingest hook
    batch = 99
    con.execute("BEGIN TRANSACTION")
    _gen(con, calls + 10, calls + 10_010, 1000, batch, max(1000, missed // 3))
    t1 = time.perf_counter()
    reconcile.on_batch(con, batch)
    out["batch_s"] = time.perf_counter() - t1
    con.execute("ROLLBACK")
    con.close()
    return out


def bench_booking(operators: int, seconds: float) -> dict:
    from pbxlens.missed_calls import operations as op
    from pbxlens.store import Stores as Store

    store = Store(STORE)
    db = op.Db.from_store(store)
    with store.cursor() as cur:
        keys = [r[0] for r in cur.execute(
            "SELECT request_key FROM missed_requests WHERE state = 'open' LIMIT ?",
            [operators * 40]).fetchall()]
        cur.execute("DELETE FROM missed_bookings")
    lat: list[float] = []
    conflicts = [0]
    lock = threading.Lock()
    stop = time.perf_counter() + seconds
    barrier = threading.Barrier(operators)

    def worker(i: int) -> None:
        me = op.Actor(f"bench{i}", "operator", "default", str(500 + i))
        mine = keys[i * 40:(i + 1) * 40]
        shared = keys[((i + 1) % operators) * 40:((i + 1) % operators) * 40 + 40]
        barrier.wait()
        j = 0
        while time.perf_counter() < stop:
            key = shared[j % 40] if j % 4 == 3 else mine[j % 40]
            t = time.perf_counter()
            try:
                op.book(db, me, key)
                booked = True
            except op.MissedError:
                booked = False
                with lock:
                    conflicts[0] += 1
            dt = time.perf_counter() - t
            with lock:
                lat.append(dt)
            if booked:
                op.cancel(db, me, key)
            j += 1
            time.sleep(0.05)  # an operator's next click comes after a screen refresh

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(operators)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    store.close()
    lat.sort()
    q = statistics.quantiles(lat, n=100)
    return {"bookings": len(lat), "conflicts": conflicts[0], "p50_ms": q[49] * 1000,
            "p95_ms": q[94] * 1000, "p99_ms": q[98] * 1000, "max_ms": lat[-1] * 1000}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--calls", type=int, default=10_000_000)
    ap.add_argument("--missed", type=int, default=1_000_000)
    ap.add_argument("--operators", type=int, default=50)
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--rebuild", action="store_true")
    a = ap.parse_args()
    if a.rebuild or not STORE.exists():
        build(a.calls, a.missed)
    r = bench_reconcile(a.calls, a.missed)
    print(f"reconcile full: {r['full_s']:.2f} s for {a.calls:,} CDR rows / {r['events']:,} missed "
          f"calls -> {r['requests']:,} requests ({r['open']:,} open), {r['contacts']:,} contacts, "
          f"{r['attempts']:,} attempts  (target 10 s at 10M/1M: ratio {r['full_s'] / 10:.2f})")
    print(f"reconcile one 10k-call ingest batch: {r['batch_s'] * 1000:.0f} ms")
    b = bench_booking(a.operators, a.seconds)
    print(f"booking, {a.operators} operators, {b['bookings']:,} bookings ({b['conflicts']:,} refused): "
          f"p50 {b['p50_ms']:.1f} ms, p95 {b['p95_ms']:.1f} ms, p99 {b['p99_ms']:.1f} ms, "
          f"max {b['max_ms']:.1f} ms  (target p99 50 ms: ratio {b['p99_ms'] / 50:.2f})")


if __name__ == "__main__":
    main()
