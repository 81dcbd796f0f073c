"""Provider test fixtures: loopback sims with fast timelines, and a shared upstream client."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from lumagate.providers.http import UpstreamHttp, new_upstream_client
from lumagate.sim import SimConfig
from lumagate.sim.testing import SimServer, StartSim

FAST_SIM: dict[str, Any] = {
    "queued_seconds": 0.2,
    "dreaming_seconds": 0.6,
    "web_null_video_rate": 0.0,
    "callback_duplicate_rate": 0.0,
    "seed": 4321,
}


@pytest.fixture(scope="session")
def provider_sim_media(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One clip cache for every sim of the session (each aspect ratio rendered once)."""
    return tmp_path_factory.mktemp("provider-sim-media")


@pytest.fixture
def start_sim(provider_sim_media: Path) -> Iterator[StartSim]:
    servers: list[SimServer] = []

    def start(**overrides: Any) -> SimServer:
        config = SimConfig(**{**FAST_SIM, "media_dir": provider_sim_media, **overrides})
        server = SimServer(config).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


@pytest.fixture
async def upstream_http() -> AsyncIterator[UpstreamHttp]:
    client = new_upstream_client(10.0)
    try:
        yield UpstreamHttp(client, attempts=3, backoff_seconds=0.05)
    finally:
        await client.aclose()


async def nothing_taken(account_id: str, upstream_ids: object) -> set[str]:
    return set()
