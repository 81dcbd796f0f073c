"""The upstream pool end to end, through a crash (the pool of test_upstream_pool.py):
``kill -9`` of the gateway in a busy run whose upstream also loses 10% of create answers;
after a restart every task completes, and the sim's create ledger shows none created twice.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from tests.support.databases import ServerDatabase
from tests.support.pool_runs import check_ledger, pool, start_sim, submit
from tests.support.upstreams import client, ledger, make_gateway, wait_terminal

__all__ = ["start_sim"]  # the fixture, for pytest

pytestmark = pytest.mark.slow


def test_kill_9_in_a_busy_run_then_restart_creates_nothing_twice(
    start_sim: Any, tmp_path: Path, server_database: ServerDatabase
) -> None:
    sim = start_sim(lost_response_rate=0.1, dreaming_seconds=0.5)
    server = make_gateway(tmp_path / "gw", pool(sim), **server_database()).start()
    try:
        key = server.create_key("crash")
        with client(server, key) as http:
            ids = submit(http, [f"crash run task {i:03d}" for i in range(60)])
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
        assert before < 60 == len(check_ledger(sim, server, done, "crash run"))
    finally:
        server.stop()
