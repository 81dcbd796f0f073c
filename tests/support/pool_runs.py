"""The upstream pool's end-to-end runs (tests/acceptance/test_upstream_pool*.py): their sim,
their three accounts and the ledger check they share.

The runs are three files, not one: ``make test`` gives each test file (and backend) to one
worker (tests/support/xdist_scope.py), and the load, fault and crash runs are independent
runs of a minute or so each on CI, so one file made the suite's longest unit of them.
"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.servers import GatewayServer
from tests.support.upstreams import (
    SimProcess,
    create,
    duplicate_prompts,
    ledger,
    ledger_prompt,
    official,
    sim_get,
    task_rows,
    web,
)

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
    """``lumagate sim`` subprocesses on the fast timeline (keyword arguments override it)."""
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


def pool(sim: SimProcess, official_a_limit: int = 2) -> list[Any]:
    """Two official keys (one without callbacks: it is polled) and one web session."""
    return [
        official(sim, "official-a", "luma-pool-a", official_a_limit),
        official(sim, "official-b", "luma-pool-b", 2, ("--no-callbacks",)),
        web(sim, "web-c", WEB_TOKEN, 2),
    ]


def submit(http: httpx.Client, prompts: list[str]) -> list[str]:
    """Create a task per prompt, eight at a time; their ids in order."""
    with ThreadPoolExecutor(max_workers=8) as threads:
        return list(threads.map(lambda p: create(http, {"user_prompt": p}), prompts))


def check_ledger(
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


def max_running(sim: SimProcess) -> dict[str, int]:
    """The most tasks each credential ever had running at once, as the sim saw."""
    return {cred: s["max_running"] for cred, s in sim_get(sim, "/_sim/stats").items()}
