"""Shared fixtures: database URLs for both backends, real gateway servers."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from lumagate.sim import SimConfig
from lumagate.sim.testing import SimServer, StartSim
from tests.support.databases import create_pg_database, drop_pg_database, postgres_available
from tests.support.servers import GatewayServer, server_env

_PG_SKIP: list[str | None] = []


def _pg_reason() -> str | None:
    if not _PG_SKIP:
        _PG_SKIP.append(postgres_available())
    return _PG_SKIP[0]


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A fresh PostgreSQL database (skips with the reason when none is reachable; CI has one)."""
    reason = _pg_reason()
    if reason is not None:
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    name, url = create_pg_database()
    try:
        yield url
    finally:
        drop_pg_database(name)


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Runs a test once on SQLite and once on PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'test.db'}"
    url: str = request.getfixturevalue("pg_url")
    return url


@pytest.fixture
def gateway_server(tmp_path: Path) -> Iterator[GatewayServer]:
    """A running ``lumagate serve`` on SQLite with the sandbox provider (fast settings)."""
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    server = GatewayServer(data_dir, server_env(data_dir, refresh_interval_seconds="0.5"))
    server.start()
    try:
        yield server
    finally:
        if server.process is not None:
            server.stop()


# Fast, deterministic simulator defaults; a folder's conftest may override ``sim_defaults``.
FAST_SIM: dict[str, Any] = {
    "queued_seconds": 0.2,
    "dreaming_seconds": 0.5,
    "web_null_video_rate": 0.0,
    "callback_duplicate_rate": 0.0,
    "seed": 1234,
}


@pytest.fixture
def sim_defaults() -> dict[str, Any]:
    return dict(FAST_SIM)


@pytest.fixture(scope="session")
def sim_media_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Shared clip cache, so each aspect ratio is rendered once per test session."""
    return tmp_path_factory.mktemp("sim-media")


@pytest.fixture
def start_sim(sim_media_dir: Path, sim_defaults: dict[str, Any]) -> Iterator[StartSim]:
    """Start ``lumagate sim`` servers (``sim_defaults`` overridden by keyword arguments) on
    loopback; all are stopped at teardown."""
    servers: list[SimServer] = []

    def start(**overrides: Any) -> SimServer:
        config = SimConfig(**{**sim_defaults, "media_dir": sim_media_dir, **overrides})
        server = SimServer(config).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()
