"""A small local HTTP receiver for the stand-ins' webhook deliveries: it keeps every request."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Received:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


class Receiver:
    """``with Receiver() as hooks: hooks.url`` ... ``hooks.wait(1)``; answers every request 200
    (after ``answer_after`` seconds)."""

    def __init__(self, *, answer_after: float = 0.0) -> None:
        self.received: list[Received] = []
        self.lock = threading.Lock()
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def _keep(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                with owner.lock:
                    owner.received.append(Received(self.command, self.path, dict(self.headers.items()),
                                                   body))
                time.sleep(answer_after)  # a slow receiver
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            do_POST = do_HEAD = do_PUT = _keep

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_port}"

    def posts(self) -> list[Received]:
        with self.lock:
            return [r for r in self.received if r.method == "POST"]

    def wait(self, count: int, timeout: float = 5.0) -> list[Received]:
        """The POSTs once at least ``count`` have arrived (or whatever came within ``timeout``)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            posts = self.posts()
            if len(posts) >= count:
                return posts
            time.sleep(0.02)
        return self.posts()

    def quiet(self, seconds: float = 0.5) -> list[Received]:
        """The POSTs after ``seconds`` of waiting (to see that nothing more arrives)."""
        time.sleep(seconds)
        return self.posts()

    def clear(self) -> None:
        with self.lock:
            self.received.clear()

    def __enter__(self) -> Receiver:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
