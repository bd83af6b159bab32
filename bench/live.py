"""Supervisor live benchmark against a real `pbxlens serve` on 127.0.0.1.

1. Events: call flows (enter, ring, served, end over 10 queues and 200 agents) posted at
   `--rate` events/s, one event per POST as the PBX does, for `--seconds`. Meanwhile a probe
   posts a call to a queue of its own every 0.25 s and polls `GET /api/live?queue=` until the
   call shows: the snapshot age of an event (posted -> visible) p50/p99; and the age of the
   snapshot itself (now - its `at`) as every poll reads it.
2. Screens: with the events stopped, the server's CPU (process and children, psutil) while 1
   screen polls once a second, then while `--screens` screens do (each a kept-alive
   connection): the difference in % of one core, and the server's memory (RSS) per screen.
   A screen polls the kiosk data (`/kiosk/<token>/data`, what a TV shows) or, with
   `--api`, `GET /api/live`.

Targets (the issue): age p99 <= 2 s at 1,000 events/s; 100 screens cost <= 10 % of one core
more than 1; <= 1 MB per screen.

On a shared 2-core machine the intake does not keep up with one POST per event at 1,000/s
(the webhook bench's own limit there is about 500/s); `--batch 10` posts the same events ten
to a request (a JSON array, which `POST /api/events` accepts).

    python bench/live.py [--rate 1000] [--seconds 30] [--batch 1] [--screens 100]
                         [--window 20] [--api]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

TOKEN = "bench-live-events-token"
QUEUES, AGENTS = 10, 200
PROBE_QUEUE = "9999"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def prepare(folder: Path) -> str:
    from pbxlens.store import Stores
    from pbxlens.store import users as auth

    store = Stores(folder / "bench.duckdb")
    u = auth.create_user(store, "bench", "bench-password-1", "admin", privacy=True)
    token = auth.issue_token(store, u.id)
    store.close()
    return token


def _request(conn, method: str, path: str, body: bytes | None = None, headers=None):
    conn.request(method, path, body=body, headers=headers or {})
    r = conn.getresponse()
    return r.status, r.read()


def event(eid: int, name: str, when: float, **params) -> bytes:
    return json.dumps({"event_id": eid, "event_name": name, "event_severity": 3,
                       "event_timestamp": f"{when:.6f}", "event_pbx_serial": "BENCH",
                       "params": params}).encode()


def schedule(rate: int, seconds: int, t0: float) -> list[tuple[float, str, dict]]:
    """Call flows of 4 events each (enter, ring +0.1 s, served +0.2 s, end +0.6 s) at
    rate/4 calls a second: (due, name, params), in due order."""
    out = []
    calls = rate * seconds // 4
    for c in range(calls):
        t = t0 + c * 4 / rate
        q, a = str(700 + c % QUEUES), str(1000 + c % AGENTS)
        base = {"unique_id": f"{int(t0)}.{c}", "queue": q, "queue_name": f"Queue {q}"}
        out += [(t, "pbx.queue.enter", {**base, "caller": f"+3933300{c % 100000:05d}"}),
                (t + 0.1, "pbx.queue.ringmember", {**base, "member_exten": a}),
                (t + 0.2, "pbx.queue.servedcall", {**base, "member_exten": a, "wait": 0}),
                (t + 0.6, "pbx.call.end", {"unique_id": base["unique_id"]})]
    out.sort(key=lambda e: e[0])
    return out


def post_events(port: int, evs: list, senders: int, first_id: int, batch: int = 1
                ) -> tuple[int, int, float]:
    """Post `evs` on time from `senders` threads, `batch` events per POST (a JSON array when
    more than one); (events 2xx'd, events failed, wall seconds)."""
    ok, bad = [0] * senders, [0] * senders
    hdr = {"Content-Type": "application/json", "X-Pbxlens-Token": TOKEN}

    deadline = evs[-1][0] + 2 * (evs[-1][0] - evs[0][0]) + 30 if evs else 0

    def run(k: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        for j in range(k * batch, len(evs), senders * batch):
            group = range(j, min(j + batch, len(evs)))
            if time.time() > deadline:  # bounded even when the server falls far behind
                bad[k] += len(group)
                continue
            if (d := evs[group[-1]][0] - time.time()) > 0:
                time.sleep(d)
            now = time.time()
            bodies = [event(first_id + i, evs[i][1], now, **evs[i][2]) for i in group]
            body = bodies[0] if batch == 1 else b"[" + b",".join(bodies) + b"]"
            try:
                status, _ = _request(conn, "POST", "/api/events", body, hdr)
            except (OSError, http.client.HTTPException):
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                status = -1
            if status == 200:
                ok[k] += len(group)
            else:
                bad[k] += len(group)
        conn.close()

    w0 = time.perf_counter()
    threads = [threading.Thread(target=run, args=(k,)) for k in range(senders)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sum(ok), sum(bad), time.perf_counter() - w0


def probe(port: int, api: str, stop: threading.Event, ages: list, staleness: list) -> None:
    """Post a probe call, poll /api/live until it shows; clear it; every 0.25 s."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    auth = {"Authorization": f"Bearer {api}"}
    hdr = {"Content-Type": "application/json", "X-Pbxlens-Token": TOKEN}
    n = 0
    while not stop.is_set():
        try:
            n += 1
            _probe_once(conn, n, auth, hdr, ages, staleness)
        except (OSError, http.client.HTTPException):  # a probe lost to a timeout: counted
            conn.close()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            ages.append(float("inf"))
    conn.close()


def _probe_once(conn, n: int, auth: dict, hdr: dict, ages: list, staleness: list) -> None:
    """One probe call: posted, polled until visible (its age), then ended."""
    uid = f"{int(time.time())}.{900000 + n}"
    t0 = time.time()
    _request(conn, "POST", "/api/events",
             event(10**9 + 2 * n, "pbx.queue.enter", t0, unique_id=uid, queue=PROBE_QUEUE),
             hdr)
    posted = time.time()
    while time.time() - posted < 10:
        _status, body = _request(conn, "GET", f"/api/live?queue={PROBE_QUEUE}", None, auth)
        now = time.time()
        snap = json.loads(body)
        if snap.get("at"):
            staleness.append(now - datetime.fromisoformat(snap["at"]).timestamp())
        q = next(iter(snap.get("queues") or []), None)
        if q and any(c.get("unique_id") == uid for c in q.get("calls", [])):
            ages.append(now - posted)
            break
        time.sleep(0.02)
    else:
        ages.append(float("inf"))
    _request(conn, "POST", "/api/events",
             event(10**9 + 2 * n + 1, "pbx.call.end", time.time(), unique_id=uid), hdr)
    time.sleep(max(0.0, 0.25 - (time.time() - t0)))


def cpu_seconds(proc: psutil.Process) -> float:
    total = 0.0
    for p in [proc, *proc.children(recursive=True)]:
        try:
            t = p.cpu_times()
            total += t.user + t.system
        except psutil.NoSuchProcess:
            pass
    return total


def rss(proc: psutil.Process) -> int:
    return sum(p.memory_info().rss for p in [proc, *proc.children(recursive=True)])


def screens(port: int, path: str, headers: dict, n: int, window: float,
            proc: psutil.Process) -> dict:
    """`n` screens each polling `path` once a second for `window` s (after a warm-up):
    server CPU % of one core, RSS, requests answered, failures."""
    stop, start = threading.Event(), threading.Event()
    counts, fails = [0] * n, [0] * n

    def screen(k: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        jar: dict[str, str] = {}  # a TV's browser keeps the cookies it is given
        next_at = time.time() + k / n  # spread over the second, as real screens drift
        while not stop.is_set():
            if (d := next_at - time.time()) > 0:
                stop.wait(d)
                if stop.is_set():
                    break
            next_at += 1.0
            cookie = "; ".join(f"{a}={b}" for a, b in jar.items())
            try:
                conn.request("GET", path, headers={**headers, **({"Cookie": cookie} if jar
                                                                 else {})})
                r = conn.getresponse()
                r.read()
                status = r.status
                for v in r.headers.get_all("Set-Cookie") or ():
                    name, _, rest = v.partition("=")
                    jar[name.strip()] = rest.split(";", 1)[0]
            except (OSError, http.client.HTTPException):
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                status = -1
            if start.is_set():
                counts[k] += status == 200
                fails[k] += status != 200
        conn.close()

    threads = [threading.Thread(target=screen, args=(k,), daemon=True) for k in range(n)]
    for t in threads:
        t.start()
    time.sleep(3)  # connections open, caches warm
    start.set()
    c0, w0 = cpu_seconds(proc), time.perf_counter()
    time.sleep(window)
    c1, w1 = cpu_seconds(proc), time.perf_counter()
    mem = rss(proc)
    stop.set()
    for t in threads:
        t.join()
    return {"cpu_pct": 100 * (c1 - c0) / (w1 - w0), "rss": mem, "requests": sum(counts),
            "failed": sum(fails)}


def pq(xs: list[float], q: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(q * len(xs)))] if xs else float("nan")


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rate", type=int, default=1000)
    ap.add_argument("--seconds", type=int, default=30)
    ap.add_argument("--senders", type=int, default=24)
    ap.add_argument("--batch", type=int, default=1, help="events per POST (the PBX: 1)")
    ap.add_argument("--screens", type=int, default=100)
    ap.add_argument("--window", type=float, default=20.0)
    ap.add_argument("--api", action="store_true", help="screens poll /api/live, not a kiosk")
    args = ap.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="pbxlens-bench-live-"))
    api = prepare(folder)
    port = free_port()
    env = {**os.environ, "PBXLENS_WEBHOOK_TOKEN_EVENTS": TOKEN,
           "PBXLENS_DB": str(folder / "bench.duckdb")}
    env.pop("PBXLENS_PBX_URL", None)
    server = subprocess.Popen([sys.executable, "-m", "pbxlens", "serve", "--host", "127.0.0.1",
                               "--port", str(port), "--threads", "16"], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        for _ in range(300):
            try:
                if _request(http.client.HTTPConnection("127.0.0.1", port, timeout=1), "GET",
                            "/health")[0] == 200:
                    break
            except OSError:
                time.sleep(0.1)
        else:
            print("server did not start:", server.stderr.read().decode()[-2000:])
            return 1
        return run(port, api, psutil.Process(server.pid), args)
    finally:
        server.terminate()
        try:
            server.wait(10)
        except subprocess.TimeoutExpired:
            server.kill()


def run(port: int, api: str, proc: psutil.Process, args) -> int:
    auth = {"Authorization": f"Bearer {api}"}
    hdr = {"Content-Type": "application/json", "X-Pbxlens-Token": TOKEN}
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    now = time.time()
    for a in range(AGENTS):  # everyone logged in to a queue
        _request(conn, "POST", "/api/events", event(
            1 + a, "pbx.queuemember.added", now, member_exten=str(1000 + a),
            queue=str(700 + a % QUEUES), queue_name=f"Queue {700 + a % QUEUES}"), hdr)
    # phase 1: events at the rate, the probe measuring the age
    evs = schedule(args.rate, args.seconds, time.time() + 1.0)
    stop, ages, staleness = threading.Event(), [], []
    prober = threading.Thread(target=probe, args=(port, api, stop, ages, staleness))
    prober.start()
    ok, bad, wall = post_events(port, evs, args.senders, 10_000, args.batch)
    stop.set()
    prober.join()
    print(f"events posted: {ok} ok, {bad} failed in {wall:.1f} s", file=sys.stderr)
    # phase 2: screens
    if args.api:
        path, headers = "/api/live", auth
    else:
        status, body = _request(conn, "POST", "/api/live/kiosks", json.dumps(
            {"label": "Bench TV", "queues": [str(700 + q) for q in range(QUEUES)],
             "lang": "en"}).encode(), {**auth, "Content-Type": "application/json"})
        assert status == 201, body
        path, headers = json.loads(body)["url"] + "/data", {}
    time.sleep(2)
    one = screens(port, path, headers, 1, args.window, proc)
    print(f"1 screen: {one}", file=sys.stderr)
    many = screens(port, path, headers, args.screens, args.window, proc)
    extra_cpu = many["cpu_pct"] - one["cpu_pct"]
    per_screen_mb = (many["rss"] - one["rss"]) / max(1, args.screens - 1) / 2**20
    age_p99 = pq(ages, .99)
    print("| figure | value |\n|---|---|")
    rows = [
        ("events offered", f"{len(evs):,} ({args.rate}/s x {args.seconds} s, "
                           f"{args.senders} senders, {args.batch} event(s) per POST)"),
        ("achieved rate", f"{ok / wall:,.0f} events/s ({bad} failed)"),
        ("event -> visible in /api/live, p50 / p99 / max",
         f"{pq(ages, .5):.2f} / {age_p99:.2f} / {max(ages, default=float('nan')):.2f} s "
         f"({len(ages)} probes)"),
        ("snapshot staleness when read, p50 / p99",
         f"{pq(staleness, .5):.2f} / {pq(staleness, .99):.2f} s"),
        ("screens poll", ("/api/live" if args.api else "kiosk data") + " once a second"),
        ("server CPU, 1 screen", f"{one['cpu_pct']:.1f} % of one core "
                                 f"({one['requests']} requests)"),
        (f"server CPU, {args.screens} screens", f"{many['cpu_pct']:.1f} % of one core "
                                                f"({many['requests']} requests, "
                                                f"{many['failed']} failed)"),
        (f"{args.screens} screens cost more than 1", f"{extra_cpu:.1f} % of one core "
                                                     f"(target <= 10 %)"),
        ("server memory per screen", f"{per_screen_mb:.3f} MB (RSS {one['rss'] / 2**20:.0f}"
                                     f" -> {many['rss'] / 2**20:.0f} MB; target <= 1 MB)"),
    ]
    for k, v in rows:
        print(f"| {k} | {v} |")
    ok_all = (age_p99 <= 2.0 and extra_cpu <= 10.0 and per_screen_mb <= 1.0 and not bad
              and not many["failed"] and ok / wall >= 0.9 * args.rate)
    print("PASS" if ok_all else "FAIL")
    return 0 if ok_all else 1


if __name__ == "__main__":
    sys.exit(main())
