"""Real servers for tests: ``lumagate serve`` in a subprocess on a loopback port it picks itself.

The server binds port 0 and writes the port it got to ``--port-file``; a restart binds that same
port again, so URLs handed out before a restart stay valid. No free port is guessed in the test
process and handed over (that raced with every other process picking ports).

Each ``lumagate serve`` is a process of its own, forked by the test process's fork server, which
has imported the command once (tests/support/forkserver.py: a server's start-up without the
interpreter's and the imports' CPU); ``FORK_SERVERS=0`` starts each as a new interpreter.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import httpx

from tests.support import forkserver
from tests.support.http import tls
from tests.support.schema_template import seed_sqlite

LUMAGATE = [sys.executable, "-m", "lumagate.cli.main"]
STARTUP_SECONDS = 120.0  # a deadline, not a wait: an exit is noticed at once
# Test servers render sandbox clips at 6 fps (the setting's floor), a quarter of the default's
# frames, in ~0.3 of its CPU (the suite's ~300 renders were a sixth of its CPU at 24; 8 fps took
# ~25 % more than 6); tests that look at the frame rate or need a render under way for a while
# ask for the default's (docs/bench.md).
TEST_SANDBOX_FPS = 6


class ServerProcess(Protocol):
    """What the test servers use of a process: ``subprocess.Popen`` or a forked server."""

    @property
    def pid(self) -> int: ...
    @property
    def returncode(self) -> int | None: ...
    def poll(self) -> int | None: ...
    def wait(self, timeout: float | None = None) -> int: ...
    def send_signal(self, signum: int) -> None: ...
    def terminate(self) -> None: ...
    def kill(self) -> None: ...


def wait_until_up(
    url: str, process: ServerProcess | None, timeout: float = STARTUP_SECONDS
) -> None:
    deadline = time.monotonic() + timeout
    with httpx.Client(timeout=1.0, verify=tls()) as http:  # one client for every poll
        while time.monotonic() < deadline:
            if process is not None and process.poll() is not None:
                raise RuntimeError(f"server exited with {process.returncode} before answering")
            try:
                if http.get(url).status_code < 500:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.05)
    raise TimeoutError(f"{url} did not answer within {timeout} s")


def read_port_file(path: Path, process: ServerProcess, timeout: float = STARTUP_SECONDS) -> int:
    """The port a ``--port-file`` server bound, once it has written it."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.exists():
            return int(path.read_text(encoding="ascii"))
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode} before binding")
        time.sleep(0.05)
    raise TimeoutError(f"no port in {path} within {timeout} s")


