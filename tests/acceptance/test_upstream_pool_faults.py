"""The upstream pool end to end, with faults (the pool of test_upstream_pool.py): 10% of
upstream calls answer 500, one key gets 429s (it may run 3, the sim allows 2), the web session
is killed mid-run: every task ends completed or failed with a reason, no account ran more than
the sim allows, the dead session's account is disabled, and no task was created upstream twice.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from tests.support.databases import ServerDatabase
from tests.support.pool_runs import WEB_TOKEN, check_ledger, pool, start_sim, submit
from tests.support.upstreams import account_states, client, make_gateway, sim_get, wait_terminal

__all__ = ["start_sim"]  # the fixture, for pytest

pytestmark = pytest.mark.slow


def test_faults_429s_and_a_dead_session_end_every_task_with_a_reason(
    start_sim: Any, tmp_path: Path, server_database: ServerDatabase
) -> None:
    sim = start_sim(error_rate=0.1, max_concurrency=2, dreaming_seconds=0.4)
    server = make_gateway(
        tmp_path / "gw",
        pool(sim, official_a_limit=3),
        **server_database(),
        session_grace_seconds="2",
    ).start()
    try:
        with client(server, server.create_key("faults")) as http:
            ids = submit(http, [f"fault run task {i:03d}" for i in range(60)])
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
        check_ledger(sim, server, done, "fault run")
    finally:
        server.stop()
