"""``lumagate generate`` and ``lumagate tasks`` against a real gateway, run as a user runs them.

The progress bar is watched in a real terminal: the command runs in a tmux pane and the pane
is captured while it runs (skipped, with the reason, only where tmux is not installed). Each
behaviour of the process runs once as a subprocess of the console script (the task id printed,
a refused key, an unreachable gateway: the exit code and one line on stderr); the commands
that follow up on it (``tasks list`` and ``tasks show``) run in process
(``tests.support.servers.cli_in_process``: the same code, stdout, stderr and exit code).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.acceptance import decode_mp4, start_server
from tests.support.ports import free_port
from tests.support.servers import GatewayServer, cli_in_process

pytestmark = pytest.mark.slow

LUMAGATE = str(Path(sys.executable).parent / "lumagate")
DEADLINE_SECONDS = 120.0


def _run(server: GatewayServer, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**server.env, "COLUMNS": "200", "NO_COLOR": "1"}
    return subprocess.run(
        [LUMAGATE, *args], env=env, capture_output=True, text=True, timeout=180, check=False
    )


def _run_in_process(server: GatewayServer, *args: str) -> subprocess.CompletedProcess[str]:
    return cli_in_process({**server.env, "COLUMNS": "200", "NO_COLOR": "1"}, *args)


def _lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.strip()]


@pytest.fixture(scope="module")
def gateway_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GatewayServer]:
    """A running ``lumagate serve`` on SQLite with the sandbox (fast refresh), shared by the
    module: each test makes its own key and tasks and looks only at those."""
    server = start_server(tmp_path_factory.mktemp("generate") / "data")
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def tenant_key(gateway_server: GatewayServer) -> str:
    return gateway_server.create_key("terminal")


class Pane:
    """A detached tmux session on a private socket, 120x30, running one shell."""

    def __init__(self, env: dict[str, str]) -> None:
        self.socket = f"lumagate-test-{uuid.uuid4().hex[:8]}"
        self.env = env
        self._tmux("new-session", "-d", "-s", "main", "-x", "120", "-y", "30")

    def _tmux(self, *args: str) -> str:
        result = subprocess.run(
            ["tmux", "-L", self.socket, *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=30,
            check=True,
        )
        return result.stdout

    def type(self, line: str) -> None:
        self._tmux("send-keys", "-t", "main", line, "Enter")

    def capture(self) -> str:
        return self._tmux("capture-pane", "-p", "-t", "main", "-S", "-100")

    def close(self) -> None:
        subprocess.run(["tmux", "-L", self.socket, "kill-server"], capture_output=True, check=False)


@pytest.fixture
def pane(gateway_server: GatewayServer) -> Iterator[Pane]:
    if shutil.which("tmux") is None:
        pytest.skip("tmux is not installed (apt-get install -y tmux; .ci/run installs it)")
    terminal = Pane({**gateway_server.env, "TERM": "xterm-256color", "NO_COLOR": "1"})
    try:
        yield terminal
    finally:
        terminal.close()


def _watch(pane: Pane, marker: str) -> list[str]:
    """Every distinct screen of the pane until ``marker`` shows (with a deadline)."""
    screens: list[str] = []
    deadline = time.monotonic() + DEADLINE_SECONDS
    while time.monotonic() < deadline:
        screen = pane.capture()
        if not screens or screens[-1] != screen:
            screens.append(screen)
        if marker in screen:
            return screens
        time.sleep(0.05)  # the capture rate, not a wait for a condition
    raise AssertionError(f"{marker!r} never appeared; last screen:\n{screens[-1]}")


def test_generate_wait_shows_progress_and_saves_a_decodable_mp4(
    gateway_server: GatewayServer, tenant_key: str, pane: Pane, tmp_path: Path
) -> None:
    out = tmp_path / "fox.mp4"
    pane.type(
        f"{LUMAGATE} generate 'a red fox running' --wait --out {out} "
        f'--url {gateway_server.base_url} --key {tenant_key}; echo EXIT""=$?'
    )
    screens = _watch(pane, "EXIT=")
    final = screens[-1]
    assert "EXIT=0" in final, final
    stages = re.findall(r"task [0-9a-f-]{36}: (\w+)", final)
    assert stages[0] == "queued" and stages[-1] == "completed", final
    assert "done: saved 1280x720" in final
    running = [s for s in screens if "queued" in s and "completed" not in s]
    assert running, "the pane was never seen while the task was still running"
    assert any(re.search(r"\b\d{1,3}%", s) for s in running), "no progress bar while running"
    assert re.search(r"completed\s.*100%", final), final
    video = decode_mp4(out.read_bytes())
    assert (video.width, video.height) == (1280, 720) and video.frames > 0


def test_generate_without_wait_prints_the_task_id(
    gateway_server: GatewayServer, tenant_key: str
) -> None:
    result = _run(
        gateway_server,
        "generate",
        "a heron",
        "--aspect-ratio",
        "1:1",
        "--url",
        gateway_server.base_url,
        "--key",
        tenant_key,
    )
    assert result.returncode == 0, result
    task_id = result.stdout.strip()
    assert re.fullmatch(r"[0-9a-f-]{36}", task_id), result.stdout
    listed = _run_in_process(
        gateway_server, "tasks", "list", "--json", "--url", gateway_server.base_url
    )
    assert listed.returncode == 0, listed
    page = json.loads(listed.stdout)
    assert task_id in [t["id"] for t in page["data"]] and page["total"] >= 1
    shown = _run_in_process(
        gateway_server, "tasks", "show", task_id, "--json", "--url", gateway_server.base_url
    )
    assert shown.returncode == 0, shown
    task = json.loads(shown.stdout)
    assert task["id"] == task_id and task["request"]["aspect_ratio"] == "1:1"
    table = _run_in_process(gateway_server, "tasks", "list", "--url", gateway_server.base_url)
    assert table.returncode == 0 and task_id[:8] in table.stdout


def test_wrong_key_is_one_clear_line(gateway_server: GatewayServer) -> None:
    result = _run(
        gateway_server,
        "generate",
        "a fox",
        "--wait",
        "--url",
        gateway_server.base_url,
        "--key",
        "sk-lg-not-a-real-key",
    )
    assert result.returncode == 3
    assert _lines(result.stderr) == [result.stderr.strip()], result.stderr
    assert "refused the key" in result.stderr and "Traceback" not in result.stderr
    assert result.stdout == ""


def test_unreachable_gateway_is_one_clear_line(gateway_server: GatewayServer) -> None:
    closed = f"http://127.0.0.1:{free_port()}"
    result = _run(gateway_server, "generate", "a fox", "--url", closed, "--key", "sk-lg-x")
    assert result.returncode == 4
    assert _lines(result.stderr) == [result.stderr.strip()], result.stderr
    assert f"cannot reach the gateway at {closed}" in result.stderr
    tasks = _run_in_process(gateway_server, "tasks", "list", "--url", closed)
    assert tasks.returncode == 4 and len(_lines(tasks.stderr)) == 1


def test_tasks_with_a_wrong_admin_key(gateway_server: GatewayServer) -> None:
    result = _run_in_process(
        gateway_server, "tasks", "list", "--url", gateway_server.base_url, "--admin-key", "nope"
    )
    assert result.returncode == 3
    assert _lines(result.stderr) == [result.stderr.strip()] and "refused the key" in result.stderr
