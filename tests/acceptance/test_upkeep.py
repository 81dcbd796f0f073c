"""The upkeep loop in a running gateway: ``lumagate serve`` + ``lumagate sim`` as subprocesses.

At start the gateway maintains every real account once: the web session makes its keep-alive
and reads the plan's remaining generations (the scheduler's cap), the official key reads its
credit balance. Both land in the accounts' settings, where ``lumagate accounts list`` and the
scheduler read them. (The loop once checked the metered wrapper the engine calls through,
which has no ``maintain``, so none of this ever ran.)
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.databases import ServerDatabase
from tests.support.servers import GatewayServer
from tests.support.upstreams import SimProcess, account_states, make_gateway, official, web
from tests.support.waiting import wait_until

pytestmark = pytest.mark.slow

WEB_CAPACITY = 37


@pytest.fixture
def sim(tmp_path: Path) -> Iterator[SimProcess]:
    process = SimProcess(tmp_path / "sim.log", web_capacity=WEB_CAPACITY, seed=5).start()
    try:
        yield process
    finally:
        process.stop()


def _settings(server: GatewayServer, name: str) -> dict[str, Any]:
    found = account_states(server)[name]["settings"]
    if isinstance(found, str):
        found = json.loads(found)
    return dict(found or {})


def test_upkeep_keeps_the_session_alive_and_reads_capacity(
    sim: SimProcess, tmp_path: Path, server_database: ServerDatabase
) -> None:
    accounts = [official(sim, "official", "luma-upkeep-key"), web(sim, "web", "upkeep-session")]
    server = make_gateway(tmp_path / "gw", accounts, **server_database()).start()
    try:
        wait_until(
            lambda: (
                "upstream_checked_at" in _settings(server, "web")
                and "upstream_checked_at" in _settings(server, "official")
            ),
            "both accounts were maintained",
            timeout=60,
        )
        session = _settings(server, "web")
        assert session["upstream_available"] == WEB_CAPACITY, session
        assert session["upstream_capacity"] == WEB_CAPACITY, session
        assert isinstance(_settings(server, "official")["upstream_credit_balance"], int | float)
    finally:
        server.stop()
