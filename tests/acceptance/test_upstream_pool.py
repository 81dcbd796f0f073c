"""The upstream pool end to end, under load: ``lumagate serve`` + ``lumagate sim``, both as
subprocesses, over two official keys and one web session, each account limited to 2 at once.

200 tasks all complete, the sim never saw more than 2 running on any account, no task was
created upstream twice, and every completed task's generation is in the sim's create ledger.
The fault and crash runs of the same pool are test_upstream_pool_faults.py and
test_upstream_pool_crash.py (tests/support/pool_runs.py says why three files).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.support.databases import ServerDatabase
from tests.support.pool_runs import WEB_TOKEN, check_ledger, max_running, pool, start_sim, submit
from tests.support.upstreams import client, make_gateway, wait_terminal

__all__ = ["start_sim"]  # the fixture, for pytest

pytestmark = [pytest.mark.slow, pytest.mark.long(67)]


def test_200_tasks_over_three_accounts_never_exceed_their_limit(
    start_sim: Any, tmp_path: Path, server_database: ServerDatabase
) -> None:
    sim = start_sim()
    server = make_gateway(tmp_path / "gw", pool(sim), **server_database()).start()
    try:
        with client(server, server.create_key("load")) as http:
            prompts = [f"load run task {i:03d}" for i in range(200)]
            ids = submit(http, prompts)
            done = wait_terminal(http, ids, 170, poll=0.5)
        assert [t["state"] for t in done.values()].count("completed") == 200
        peaks = max_running(sim)
        assert set(peaks) >= {"luma-pool-a", "luma-pool-b", WEB_TOKEN}
        assert all(peak <= 2 for peak in peaks.values()), peaks
        entries = check_ledger(sim, server, done, "load run")
        assert len(entries) == 200
        assert {e["credential"] for e in entries} == {"luma-pool-a", "luma-pool-b", WEB_TOKEN}
    finally:
        server.stop()
