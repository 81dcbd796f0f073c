"""Run the sim inside a test or benchmark process: uvicorn on a free loopback port, in a thread.

Tests must talk to the sim over real HTTP (that is what the gateway does), so this starts a real
server rather than an in-process transport. ``CallbackRecorder`` is the matching tiny receiver
for official-API callbacks.
"""

from __future__ import annotations

import json
import socket
import ssl
import threading
import time
from collections.abc import Callable
from functools import cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import certifi
import httpx
import uvicorn
from fastapi import FastAPI

from lumagate.sim.app import create_sim_app
from lumagate.sim.config import SimConfig
from lumagate.sim.runtime import SimRuntime


class SimServer:
    """A sim app served by uvicorn in a daemon thread; use as a context manager."""

    def __init__(self, config: SimConfig | None = None, host: str = "127.0.0.1") -> None:
        self.config = config or SimConfig()
        self.host = host
        self.app: FastAPI = create_sim_app(self.config)
        self.port = 0
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def runtime(self) -> SimRuntime:
        runtime: SimRuntime = self.app.state.sim_runtime
        return runtime

    def start(self, startup_timeout: float = 10.0) -> SimServer:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.host, 0))
        self.port = int(sock.getsockname()[1])
        server = uvicorn.Server(
            uvicorn.Config(
                self.app,
                log_level="warning",
                lifespan="on",
                access_log=False,
                timeout_graceful_shutdown=2,
            )
        )
        thread = threading.Thread(
            target=server.run, kwargs={"sockets": [sock]}, name="lumagate-sim", daemon=True
        )
        self._server, self._thread = server, thread
        thread.start()
        deadline = time.monotonic() + startup_timeout
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("the sim server did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10.0)
        self._server = self._thread = None

    def client(self, **kwargs: Any) -> httpx.Client:
        """An httpx client for this sim (proxies from the environment are ignored)."""
        kwargs.setdefault("timeout", 10.0)
        kwargs.setdefault("verify", _client_tls())
        return httpx.Client(base_url=self.base_url, trust_env=False, **kwargs)

    def __enter__(self) -> SimServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


@cache
def _client_tls() -> ssl.SSLContext:
    """httpx's default context, built once: each new client would otherwise load certifi's CA
    bundle (~20-50 ms of CPU) to talk plain HTTP to a sim on loopback; tests open hundreds."""
    return ssl.create_default_context(cafile=certifi.where())


StartSim = Callable[..., SimServer]
"""A fixture-style factory: keyword overrides of ``SimConfig`` in, a started ``SimServer`` out."""


class CallbackRecorder:
    """Records JSON POSTed to it; answers ``fail_first`` of them per state with 500."""

    def __init__(self, fail_first: dict[str, int] | None = None) -> None:
        self.received: list[dict[str, Any]] = []
        self.attempts = 0
        self._fail_left = dict(fail_first or {})
        self._lock = threading.Lock()
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                payload = json.loads(self.rfile.read(length) or b"{}")
                status = recorder._accept(payload)
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                return

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    def _accept(self, payload: dict[str, Any]) -> int:
        with self._lock:
            self.attempts += 1
            state = str(payload.get("state"))
            if self._fail_left.get(state, 0) > 0:
                self._fail_left[state] -= 1
                return 500
            self.received.append(payload)
            return 200

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._httpd.server_address[1]}/hook"

    def states_for(self, generation_id: str) -> list[str]:
        with self._lock:
            return [str(p["state"]) for p in self.received if p.get("id") == generation_id]

    def __enter__(self) -> CallbackRecorder:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