def start_listening(
    command: Sequence[str],
    port_file: Path,
    log_path: Path,
    env: dict[str, str] | None = None,
) -> tuple[subprocess.Popen[bytes], int]:
    """Start ``command`` (which gets ``--port-file``) and return it with the port it bound."""
    port_file.unlink(missing_ok=True)
    with log_path.open("ab") as log:
        process = subprocess.Popen(
            [*command, "--port-file", str(port_file)],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    return process, _port_of(process, port_file)


def launch(
    args: Sequence[str], port_file: Path, log_path: Path, env: dict[str, str]
) -> tuple[ServerProcess, int]:
    """``lumagate *args --port-file …`` and the port it bound: forked by this test process's
    fork server (tests/support/forkserver.py), or a new interpreter with ``FORK_SERVERS=0``."""
    if not forkserver.enabled():
        return start_listening([*LUMAGATE, *args], port_file, log_path, env)
    port_file.unlink(missing_ok=True)
    process = forkserver.fork_server().spawn([*args, "--port-file", str(port_file)], env, log_path)
    return process, _port_of(process, port_file)


def _port_of(process: ServerProcess, port_file: Path) -> int:
    try:
        return read_port_file(port_file, process)
    except BaseException:
        process.kill()
        process.wait(timeout=30)
        raise


@dataclass
class GatewayServer:
    """A ``lumagate serve`` process with its own data dir; restartable, killable."""

    data_dir: Path
    env: dict[str, str]
    port: int = 0  # 0 until the first start; restarts bind the same port again
    process: ServerProcess | None = None
    startup_seconds: float = STARTUP_SECONDS
    log_level: str = "warning"  # "info" writes uvicorn's access lines too
    fresh_database: bool = False
    """True: a new SQLite database is migrated by the server itself; False: it starts on a copy
    of a migrated one (tests/support/schema_template.py). PostgreSQL URLs are left alone."""

    def _seed(self) -> None:
        if not self.fresh_database and not self.env.get("LUMAGATE_DATABASE_URL"):
            seed_sqlite(self.data_dir)

    @property
    def base_url(self) -> str:
        assert self.port, "the server has not been started yet"
        return f"http://127.0.0.1:{self.port}"

    @property
    def log_path(self) -> Path:
        return self.data_dir / "server.log"

    def cli(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        """``lumagate *args`` with this server's settings, in a process of its own (forked
        like the servers, or a new interpreter with ``FORK_SERVERS=0``)."""
        self._seed()
        if not forkserver.enabled():
            return subprocess.run(
                [*LUMAGATE, *args],
                env=self.env,
                capture_output=True,
                text=True,
                check=check,
                timeout=120,
            )
        return forkserver.run(list(args), self.env, check=check, timeout=120)

    def cli_in_process(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        """The same ``lumagate`` command run in this process (:func:`cli_in_process` with this
        server's settings), for set-up steps (adding accounts) and for commands whose process
        the test is not about. Fails like :meth:`cli` when ``check`` is set."""
        self._seed()
        result = cli_in_process(self.env, *args)
        if check and result.returncode != 0:
            raise subprocess.CalledProcessError(
                result.returncode, result.args, result.stdout, result.stderr
            )
        return result

    def create_key(self, name: str = "tenant", *extra: str) -> str:
        """A new tenant key (``extra``: ``lumagate keys create`` options).

        Through ``POST /admin/keys`` while the server runs (the same service as the CLI, without
        a CLI start-up per key); through ``lumagate keys create`` (in this process) otherwise.
        """
        if self.process is None:
            result = self.cli_in_process("keys", "create", "--name", name, *extra)
            return result.stdout.strip().splitlines()[-1]
        key: str = self.create_tenant(name, *extra)["key"]
        return key

    def create_tenant(self, name: str, *extra: str) -> dict[str, Any]:
        """``POST /admin/keys`` on the running server: the key, its webhook secret and limits."""
        body: dict[str, object] = {"name": name, **_key_options(extra)}
        response = httpx.post(
            f"{self.base_url}/admin/keys",
            json=body,
            headers={"Authorization": f"Bearer {self.admin_key()}"},
            timeout=30.0,
            verify=tls(),
        )
        assert response.status_code == 201, response.text
        created: dict[str, Any] = response.json()
        return created

    def admin_key(self) -> str:
        configured = self.env.get("LUMAGATE_ADMIN_KEY")
        return configured or (self.data_dir / "admin.key").read_text().strip()

    def start(self) -> GatewayServer:
        self._seed()
        args = ["serve", "--host", "127.0.0.1", "--port", str(self.port)]
        args += ["--log-level", self.log_level]
        port_file = self.data_dir / "server.port"
        self.process, self.port = launch(args, port_file, self.log_path, self.env)
        wait_until_up(self.base_url + "/healthz", self.process, timeout=self.startup_seconds)
        return self

    def stop(self) -> int | None:
        """SIGTERM and wait: the clean shutdown path."""
        if self.process is None:
            return None
        self.process.send_signal(signal.SIGTERM)
        try:
            code = self.process.wait(timeout=60)  # a loaded machine can be slow to drain
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
        path = self.log_path
        return path.read_text(errors="replace") if path.exists() else ""


# ``lumagate keys create`` options and how ``POST /admin/keys`` names and types them.
_KEY_OPTIONS = {
    "--credits": ("credits", int),
    "--channels": ("channels", str),
    "--rpm": ("rpm", int),
    "--max-running": ("max_running", int),
    "--expires-days": ("expires_days", float),
    "--deadline-minutes": ("deadline_minutes", int),
}


def cli_in_process(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    """``lumagate *args`` run in this process by Typer's runner, with only ``env``'s
    ``LUMAGATE_*`` settings (and its ``COLUMNS``, ``NO_COLOR``, ``TERM``): the command's own
    code, stdout, stderr and exit code without an interpreter start-up (~1 s of CPU). An
    exception the command does not handle fails the test, as a traceback would show on stderr."""
    from typer.testing import CliRunner

    from lumagate.cli.main import app

    settings: dict[str, str | None] = {k: None for k in os.environ if k.startswith("LUMAGATE_")}
    settings.update({k: v for k, v in env.items() if k.startswith("LUMAGATE_") or k in _TERMINAL})
    result = CliRunner().invoke(
        app, list(args), env=settings, prog_name="lumagate", catch_exceptions=False
    )
    return subprocess.CompletedProcess(
        ["lumagate", *args], result.exit_code, result.stdout, result.stderr
    )


_TERMINAL = ("COLUMNS", "NO_COLOR", "TERM")


def _key_options(args: Sequence[str]) -> dict[str, object]:
    """``["--credits", "100"]`` -> ``{"credits": 100}`` (only options the API also takes)."""
    assert len(args) % 2 == 0, f"options come in pairs: {args}"
    options: dict[str, object] = {}
    for flag, value in zip(args[::2], args[1::2], strict=True):
        name, kind = _KEY_OPTIONS[flag]
        options[name] = kind(value)
    return options


def server_env(data_dir: Path, *, render_default: bool = False, **settings: str) -> dict[str, str]:
    """The environment of a test server on ``data_dir``: the test process's own minus its
    ``LUMAGATE_*`` settings, plus ``settings``. Sandbox clips are rendered at
    :data:`TEST_SANDBOX_FPS` unless ``render_default`` (the tests of what a default install
    renders, and those that interrupt renders: they need renders that last) or ``sandbox_fps``
    is given."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("LUMAGATE_")}
    env["LUMAGATE_DATA_DIR"] = str(data_dir)
    if not render_default:
        settings.setdefault("sandbox_fps", str(TEST_SANDBOX_FPS))
    for name, value in settings.items():
        env[f"LUMAGATE_{name.upper()}"] = value
    return env
