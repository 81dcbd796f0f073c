"""What the benchmarks run against: ``lumagate sim`` in-process and ``lumagate serve`` as a
subprocess with accounts added by the real CLI, over loopback only.
"""

from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from cryptography.fernet import Fernet

from lumagate.sim import SimConfig
from lumagate.sim.testing import SimServer

LUMAGATE = [sys.executable, "-m", "lumagate.cli.main"]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Gateway:
    base_url: str
    env: dict[str, str]
    key: str
    pid: int = 0
    started_seconds: float = 0.0
    data_dir: str = ""

    @property
    def database_url(self) -> str:
        explicit = self.env.get("LUMAGATE_DATABASE_URL")
        return explicit or f"sqlite+aiosqlite:///{Path(self.data_dir) / 'lumagate.db'}"

    def client(self) -> httpx.Client:
        return httpx.Client(
            base_url=self.base_url,
            headers={"Authorization": f"Bearer {self.key}"},
            timeout=30,
            trust_env=False,
        )


@dataclass
class Server:
    """A server process the bench started: where it answers, its pid, how long it took."""

    base_url: str
    pid: int
    started_seconds: float


def _cli(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [*LUMAGATE, *args], env=env, capture_output=True, text=True, check=True, timeout=120
    )
    return done.stdout.strip().splitlines()[-1] if done.stdout.strip() else ""


@contextmanager
def sim_server(**config: Any) -> Iterator[SimServer]:
    with (
        tempfile.TemporaryDirectory(prefix="bench-sim-") as media,
        SimServer(SimConfig(media_dir=Path(media), **config)) as server,
    ):
        yield server


@contextmanager
def serve(command: Sequence[str], env: dict[str, str], port: int, log: Path) -> Iterator[Server]:
    """Start ``command`` (a server on ``port``), wait for ``/healthz``, stop it with SIGTERM."""
    base_url = f"http://127.0.0.1:{port}"
    with open(log, "ab") as out:
        began = time.monotonic()
        process = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT)
        try:
            _wait_up(base_url + "/healthz", process)
            yield Server(base_url, process.pid, time.monotonic() - began)
        finally:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)


@contextmanager
def bare_server(log_level: str = "info") -> Iterator[Server]:
    """The baseline Starlette app (``bench/bare_app.py``) under the same uvicorn settings."""
    with tempfile.TemporaryDirectory(prefix="bench-bare-") as scratch:
        port = free_port()
        command = [sys.executable, "-m", "bench.bare_app", "--port", str(port)]
        with serve(
            [*command, "--log-level", log_level], dict(os.environ), port, Path(scratch) / "bare.log"
        ) as server:
            yield server


@contextmanager
def gateway(
    accounts: Sequence[Sequence[str]],
    *,
    log_level: str = "warning",
    database_url: str | None = None,
    **settings: str,
) -> Iterator[Gateway]:
    """A running gateway with ``accounts`` (``lumagate accounts add`` argument lists)."""
    with tempfile.TemporaryDirectory(prefix="bench-gw-") as data_dir:
        port = free_port()
        base_url = f"http://127.0.0.1:{port}"
        env = {k: v for k, v in os.environ.items() if not k.startswith("LUMAGATE_")}
        values = {
            "data_dir": data_dir,
            "public_url": base_url,
            "sandbox_enabled": "false",
            "dispatch_interval_seconds": "0.2",
            **settings,
        }
        if database_url:
            # Replicas of one PostgreSQL database share these; a gateway refuses to start
            # there without them (docs/replicas.md).
            values["database_url"] = database_url
            values["secret_key"] = Fernet.generate_key().decode("ascii")
            values["admin_key"] = "sk-lg-admin-bench-" + secrets.token_urlsafe(16)
        env.update({f"LUMAGATE_{k.upper()}": v for k, v in values.items()})
        for args in accounts:
            _cli(env, "accounts", "add", *args)
        key = _cli(env, "keys", "create", "--name", "bench")
        command = [*LUMAGATE, "serve", "--port", str(port), "--log-level", log_level]
        with serve(command, env, port, Path(data_dir) / "server.log") as server:
            yield Gateway(base_url, env, key, server.pid, server.started_seconds, data_dir)


def _wait_up(url: str, process: subprocess.Popen[bytes], timeout: float = 180.0) -> None:
    """Poll ``url`` every 20 ms until it answers 200. One client for every probe: a fresh
    ``httpx.get`` builds a client and its TLS context each time (~35 ms of CPU, 60-120 ms of
    wall on the shared machine), which made the probes ~100 ms apart and took CPU from the
    server being timed."""
    deadline = time.monotonic() + timeout
    with httpx.Client(timeout=1.0, trust_env=False) as probe:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError("the server exited during start-up")
            try:
                if probe.get(url).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.02)
    raise TimeoutError(f"{url} did not answer")


def run_tasks(gw: Gateway, prompts: Sequence[str], deadline: float = 600.0) -> dict[str, str]:
    """Create one task per prompt at once and wait for all; id → final state."""
    with gw.client() as http:
        ids = [
            http.post("/luma/generations", json={"user_prompt": p}).json()["id"] for p in prompts
        ]
        states: dict[str, str] = {}
        stop = time.monotonic() + deadline
        while len(states) < len(ids):
            if time.monotonic() > stop:
                raise TimeoutError(f"{len(ids) - len(states)} tasks did not finish")
            pending = [i for i in ids if i not in states]
            for start in range(0, len(pending), 100):
                answer = http.post("/luma/tasks", json={"ids": pending[start : start + 100]})
                for record in answer.json()["data"]:
                    if record["data"]["state"] in ("completed", "failed"):
                        states[record["id"]] = record["data"]["state"]
            time.sleep(1.0)
    return states


def calls_by_route(sim: SimServer, credential: str) -> dict[str, int]:
    with sim.client() as debug:
        routes: dict[str, int] = debug.get("/_sim/stats").json()[credential]["routes"]
    return routes
