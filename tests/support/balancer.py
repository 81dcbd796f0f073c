"""A round-robin load balancer for replica tests: what ``LUMAGATE_PUBLIC_URL`` names.

A threaded HTTP proxy on a loopback port; each request goes to the next replica, and to the
one after it when a replica refuses the connection (it was killed), as a real balancer's
health checks would arrange. Bodies are small in tests, so they are read whole.
"""

from __future__ import annotations

import itertools
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx

from tests.support.http import tls

HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "te", "upgrade", "host"}


class Balancer:
    """``url`` forwards to ``backends`` (set them once the replicas have their ports)."""

    def __init__(self) -> None:
        self.backends: list[str] = []
        self._turn = itertools.count()
        self._client = httpx.Client(timeout=60.0, verify=tls())
        balancer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:
                pass

            def _forward(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
                try:
                    response = balancer.send(self.command, self.path, headers, body)
                except RuntimeError as exc:  # every replica is down: what a balancer says
                    response = httpx.Response(502, text=str(exc))
                self.send_response(response.status_code)
                for name, value in response.headers.multi_items():
                    if name.lower() not in HOP_BY_HOP | {"content-length", "content-encoding"}:
                        self.send_header(name, value)
                self.send_header("Content-Length", str(len(response.content)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(response.content)

            do_GET = do_HEAD = do_POST = do_PUT = do_DELETE = do_PATCH = _forward

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def start(self) -> Balancer:
        self._thread.start()
        return self

    def send(
        self, method: str, path: str, headers: dict[str, str], body: bytes | None
    ) -> httpx.Response:
        backends = list(self.backends)
        first = next(self._turn)
        error: Exception | None = None
        for step in range(len(backends)):
            backend = backends[(first + step) % len(backends)]
            try:
                return self._client.request(method, backend + path, headers=headers, content=body)
            except httpx.ConnectError as exc:  # a dead replica: the next one answers
                error = exc
        raise RuntimeError(f"no replica answered {method} {path}: {error!r}")

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._client.close()
