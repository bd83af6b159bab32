"""Missed-calls benchmark.

1. Reconcile (in the analytics writer): a full rebuild of the callback requests (missed_events +
   missed_contacts from the CDR, then the A.9 segmentation, attempts and requests) over N CDR
   rows of which M are missed queue calls; one incremental ingest batch of 10k calls; and the
   push of every request into the operations store (SQLite). Target of issue 9: 1M missed calls
   against 10M CDR rows <= 10 s.
2. Booking over HTTP, the way operators book: a real `pbxlens serve` process on its own store,
   50 operators (Bearer tokens) each `POST /api/missed/<token>/book` in a loop (then cancel),
   a quarter of them on a request another operator is booking too (conflicts), a think time
   between clicks. First with the writer idle, then while the server's writer ingests a
   200k-call CDR file (simulated, `pbxlens ingest` sent to the running server: a writer job).
   On SQLite and on PostgreSQL (a throwaway cluster). Targets: p99 <= 50 ms, p50 <= 10 ms
   (before the two stores: p50 about 3 s, p99 4-8 s).

The reconcile CDR is generated inside DuckDB (the simulator would need hours for 10M rows);
the 200k-call file comes from `pbxlens.simulate.generate` (kept in bench/out).
Usage: python bench/missed.py [--calls 1000000] [--missed 100000] [--operators 50]
       [--seconds 20] [--think 1.0] [--client-procs 5] [--backends sqlite,postgresql]
       [--skip-reconcile] [--rebuild]
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

OUT = Path(__file__).parent / "out"
STORE = OUT / "missed.duckdb"
SIM = OUT / "missed_sim200k"
BEFORE = {"p50_ms": 3000.0, "p99_ms": 4000.0}  # one store: p50 ~3 s, p99 4-8 s (the best case)
TARGET = {"p50_ms": 10.0, "p99_ms": 50.0}

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

# open requests for the booking phase: one dynamic-routing POST per number, a minute apart
REQUESTS = """
INSERT INTO dynamic_routing_requests (tenant, unique_id, caller, called, param1, param2,
  received_at, batch_id)
SELECT 'default', 'bench.' || i, CAST(3400000000 + i AS TEXT), '0461000000', 'Assistenza',
  'queue', TIMESTAMPTZ '2026-02-01 08:00:00+00' + to_minutes(CAST(i AS BIGINT)), 1
