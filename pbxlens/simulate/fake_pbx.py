"""A fake KalliopePBX REST API over real HTTP, for the tests and the demo.

It serves `GET rest/salt/<domain>` (anonymous) and, behind X-authenticate checked as the PBX
does (pbx_data.md §4.2: wrong digest, a nonce reused within 5 minutes, `Created` more than 5
minutes off the clock -> 401), `GET rest/cdr?year=&month=&day=` with the calls of that day
(JSON in the canonical CDR layout, formats.md §1.3) and, when the data folder has one,
`GET rest/callCenterCdr?...` (404 otherwise), and the click-to-call originate
`GET rest/phoneServices/c2c/<dest>/<src>` (pbx_callcenter.md, L9179): recorded in
`originated` as (src, dest) and answered with a `call_uuid`.

Data: the simulator's `cdr.json` (any JSON array of calls) in `--data DIR`; calls are grouped by
the date of `start_datetime`. Without data a small simulation of the last 3 days is used.
"""

from __future__ import annotations

import hmac
import json
import threading
import time
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from pbxlens.ingest.pbx_api import CREATED_FORMAT, digest, digest_password, parse_x_authenticate

WINDOW_S = 300  # nonce memory and allowed clock skew (L18566-18570)


class FakePbx:
    def __init__(self, users: dict[str, tuple[str, str]] | None = None,
                 salts: dict[str, str] | None = None) -> None:
        # username -> (password, domain)
        self.users = users or {"admin": ("admin", "default")}
        self.salts = salts or {"default": "b5a8fdcf2f8d5acdad33c4a072a97d7a"}
        self.cdr: dict[date, list[dict]] = defaultdict(list)
        self.cc: dict[date, list[dict]] = {}
        self.nonces: dict[str, float] = {}
        self.lock = threading.Lock()
        self.fail_next = 0           # answer 503 to the next N authenticated requests (retry tests)
        self.requests: list[str] = []  # request log: "GET /rest/cdr?..." -> status
        self.originated: list[tuple[str, str]] = []  # click-to-call (src extension, dest)

    # ----------------------------------------------------------------------------- data
    def add_calls(self, calls: list[dict]) -> None:
        with self.lock:
            for c in calls:
                d = date.fromisoformat(str(c.get("start_datetime", ""))[:10])
                day = self.cdr[d]
                for i, old in enumerate(day):
                    if old.get("unique_id") == c.get("unique_id"):
                        day[i] = c
                        break
                else:
                    day.append(c)

    def load_dir(self, folder: Path) -> int:
        n = 0
        for p in sorted(Path(folder).glob("*.json")):
            if p.name.startswith("directory"):
                continue
            doc = json.loads(p.read_text(encoding="utf-8-sig"))
            if p.name.startswith(("callcenter", "cc")):
                for row in doc:  # the PBX serves the Call Center CDR by end time (C22)
                    when = row.get("exit_datetime") or row.get("enter_datetime") or ""
                    d = date.fromisoformat(str(when)[:10])
                    self.cc.setdefault(d, []).append(row)
                continue
            if isinstance(doc, list):
                self.add_calls([c for c in doc if isinstance(c, dict)])
                n += len(doc)
        return n

    # ----------------------------------------------------------------------------- auth
    def check(self, header: str | None, now: float | None = None) -> str | None:
        """None when the header is good, else the reason it is refused."""
        if not header:
            return "missing X-authenticate header"
        try:
            f = parse_x_authenticate(header)
        except ValueError as exc:
            return f"malformed X-authenticate: {exc}"
        now = time.time() if now is None else now
        user = self.users.get(f["Username"])
        if user is None or user[1] != f["Domain"]:
            return "unknown user or domain"
        nonce = f["Nonce"]
        if len(nonce) < 8 or any(ch not in "0123456789abcdefABCDEF" for ch in nonce):
            return "nonce must be a hex string of at least 8 characters"
        try:
            created = datetime.strptime(f["Created"], CREATED_FORMAT).replace(tzinfo=UTC).timestamp()
        except ValueError:
            return "Created is not YYYY-MM-DDThh:mm:ssZ"
        if abs(now - created) > WINDOW_S:
            return "Created is more than 5 minutes off the PBX clock"
        expect = digest(nonce, digest_password(user[0], self.salts[f["Domain"]]), f["Username"],
                        f["Domain"], f["Created"])
        if not hmac.compare_digest(expect.encode(), f["Digest"].encode()):
            return "wrong digest"
        with self.lock:
            for k in [k for k, t in self.nonces.items() if now - t > WINDOW_S]:
                del self.nonces[k]
            if nonce in self.nonces:
                return "nonce already used"
            self.nonces[nonce] = now
        return None

    # ----------------------------------------------------------------------------- http
    def handler(self) -> type[BaseHTTPRequestHandler]:
        pbx = self

        class Handler(BaseHTTPRequestHandler):
            server_version = "FakeKalliopePBX/1.0"

            def log_message(self, *args) -> None:  # quiet
                pass

            def _send(self, status: int, body: object) -> None:
                data = json.dumps(body, ensure_ascii=False).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
                pbx.requests.append(f"{self.command} {self.path} {status}")

            def do_GET(self) -> None:
                url = urlsplit(self.path)
                parts = [p for p in url.path.split("/") if p]
                if len(parts) == 3 and parts[:2] == ["rest", "salt"]:
                    salt = pbx.salts.get(parts[2])
                    if salt is None:
                        return self._send(404, {"error": "unknown domain"})
                    return self._send(200, {"salt": salt})
                reason = pbx.check(self.headers.get("X-authenticate"))
                if reason:
                    return self._send(401, {"error": reason})
                with pbx.lock:
                    if pbx.fail_next > 0:
                        pbx.fail_next -= 1
                        return self._send(503, {"error": "busy (injected)"})
                if len(parts) == 5 and parts[:3] == ["rest", "phoneServices", "c2c"]:
                    dest, src = parts[3], parts[4]
                    if not (dest.isdigit() and src):
                        return self._send(400, {"error": "c2c/<destination digits>/<extension>"})
                    with pbx.lock:
                        pbx.originated.append((src, dest))
                        n = len(pbx.originated)
                    return self._send(200, {"result": "OK", "call_uuid": f"c2c-{n}"})
                q = {k: v[0] for k, v in parse_qs(url.query).items()}
                if parts in (["rest", "cdr"], ["rest", "callCenterCdr"]):
                    try:
                        day = date(int(q["year"]), int(q["month"]), int(q["day"]))
                    except (KeyError, ValueError):
                        return self._send(400, {"error": "year, month and day are required"})
                    if parts[1] == "cdr":
                        with pbx.lock:
                            return self._send(200, list(pbx.cdr.get(day, [])))
                    if not pbx.cc:
                        return self._send(404, {"error": "no Call Center module"})
                    return self._send(200, pbx.cc.get(day, []))
                return self._send(404, {"error": "not found"})

        return Handler

    def server(self, host: str = "127.0.0.1", port: int = 0) -> ThreadingHTTPServer:
        srv = ThreadingHTTPServer((host, port), self.handler())
        srv.daemon_threads = True
        return srv

    def start(self, host: str = "127.0.0.1", port: int = 0) -> tuple[ThreadingHTTPServer, str]:
        """Serve in a daemon thread; returns the server and its base URL."""
        srv = self.server(host, port)
        threading.Thread(target=srv.serve_forever, name="fake-pbx", daemon=True).start()
        return srv, f"http://{host}:{srv.server_address[1]}"


def demo_data(folder: Path, days: int = 3, calls_per_day: int = 200, seed: int = 7) -> Path:
    from pbxlens.simulate import generate

    generate(folder, days=days, calls_per_day=calls_per_day, seed=seed,
             start=date.today() - timedelta(days=days - 1), formats=["json"])
    return folder
