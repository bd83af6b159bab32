"""Real servers for delivery tests: an SMTP server (aiosmtpd) that keeps what it receives, and
an HTTP webhook receiver (the standard library's server in a thread) that keeps the JSON posted
to it and can be told to fail."""

from __future__ import annotations

import json
import socket
import threading
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class SmtpSink:
    port: int
    messages: list[tuple[list[str], EmailMessage]] = field(default_factory=list)

    def wait_for(self, n: int, seconds: float = 30) -> list[tuple[list[str], EmailMessage]]:
        import time

        deadline = time.time() + seconds
        while len(self.messages) < n and time.time() < deadline:
            time.sleep(0.05)
        return list(self.messages)


class smtp_server:
    """`with smtp_server() as sink:` a local SMTP server on a free port."""

    def __enter__(self) -> SmtpSink:
        from aiosmtpd.controller import Controller

        self.sink = sink = SmtpSink(free_port())

        class Keep:
            async def handle_DATA(self, server, session, envelope):
                sink.messages.append((sorted(envelope.rcpt_tos), message_from_bytes(
                    envelope.content, policy=policy.default)))
                return "250 OK"

        self.ctl = Controller(Keep(), hostname="127.0.0.1", port=sink.port)
        self.ctl.start()
        return sink

    def __exit__(self, *exc) -> None:
        self.ctl.stop()


def use_smtp(monkeypatch, port: int, sender: str = "reports@pbxlens.test") -> None:
    """Point the settings at the local SMTP server (and keep retries fast)."""
    from pbxlens.config import get_settings

    s = get_settings()
    for k, v in {"smtp_enabled": True, "smtp_host": "127.0.0.1", "smtp_port": port,
                 "smtp_from": sender, "delivery_backoff_s": 0.0,
                 "delivery_backoff_max_s": 0.0}.items():
        monkeypatch.setattr(s, k, v)


@dataclass
class Receiver:
    url: str
    posts: list[dict] = field(default_factory=list)
    status: int = 200  # what the receiver answers

    def wait_for(self, n: int, seconds: float = 30) -> list[dict]:
        import time

        deadline = time.time() + seconds
        while len(self.posts) < n and time.time() < deadline:
            time.sleep(0.05)
        return list(self.posts)


class webhook_server:
    """`with webhook_server() as rx:` a local HTTP server keeping each JSON body posted."""

    def __enter__(self) -> Receiver:
        port = free_port()
        self.rx = rx = Receiver(f"http://127.0.0.1:{port}/hook")

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                rx.posts.append({"path": self.path, "type": self.headers.get("Content-Type"),
                                 "json": json.loads(body or b"null")})
                self.send_response(rx.status)
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *_args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        return rx

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