FROM range(?) t(i)
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
    from pbxlens.store import analytics

    OUT.mkdir(parents=True, exist_ok=True)
    for p in (STORE, Path(str(STORE) + ".wal"), STORE.with_name("missed-ops.sqlite")):
        p.unlink(missing_ok=True)
    con = analytics.connect(STORE)
    t0 = time.perf_counter()
    _gen(con, 0, calls, missed, 1, max(1000, missed // 3))
    n, m = con.execute("SELECT count(*), count(*) FILTER (WHERE status = 'CANCELED') FROM calls"
                       ).fetchone()
    print(f"generated {n:,} CDR rows ({m:,} missed queue calls) in {time.perf_counter() - t0:.1f} s")
    con.close()


def bench_reconcile(calls: int, missed: int) -> dict:
    from pbxlens.missed_calls import reconcile, sync
    from pbxlens.store import Stores

    out = {}
    with Stores(STORE) as stores, stores.writing() as con:
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
        t0 = time.perf_counter()
        sync.push(con, stores.ops)  # every request into the operations store
        out["push_s"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        sync.push(con, stores.ops)  # nothing touched: nothing to do
        con.execute(f"INSERT INTO {reconcile.touched_table(con)} VALUES (NULL, NULL)")
        sync.push(con, stores.ops)  # everything again, all rows equal: no writes
        out["repush_s"] = time.perf_counter() - t0
        # one ingest batch of 10k calls, 10 % missed, reconciled by the after-ingest hook
        batch = 99
        con.execute("BEGIN TRANSACTION")
        _gen(con, calls + 10, calls + 10_010, 1000, batch, max(1000, missed // 3))
        t1 = time.perf_counter()
        reconcile.on_batches(con, [batch])
        out["batch_s"] = time.perf_counter() - t1
        con.execute("ROLLBACK")
    return out


# ---------------------------------------------------------------------------- booking
def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _seed(db: Path, ops_url: str, operators: int) -> tuple[list[str], list[str], str]:
    """A store with operators x 40 open requests; one Bearer token per operator and one for
    an admin. Returns (request tokens, operator tokens, admin token)."""
    import sqlalchemy as sa

    from pbxlens.missed_calls import reconcile, sync
    from pbxlens.store import Stores, schema, users

    for p in (db, Path(f"{db}.wal")):
        p.unlink(missing_ok=True)
    with Stores(db, ops_url) as stores:
        with stores.writing() as con:
            con.execute(REQUESTS, [operators * 40])
            con.execute("BEGIN TRANSACTION")
            reconcile.rebuild_all(con)
            con.execute("COMMIT")
            sync.full(con, stores.ops, rebuild=False)
        hashed = users.hash_password("bench-password")
        with stores.ops_write() as c:
            c.execute(schema.users.insert(), [
                {"username": f"op{i:02d}", "password_hash": hashed, "role": "operator",
                 "privacy": False, "tenant": "default", "extension": str(500 + i)}
                for i in range(operators)] + [
                {"username": "admin", "password_hash": hashed, "role": "admin", "privacy": True,
                 "tenant": "default", "extension": None}])
            ids = dict(c.execute(sa.select(schema.users.c.username, schema.users.c.id)).all())
            r = schema.callback_requests
            toks = [t for (t,) in c.execute(sa.select(r.c.token).order_by(r.c.first_call))]
        op_tokens = [users.issue_token(stores, ids[f"op{i:02d}"]) for i in range(operators)]
        admin = users.issue_token(stores, ids["admin"])
    return toks, op_tokens, admin


def _in_process(db: Path, ops_url: str, requests: list[str], operators: int, seconds: float,
                think: float) -> dict:
    """The same operators calling `operations.book` in one process (no HTTP): what the
    operations store and the booking code cost."""
    from pbxlens.missed_calls import operations as op
    from pbxlens.missed_calls.actor import Actor
    from pbxlens.store import Stores

    lat: list[float] = []
    lock = threading.Lock()
    stop = time.perf_counter() + seconds
    with Stores(db, ops_url, threaded_writer=True) as stores:
        stores.writer.start()

        def worker(i: int) -> None:
            me = Actor(f"op{i:02d}", "operator", "default", str(500 + i))
            mine = requests[i * 40:(i + 1) * 40]
            time.sleep(think * i / operators)
            j = 0
            while time.perf_counter() < stop:
                t = time.perf_counter()
                op.book(stores, me, mine[j % 40])
                with lock:
                    lat.append(time.perf_counter() - t)
                op.cancel(stores, me, mine[j % 40])
                j += 1
                time.sleep(think)

        threads = [threading.Thread(target=worker, args=(i,)) for i in range(operators)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    lat.sort()
    q = statistics.quantiles(lat, n=100)
    return {"p50_ms": q[49] * 1000, "p99_ms": q[98] * 1000, "bookings": len(lat)}


class Server:
    """`pbxlens serve` in a child process on `db` and `ops_url`."""

    def __init__(self, db: Path, ops_url: str) -> None:
        import httpx

        self.db, self.ops_url, self.port = db, ops_url, _free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "pbxlens", "serve", "--db", str(db), "--ops-url", ops_url,
             "--port", str(self.port), "--threads", "16"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 120
        while True:
            try:
                if httpx.get(self.base + "/health", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("pbxlens serve did not start")
            time.sleep(0.3)

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(60)


def _operators(base: str, tokens: list[str], requests: list[str], seconds: float, think: float,
               busy=None, out=None, floor: bool = False) -> list[tuple[float, float, int]]:
    """Operators `tokens[i]` book (then cancel) in a loop, each on a keep-alive connection of
    its own (http.client: the client's own cost stays small); (latency, status) of the
    bookings (with their start on the wall clock), counted only while `busy` is set when
    given. Put in `out` when given. `floor`: the same clicks on `GET /health` instead (what
    HTTP alone costs on this machine now)."""
    import http.client
    from urllib.parse import urlsplit

    host, port = urlsplit(base).hostname, urlsplit(base).port
    got: list[tuple[float, float, int]] = []
    lock = threading.Lock()
    n = len(tokens)
    stop = time.perf_counter() + seconds

    def post(conn: http.client.HTTPConnection, path: str, headers: dict) -> int:
        conn.request("GET" if floor else "POST", "/health" if floor else path, headers=headers)
        r = conn.getresponse()
        r.read()
        return r.status

    def worker(i: int) -> None:
        mine = requests[i * 40:(i + 1) * 40]
        shared = requests[((i + 1) % n) * 40:((i + 1) % n) * 40 + 40]
        headers = {"Authorization": f"Bearer {tokens[i]}", "Content-Length": "0"}
        conn = http.client.HTTPConnection(host, port, timeout=120)
        time.sleep(think * i / n)  # operators do not all click in the same instant
        j = 0
        while time.perf_counter() < stop:
            tok = shared[j % 40] if j % 4 == 3 else mine[j % 40]
            t, wall = time.perf_counter(), time.time()
            status = post(conn, f"/api/missed/{tok}/book", headers)
            dt = time.perf_counter() - t
            if busy is None or busy.is_set():
                with lock:
                    got.append((wall, dt, status))
            if status == 200 and not floor:
                post(conn, f"/api/missed/{tok}/cancel", headers)
            j += 1
            time.sleep(think)
        conn.close()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if out is not None:
        out.put(got)
    return got


def _load(base: str, tokens: list[str], requests: list[str], seconds: float, think: float,
          procs: int, busy=None, floor: bool = False) -> dict:
    """The operators spread over `procs` client processes (one Python process with 50 busy
    threads would measure its own GIL); their latencies summed up."""
    import multiprocessing as mp

    ctx = mp.get_context("spawn")
    out = ctx.Queue()
    k = -(-len(tokens) // procs)
    parts = [ctx.Process(target=_operators, args=(base, tokens[i:i + k],
                                                  requests[i * 40:(i + k) * 40], seconds,
                                                  think, busy, out, floor))
             for i in range(0, len(tokens), k)]
    for p in parts:
        p.start()
    got = [x for _ in parts for x in out.get()]
    for p in parts:
        p.join()
    lat = sorted(dt for _, dt, _ in got)
    refused = sum(status != 200 for _, _, status in got)
    if len(lat) < 2:
        return {"bookings": len(lat), "refused": refused}
    q = statistics.quantiles(lat, n=100)
    t0, t1 = min(w for w, _, _ in got), max(w for w, _, _ in got)
    tenths = [[dt for w, dt, _ in got if int(10 * (w - t0) / max(t1 - t0, 1e-9)) == k
               or (k == 9 and w == t1)] for k in range(10)]
    return {"bookings": len(lat), "refused": refused, "p50_ms": q[49] * 1000,
            "p95_ms": q[94] * 1000, "p99_ms": q[98] * 1000, "max_ms": lat[-1] * 1000,
            "p50_by_tenth": [statistics.median(x) * 1000 if x else None for x in tenths]}


def _ingest_while_booking(server: Server, admin: str, tokens: list[str], requests: list[str],
                          think: float, procs: int, limit_s: float) -> tuple[dict, float | None]:
    """Send the 200k-call file to the running server (`pbxlens ingest`: a writer job) and
    measure the bookings made while that job runs."""
    import multiprocessing as mp

    import httpx

    cli = subprocess.Popen([sys.executable, "-m", "pbxlens", "ingest", "--db", str(server.db),
                            "--json", str(SIM / "cdr_detailed.csv")],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    busy = mp.get_context("spawn").Event()
    took: list[float] = []

    def watch() -> None:
        started = None
        with httpx.Client(base_url=server.base, timeout=30,
                          headers={"Authorization": f"Bearer {admin}"}) as h:
            while cli.poll() is None:
                jobs = h.get("/api/jobs").json()["jobs"]
                running = any(j["kind"] == "ingest" and j["state"] == "running" for j in jobs)
                if running and started is None:
                    started = time.perf_counter()
                    busy.set()
                if started is not None and not running:
                    break
                time.sleep(0.2)
        busy.clear()
        if started is not None:
            took.append(time.perf_counter() - started)

    w = threading.Thread(target=watch)
    w.start()
    while not busy.is_set() and cli.poll() is None:
        time.sleep(0.1)
    result = _load(server.base, tokens, requests, limit_s, think, procs, busy)
    w.join()
    cli.wait()
    return result, (took[0] if took else None)


def bench_booking(backend: str, operators: int, seconds: float, think: float,
                  procs: int) -> dict:
    OUT.mkdir(parents=True, exist_ok=True)
    db = OUT / f"missed_http_{backend}.duckdb"
    cluster = None
    if backend == "postgresql":
        from tests.pgcluster import Cluster

        cluster = Cluster()
        ops_url = cluster.new_database()
    else:
        ops_file = OUT / "missed_http-ops.sqlite"
        for p in (ops_file, Path(f"{ops_file}-wal"), Path(f"{ops_file}-shm")):
            p.unlink(missing_ok=True)
        ops_url = f"sqlite:///{ops_file}"
    try:
        requests, tokens, admin = _seed(db, ops_url, operators)
        inproc = _in_process(db, ops_url, requests, operators, seconds / 2, think)
        server = Server(db, ops_url)
        try:
            floor = _load(server.base, tokens, requests, seconds, think, procs, floor=True)
            idle = _load(server.base, tokens, requests, seconds, think, procs)
            busy, ingest_s = _ingest_while_booking(server, admin, tokens, requests, think,
                                                   procs, 600)
        finally:
            server.stop()
    finally:
        if cluster is not None:
            cluster.stop()
    return {"in_process": inproc, "floor": floor, "idle": idle, "ingest": busy,
            "ingest_s": ingest_s}


def _line(name: str, r: dict) -> str:
    if "p50_ms" not in r:
        return f"  {name}: {r['bookings']} bookings (too few to measure)"
    return (f"  {name}: {r['bookings']:,} bookings ({r['refused']:,} refused): "
            f"p50 {r['p50_ms']:.1f} ms, p95 {r['p95_ms']:.1f} ms, p99 {r['p99_ms']:.1f} ms, "
            f"max {r['max_ms']:.0f} ms | vs target p50 x{r['p50_ms'] / TARGET['p50_ms']:.2f}, "
            f"p99 x{r['p99_ms'] / TARGET['p99_ms']:.2f} | vs one store p50 "
            f"1/{BEFORE['p50_ms'] / r['p50_ms']:.0f}, p99 1/{BEFORE['p99_ms'] / r['p99_ms']:.0f}")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--calls", type=int, default=1_000_000)
    ap.add_argument("--missed", type=int, default=100_000)
    ap.add_argument("--operators", type=int, default=50)
    ap.add_argument("--seconds", type=float, default=20.0)
    ap.add_argument("--think", type=float, default=1.0, help="seconds between an operator's clicks")
    ap.add_argument("--client-procs", type=int, default=5, help="client processes")
    ap.add_argument("--backends", default="sqlite,postgresql")
    ap.add_argument("--skip-reconcile", action="store_true")
    ap.add_argument("--rebuild", action="store_true")
    a = ap.parse_args()
    if not a.skip_reconcile:
        if a.rebuild or not STORE.exists():
            build(a.calls, a.missed)
        r = bench_reconcile(a.calls, a.missed)
        print(f"reconcile full: {r['full_s']:.2f} s for {a.calls:,} CDR rows / {r['events']:,} "
              f"missed calls -> {r['requests']:,} requests ({r['open']:,} open), "
              f"{r['contacts']:,} contacts, {r['attempts']:,} attempts "
              f"(target 10 s at 10M/1M: ratio {r['full_s'] / 10:.2f})")
        print(f"reconcile one 10k-call ingest batch: {r['batch_s'] * 1000:.0f} ms")
        print(f"push of every request to the operations store (SQLite): {r['push_s']:.2f} s; "
              f"again with nothing changed: {r['repush_s']:.2f} s")
    if not (SIM / "cdr_detailed.csv").exists():
        from pbxlens.simulate import generate

        generate(SIM, days=20, calls_per_day=10_000, seed=7, start=date(2026, 3, 2),
                 formats=["csv-detailed"])
    for backend in [b.strip() for b in a.backends.split(",") if b.strip()]:
        load = os.getloadavg()[0]
        b = bench_booking(backend, a.operators, a.seconds, a.think, a.client_procs)
        print(f"booking over HTTP on {backend}, {a.operators} operators, think {a.think} s "
              f"(POST /api/missed/<token>/book; machine load average {load:.1f} at start, "
              f"{os.cpu_count()} CPUs):")
        p = b["in_process"]
        print(f"  in process (operations.book, no HTTP): {p['bookings']:,} bookings, "
              f"p50 {p['p50_ms']:.1f} ms, p99 {p['p99_ms']:.1f} ms")
        f = b["floor"]
        print(f"  floor, the same clicks on GET /health: p50 {f['p50_ms']:.1f} ms, "
              f"p99 {f['p99_ms']:.1f} ms")
        print(_line("writer idle", b["idle"]))
        took = f"{b['ingest_s']:.0f} s" if b["ingest_s"] else "not seen running"
        print(_line(f"while the writer ingests 200k calls ({took})", b["ingest"]))
        if b["ingest"].get("p50_by_tenth"):
            print("    p50 by tenth of the ingest (ms): " + " ".join(
                f"{x:.0f}" if x is not None else "-" for x in b["ingest"]["p50_by_tenth"]))


if __name__ == "__main__":
    main()
