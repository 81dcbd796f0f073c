"""Crash safety: ``kill -9`` or SIGTERM mid-work, restart on the same data dir, and every task
still completes exactly once (the sandbox logs each finished render in ``renders.log``)."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.acceptance import DEADLINE_SECONDS, client, start_server
from tests.support.databases import ServerDatabase
from tests.support.servers import GatewayServer

pytestmark = pytest.mark.slow

TASKS = 12  # the kill point needs 5 unfinished and 1 done: 12 leave a wide window for it
RECOVERY_SECONDS = 200.0  # up to 20 renders after the restart, on a busy 2-core machine
STATE_POLL_SECONDS = 0.5  # one batch query reads all tasks; keep its load modest


@pytest.fixture
def slow_server(tmp_path: Path, server_database: ServerDatabase) -> Iterator[GatewayServer]:
    """Two renders at a time, so a burst of tasks is spread over pending/processing/completed.
    Leases of 5 s, not 30: on PostgreSQL a killed process's render leases are taken over only
    once they expire (on SQLite at once), and the restart would wait that long for nothing.
    Clips at the default 24 fps, not the test servers' 6: the kill must find renders under way,
    and a 6 fps clip renders within one poll of the states."""
    server = start_server(
        tmp_path / "data",
        **server_database(),
        render_default=True,
        sandbox_concurrency="2",
        lease_seconds="5",
    )
    try:
        yield server
    finally:
        if server.process is not None:
            server.kill()


def _renders(server: GatewayServer) -> list[str]:
    """One line per finished render: the sandbox generation id ``sbx-<task id>``."""
    log = server.data_dir / "sandbox" / "renders.log"
    if not log.exists():
        return []
    return [line.strip() for line in log.read_text().splitlines() if line.strip()]


def _states(http: httpx.Client, ids: list[str]) -> dict[str, str]:
    response = http.post("/luma/tasks", json={"ids": ids})
    assert response.status_code == 200, response.text
    found = {r["id"]: r["data"]["state"] for r in response.json()["data"]}
    assert set(found) == set(ids), "a task went missing"
    return found


def _wait_states(
    http: httpx.Client,
    ids: list[str],
    done: Callable[[Counter[str]], bool],
    timeout: float = DEADLINE_SECONDS,
) -> Counter[str]:
    deadline = time.monotonic() + timeout
    counts: Counter[str] = Counter()
    while time.monotonic() < deadline:
        counts = Counter(_states(http, ids).values())
        assert counts["failed"] == 0, counts
        if done(counts):
            return counts
        time.sleep(STATE_POLL_SECONDS)
    raise AssertionError(f"states never got there within {timeout} s: {dict(counts)}")


def _submit(http: httpx.Client, count: int, nine_every: int) -> list[str]:
    ids = []
    for i in range(count):
        body = {
            "user_prompt": f"crash test {i}",
            "aspect_ratio": "1:1",
            "resolution": "540p",
            "duration": "9s" if i % nine_every == nine_every - 1 else "5s",
        }
        response = http.post("/luma/generations", json=body)
        assert response.status_code == 200, response.text
        ids.append(response.json()["id"])
    return ids


def _assert_each_rendered_once(server: GatewayServer, ids: list[str]) -> None:
    renders = Counter(_renders(server))
    twice = {name: n for name, n in renders.items() if n > 1}
    assert not twice, f"rendered more than once: {twice}"
    assert set(renders) == {f"sbx-{task_id}" for task_id in ids}


def _assert_all_playable(http: httpx.Client, ids: list[str]) -> None:
    for task_id in ids:
        task = http.get(f"/luma/generations/{task_id}").json()
        assert task["state"] == "completed"
        head = http.head(task["video"]["download_url"])
        assert head.status_code == 200 and int(head.headers["content-length"]) > 1000


def test_kill_9_mid_work_then_restart_renders_each_task_once(slow_server: GatewayServer) -> None:
    server = slow_server
    key = server.create_key("crash")
    with client(server.base_url, key) as http:
        ids = _submit(http, TASKS, nine_every=4)
        before = _wait_states(
            http,
            ids,
            lambda c: (
                c["completed"] >= 1 and c["processing"] >= 1 and c["pending"] + c["processing"] >= 5
            ),
        )
    server.kill()
    rendered_at_kill = len(_renders(server))
    assert rendered_at_kill < TASKS, f"nothing left to recover (states were {dict(before)})"

    server.start()
    with client(server.base_url, key) as http:
        _wait_states(http, ids, lambda c: c["completed"] == TASKS, timeout=RECOVERY_SECONDS)
        _assert_each_rendered_once(server, ids)
        _assert_all_playable(http, ids)
    # A clean stop waits for renders in flight, so a late duplicate would show up now.
    assert server.stop() == 0
    _assert_each_rendered_once(server, ids)


def test_sigterm_exits_0_and_a_restart_finishes_the_rest(slow_server: GatewayServer) -> None:
    server = slow_server
    key = server.create_key("sigterm")
    with client(server.base_url, key) as http:
        ids = _submit(http, 6, nine_every=6)
        _wait_states(
            http, ids, lambda c: c["completed"] >= 1 and c["pending"] + c["processing"] >= 2
        )
    assert server.stop() == 0, server.log_text()[-3000:]
    assert len(_renders(server)) < len(ids)
    assert "Traceback" not in server.log_text(), server.log_text()[-3000:]

    server.start()
    with client(server.base_url, key) as http:
        _wait_states(http, ids, lambda c: c["completed"] == len(ids))
        _assert_each_rendered_once(server, ids)
        _assert_all_playable(http, ids)
