"""Fixtures for the simulated-upstream tests: real sim servers on loopback with fast timelines."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from lumagate.sim import SimConfig
from lumagate.sim.testing import SimServer, StartSim

# Fast, deterministic defaults: the whole suite must stay well under a minute.
FAST: dict[str, Any] = {
    "queued_seconds": 0.2,
    "dreaming_seconds": 0.5,
    "web_null_video_rate": 0.0,
    "callback_duplicate_rate": 0.0,
    "seed": 1234,
}


@pytest.fixture(scope="session")
def sim_media_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Shared clip cache, so each aspect ratio is rendered once per test session."""
    return tmp_path_factory.mktemp("sim-media")


@pytest.fixture
def start_sim(sim_media_dir: Path) -> Iterator[StartSim]:
    """Start a sim with ``FAST`` settings overridden by keyword arguments; stopped at teardown."""
    servers: list[SimServer] = []

    def start(**overrides: Any) -> SimServer:
        config = SimConfig(**{**FAST, "media_dir": sim_media_dir, **overrides})
        server = SimServer(config).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


@pytest.fixture
def sim(start_sim: StartSim) -> SimServer:
    return start_sim()
