"""Real servers for tests: ``lumagate serve`` in a subprocess on a free loopback port."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

LUMAGATE = [sys.executable, "-m", "lumagate.cli.main"]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until_up(url: str, process: subprocess.Popen[bytes] | None, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode} before answering")
        try:
            if httpx.get(url, timeout=1.0).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise TimeoutError(f"{url} did not answer within {timeout} s")


@dataclass
class GatewayServer:
    """A ``lumagate serve`` process with its own data dir; restartable, killable."""

    data_dir: Path
    env: dict[str, str]
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None
    startup_seconds: float = 30.0
    log_level: str = "warning"  # "info" writes uvicorn's access lines too

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def cli(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*LUMAGATE, *args],
            env=self.env,
            capture_output=True,
            text=True,
            check=check,
            timeout=120,
        )

    def create_key(self, name: str = "tenant", *extra: str) -> str:
        result = self.cli("keys", "create", "--name", name, *extra)
        return result.stdout.strip().splitlines()[-1]

    def start(self) -> GatewayServer:
        log = (self.data_dir / "server.log").open("ab")
        self.process = subprocess.Popen(
            [
                *LUMAGATE,
                "serve",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--log-level",
                self.log_level,
            ],
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        wait_until_up(self.base_url + "/healthz", self.process, timeout=self.startup_seconds)
        return self

    def stop(self) -> int | None:
        """SIGTERM and wait: the clean shutdown path."""
        if self.process is None:
            return None
        self.process.send_signal(signal.SIGTERM)
        try:
            code = self.process.wait(timeout=30)
        finally:
            if self.process.poll() is None:
                self.process.kill()
        self.process = None
        return code

    def kill(self) -> None:
        """``kill -9``: no shutdown code runs."""
        if self.process is not None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=30)
            self.process = None

    def log_text(self) -> str:
        path = self.data_dir / "server.log"
        return path.read_text(errors="replace") if path.exists() else ""


def server_env(data_dir: Path, **settings: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LUMAGATE_")}
    env["LUMAGATE_DATA_DIR"] = str(data_dir)
    for name, value in settings.items():
        env[f"LUMAGATE_{name.upper()}"] = value
    return env
