"""The upstream pool end to end: ``lumagate serve`` + ``lumagate sim``, both as subprocesses.

Three runs over two official keys and one web session, each account limited to 2 at once:

- load: 200 tasks all complete, and the sim never saw more than 2 running on any account;
- faults: 10% of upstream calls answer 500, one key gets 429s (it may run 3, the sim allows 2),
  the web session is killed mid-run: every task ends completed or failed with a reason;
- crash: ``kill -9`` of the gateway in a busy run whose upstream also loses 10% of create
  answers; after a restart every task ends terminal.

Every run matches the sim's create ledger against the gateway's tasks: no task was created
upstream twice, and every completed task's generation is in the ledger.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.databases import ServerDatabase
from tests.support.servers import GatewayServer
from tests.support.upstreams import (
    SimProcess,
    account_states,
    client,
    create,
    duplicate_prompts,
    ledger,
    ledger_prompt,
    make_gateway,
    official,
    sim_get,
    task_rows,
    wait_terminal,
    web,
)

pytestmark = pytest.mark.slow

WEB_TOKEN = "pool-web-session"
FAST_TIMELINE: dict[str, object] = {
    "queued_seconds": 0.05,
    "dreaming_seconds": 0.15,
    "creates_per_minute": 100_000,
    "web_null_video_rate": 0.3,
    "callback_duplicate_rate": 0.2,
    "seed": 2024,
}


@pytest.fixture
def start_sim(tmp_path: Path) -> Iterator[Any]:
    sims: list[SimProcess] = []

    def start(**options: object) -> SimProcess:
        media = tmp_path / "sim-media"
        media.mkdir(exist_ok=True)
        sim = SimProcess(
            tmp_path / f"sim-{len(sims)}.log", media_dir=media, **{**FAST_TIMELINE, **options}
        )
        sims.append(sim.start())
        return sim

    yield start
    for sim in sims:
        sim.stop()


def _pool(sim: SimProcess, official_a_limit: int = 2) -> list[Any]:
    return [
        official(sim, "official-a", "luma-pool-a", official_a_limit),
        official(sim, "official-b", "luma-pool-b", 2, ("--no-callbacks",)),
        web(sim, "web-c", WEB_TOKEN, 2),
    ]


def _submit(http: httpx.Client, prompts: list[str]) -> list[str]:
    with ThreadPoolExecutor(max_workers=8) as pool:
        return list(pool.map(lambda p: create(http, {"user_prompt": p}), prompts))


def _check_ledger(
    sim: SimProcess, server: GatewayServer, done: dict[str, dict[str, Any]], prefix: str
) -> list[dict[str, Any]]:
    """No task created twice upstream; every completed task's generation was created."""
    entries = [e for e in ledger(sim) if ledger_prompt(e).startswith(prefix)]
    assert duplicate_prompts(entries) == {}, "a task was created upstream more than once"
    created = {e["generation_id"] for e in entries}
    rows = task_rows(server)
    for task_id, task in done.items():
        if task["state"] == "completed":
            assert rows[task_id]["upstream_id"] in created, rows[task_id]
    return entries


def _max_running(sim: SimProcess) -> dict[str, int]:
    return {cred: s["max_running"] for cred, s in sim_get(sim, "/_sim/stats").items()}


def test_200_tasks_over_three_accounts_never_exceed_their_limit(
    start_sim: Any, tmp_path: Path, server_database: ServerDatabase
) -> None:
    sim = start_sim()
    server = make_gateway(tmp_path / "gw", _pool(sim), **server_database()).start()
    try:
        with client(server, server.create_key("load")) as http:
            prompts = [f"load run task {i:03d}" for i in range(200)]
            ids = _submit(http, prompts)
            done = wait_terminal(http, ids, 170, poll=0.5)
        assert [t["state"] for t in done.values()].count("completed") == 200
        peaks = _max_running(sim)
        assert set(peaks) >= {"luma-pool-a", "luma-pool-b", WEB_TOKEN}
        assert all(peak <= 2 for peak in peaks.values()), peaks
        entries = _check_ledger(sim, server, done, "load run")
        assert len(entries) == 200
        assert {e["credential"] for e in entries} == {"luma-pool-a", "luma-pool-b", WEB_TOKEN}
    finally:
        server.stop()


def test_faults_429s_and_a_dead_session_end_every_task_with_a_reason(
    start_sim: Any, tmp_path: Path, server_database: ServerDatabase
) -> None:
    sim = start_sim(error_rate=0.1, max_concurrency=2, dreaming_seconds=0.4)
    server = make_gateway(
        tmp_path / "gw",
        _pool(sim, official_a_limit=3),
        **server_database(),
        session_grace_seconds="2",
    ).start()
    try:
        with client(server, server.create_key("faults")) as http:
            ids = _submit(http, [f"fault run task {i:03d}" for i in range(60)])
            deadline = time.monotonic() + 60
            while sim_get(sim, "/_sim/stats").get(WEB_TOKEN, {}).get("creates", 0) < 4:
                assert time.monotonic() < deadline, "the web account never got work"
                time.sleep(0.2)
            with sim.client() as debug:
                assert debug.post(
                    "/_sim/sessions/expire", json={"credential": WEB_TOKEN}
                ).is_success
            done = wait_terminal(http, ids, 150, poll=0.5)
        for task in done.values():
            assert task["state"] in ("completed", "failed")
            if task["state"] == "failed":
                assert task["failure_reason"], task
        completed = [t for t in done.values() if t["state"] == "completed"]
        assert len(completed) >= 40, [t["failure_reason"] for t in done.values()]
        stats = sim_get(sim, "/_sim/stats")
        assert stats["luma-pool-a"]["rate_limited"] > 0, "the 429 path was not exercised"
        assert all(s["max_running"] <= 2 for s in stats.values())
        web_state = account_states(server)["web-c"]
        assert web_state["enabled"] == 0 and "expired" in web_state["disabled_reason"].lower()
        _check_ledger(sim, server, done, "fault run")
    finally:
        server.stop()


def test_kill_9_in_a_busy_run_then_restart_creates_nothing_twice(
    start_sim: Any, tmp_path: Path, server_database: ServerDatabase
) -> None:
    sim = start_sim(lost_response_rate=0.1, dreaming_seconds=0.5)
    server = make_gateway(tmp_path / "gw", _pool(sim), **server_database()).start()
    try:
        key = server.create_key("crash")
        with client(server, key) as http:
            ids = _submit(http, [f"crash run task {i:03d}" for i in range(60)])
            deadline = time.monotonic() + 90
            while len(ledger(sim)) < 15:
                assert time.monotonic() < deadline, "the run never got busy"
                time.sleep(0.1)
        server.kill()
        before = len(ledger(sim))
        server.start()
        with client(server, key) as http:
            done = wait_terminal(http, ids, 150, poll=0.5)
        assert all(t["state"] == "completed" for t in done.values()), [
            t["failure_reason"] for t in done.values() if t["state"] != "completed"
        ]
        assert before < 60 == len(_check_ledger(sim, server, done, "crash run"))
    finally:
        server.stop()
