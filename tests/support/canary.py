"""A loopback HTTP canary for SSRF tests: counts every request it receives on any of its addresses.

``Canary(addresses)`` listens on one port on each address it can bind (127.0.0.1, and [::1] and
127.0.0.2 when the host has them). ``GET /image.png`` answers a small PNG; ``GET /redirect?to=U``
answers 302 to ``U``; anything else 404. ``hits`` lists the paths asked, so a test can show the
gateway never came.
"""

from __future__ import annotations

import io
import socket
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from PIL import Image


def small_png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 36), (200, 40, 40)).save(buffer, format="PNG")
    return buffer.getvalue()


PNG = small_png()


class _Server(ThreadingHTTPServer):
    daemon_threads = True


class _Server6(_Server):
    address_family = socket.AF_INET6


@dataclass
class Canary:
    """Loopback listeners sharing one port; see the module docstring."""

    addresses: Iterable[str] = ("127.0.0.1", "::1", "127.0.0.2")
    hits: list[str] = field(default_factory=list)
    port: int = 0
    bound: list[str] = field(default_factory=list)
    _servers: list[ThreadingHTTPServer] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def start(self) -> Canary:
        for address in self.addresses:
            kind = _Server6 if ":" in address else _Server
            try:
                server = kind((address, self.port), self._handler())
            except OSError:
                continue  # this host has no such loopback address
            self.port = int(server.server_address[1])
            self.bound.append(address)
            self._servers.append(server)
            threading.Thread(target=server.serve_forever, daemon=True).start()
        assert self.bound, "no loopback address could be bound"
        return self

    def url(self, path: str = "/image.png", host: str = "127.0.0.1") -> str:
        return f"http://{host}:{self.port}{path}"

    def stop(self) -> None:
        for server in self._servers:
            server.shutdown()
            server.server_close()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        canary = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                with canary._lock:
                    canary.hits.append(self.path)
                parts = urlsplit(self.path)
                if parts.path == "/image.png":
                    self._answer(200, PNG, [("content-type", "image/png")])
                elif parts.path == "/redirect":
                    target = parse_qs(parts.query).get("to", ["/"])[0]
                    self._answer(302, b"", [("location", target)])
                else:
                    self._answer(404, b"", [])

            def _answer(self, status: int, body: bytes, headers: list[tuple[str, str]]) -> None:
                self.send_response(status)
                for name, value in headers:
                    self.send_header(name, value)
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_POST = do_GET

            def log_message(self, format: str, *args: object) -> None:
                pass

        return Handler
