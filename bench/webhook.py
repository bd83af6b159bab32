"""Webhook benchmark: N events/s (one event per POST) for S seconds to a real `pbxlens serve`
on 127.0.0.1, while a report and the event stats are queried in a loop.

Checks: 0 events lost (every 2xx'd event is in pbx_events once the inbox is moved, every event
got a 2xx), p99 answer time, and the stats afterwards equal to what was sent. Bounded: stops by
itself. (bench/ops.py measures the same during an ingest, with wrk.)

    python bench/webhook.py [--rate 1000] [--seconds 60] [--senders 24]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from datetime import date
from pathlib import Path

TOKEN = "bench-events-token"
NAMES = ("pbx.queue.enter", "pbx.queue.servedcall", "pbx.queue.unservedcall", "pbx.call.end")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def prepare(folder: Path) -> tuple[str, list[str]]:
    from pbxlens.ingest import ingest_paths
    from pbxlens.simulate import generate
    from pbxlens.store import Stores as Store
    from pbxlens.store import users as auth

    generate(folder / "sim", days=1, calls_per_day=500, seed=5, start=date(2026, 5, 11),
             formats=["csv-detailed"])
    store = Store(folder / "bench.duckdb")
    with store.writing() as cur:
        ingest_paths(cur, [folder / "sim"])
        uids = [r[0] for r in cur.execute("SELECT unique_id FROM calls ORDER BY 1").fetchall()]
    u = auth.create_user(store, "bench", "bench-password-1", "admin", privacy=True)
    token = auth.issue_token(store, u.id)
    store.close()
    return token, uids


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rate", type=int, default=1000)
    ap.add_argument("--seconds", type=int, default=60)
    ap.add_argument("--senders", type=int, default=24)
    args = ap.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="pbxlens-bench-webhook-"))
    api_token, uids = prepare(folder)
    port = free_port()
    env = {**os.environ, "PBXLENS_WEBHOOK_TOKEN_EVENTS": TOKEN, "PBXLENS_DB": str(folder / "bench.duckdb")}
    env.pop("PBXLENS_PBX_URL", None)
    server = subprocess.Popen([sys.executable, "-m", "pbxlens", "serve", "--host", "127.0.0.1",
                               "--port", str(port), "--threads", "32"], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        for _ in range(300):
            try:
                c = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
                c.request("GET", "/health")
                if c.getresponse().status == 200:
                    break
            except OSError:
                time.sleep(0.1)
        else:
            print("server did not start:", server.stderr.read().decode()[-2000:])
            return 1
        return run(port, api_token, uids, args)
    finally:
        server.terminate()
        try:
            server.wait(10)
        except subprocess.TimeoutExpired:
            server.kill()


def run(port: int, api_token: str, uids: list[str], args) -> int:
    total = args.rate * args.seconds
    t_start = time.perf_counter() + 0.5
    lat: list[list[float]] = [[] for _ in range(args.senders)]
    failed: list[tuple[int, str]] = []
    sent = Counter()
    lock = threading.Lock()

    def sender(k: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        deadline = t_start + args.seconds * 3 + 30  # bounded even when the server falls behind
        for i in range(k, total, args.senders):
            if time.perf_counter() > deadline:
                with lock:
                    failed.append((i, "not sent: deadline"))
                continue
            due = t_start + i / args.rate
            delay = due - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            name = NAMES[i % len(NAMES)]
            body = json.dumps({"event_id": i + 1, "event_name": name, "event_severity": 3,
                               "event_timestamp": f"{1778480000 + i / 1000:.6f}",
                               "params": {"unique_id": uids[i % len(uids)], "queue": "Q1"}})
            t0 = time.perf_counter()
            try:
                conn.request("POST", "/api/events", body=body,
                             headers={"Content-Type": "application/json", "X-Pbxlens-Token": TOKEN})
                r = conn.getresponse()
                r.read()
                status = r.status
            except (OSError, http.client.HTTPException) as exc:
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                status, r = -1, exc
            dt = time.perf_counter() - t0
            lat[k].append(dt)
            if status == 200:
                with lock:
                    sent[name] += 1
            else:
                with lock:
                    failed.append((i, str(status)))
        conn.close()

    stop = threading.Event()
    report_lat: list[float] = []
    report_errors: list[str] = []

    def reporter() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        hdr = {"Authorization": f"Bearer {api_token}"}
        n = 0
        while not stop.is_set() and n < 100_000:
            n += 1
            path = ("/api/reports/cdr.queues?from=2026-05-11&to=2026-05-11" if n % 2
                    else "/api/events/stats")
            t0 = time.perf_counter()
            try:
                conn.request("GET", path, headers=hdr)
                r = conn.getresponse()
                r.read()
            except (OSError, http.client.HTTPException) as exc:
                report_errors.append(f"{path}: {exc}")
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
                continue
            report_lat.append(time.perf_counter() - t0)
            if r.status != 200:
                report_errors.append(f"{path}: {r.status}")

    threads = [threading.Thread(target=sender, args=(k,)) for k in range(args.senders)]
    rep = threading.Thread(target=reporter)
    rep.start()
    wall0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - wall0
    stop.set()
    rep.join()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    deadline = time.monotonic() + 120  # acknowledged = in the inbox: wait for the move
    while True:
        conn.request("GET", "/api/events/stats", headers={"Authorization": f"Bearer {api_token}"})
        stats = json.loads(conn.getresponse().read())
        if stats["inbox"]["pending"] == 0 or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    ok_total = sum(sent.values())
    stored = {k: v["count"] for k, v in stats["events"].items()}
    reconciled = sum(v["in_calls"] for v in stats["events"].values())
    all_lat = sorted(x for xs in lat for x in xs)

    def pq(xs, q):
        return xs[min(len(xs) - 1, int(q * len(xs)))] * 1000 if xs else float("nan")

    lost = ok_total - sum(stored.values())  # acknowledged but not stored
    print("| figure | value |\n|---|---|")
    rows = [
        ("events offered", f"{total:,} ({args.rate}/s x {args.seconds} s, {args.senders} senders)"),
        ("achieved rate", f"{ok_total / wall:,.0f} events/s over {wall:.1f} s"),
        ("2xx answers", f"{ok_total:,}"), ("failed requests", f"{len(failed):,}"),
        ("stored in pbx_events", f"{sum(stored.values()):,}"), ("lost", f"{lost:,}"),
        ("latency p50 / p99 / max", f"{pq(all_lat, .5):.1f} / {pq(all_lat, .99):.1f} / "
                                    f"{all_lat[-1] * 1000 if all_lat else 0:.1f} ms"),
        ("report queries during load", f"{len(report_lat):,} (median "
                                       f"{statistics.median(report_lat) * 1000 if report_lat else 0:.0f} ms,"
                                       f" errors {len(report_errors)})"),
        ("stats == sent per event name", str(stored == dict(sent))),
        ("events reconciled with calls", f"{reconciled:,}"),
    ]
    for k, v in rows:
        print(f"| {k} | {v} |")
    ok = lost == 0 and not failed and stored == dict(sent) and pq(all_lat, .99) <= 50 \
        and reconciled == ok_total
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
