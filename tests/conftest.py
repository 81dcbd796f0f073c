"""Shared fixtures: database URLs for both backends, databases for real gateway servers, sims.

Under pytest-xdist (``make test`` runs ``--dist loadgroup``) the tests that share a module-scoped
fixture (a server started once for the module) stay together on one worker; every other test
goes to whichever worker is free. A module's runs on SQLite and on PostgreSQL are separate
groups, so they too can run side by side.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from lumagate.sim import SimConfig
from lumagate.sim.testing import SimServer, StartSim
from tests.support.databases import (
    ServerDatabase,
    create_pg_database,
    drop_pg_database,
    postgres_available,
)

_PG_SKIP: list[str | None] = []
BACKENDS = ("sqlite", "postgresql")


# Module-scoped, but cheap to set up again on each worker (each set-up makes its own databases).
PER_WORKER_FIXTURES = {"backend", "server_database"}


def _shares_module_state(item: pytest.Item) -> bool:
    """Whether ``item`` uses a module- or class-scoped fixture (a shared server, say)."""
    info = getattr(item, "_fixtureinfo", None)
    if info is None:
        return False
    return any(
        defs[-1].scope in ("module", "class", "package")
        for name, defs in info.name2fixturedefs.items()
        if defs and name not in PER_WORKER_FIXTURES
    )


@pytest.hookimpl(tryfirst=True)  # before xdist reads the groups
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests that share module state form one xdist group per module and backend; the others
    (each with its own servers and databases) go to whichever worker is free."""
    for item in items:
        if not _shares_module_state(item):
            continue
        group = item.nodeid.split("::", 1)[0]
        callspec = getattr(item, "callspec", None)
        if callspec is not None and "backend" in callspec.params:
            group += f"-on-{callspec.params['backend']}"  # no "]": xdist parses the group after it
        item.add_marker(pytest.mark.xdist_group(group))


def _pg_reason() -> str | None:
    if not _PG_SKIP:
        _PG_SKIP.append(postgres_available())
    return _PG_SKIP[0]


def require_postgres() -> None:
    """Skip with the reason when no PostgreSQL is reachable (fail on CI, which has one)."""
    reason = _pg_reason()
    if reason is not None:
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A fresh PostgreSQL database (skips with the reason when none is reachable; CI has one)."""
    require_postgres()
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


@pytest.fixture(scope="module", params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    """The database backend of this module's gateway servers: the module runs once per backend."""
    if request.param == "postgresql":
        require_postgres()
    name: str = request.param
    return name


@pytest.fixture(scope="module")
def server_database(backend: str) -> Iterator[ServerDatabase]:
    """Settings that give a gateway server a fresh database of this module's ``backend``: none
    for SQLite (the server's own data dir), a new PostgreSQL database (dropped after the
    module) otherwise. Call it once per server."""
    created: list[str] = []

    def fresh() -> dict[str, str]:
        if backend == "sqlite":
            return {}
        name, url = create_pg_database()
        created.append(name)
        return {"database_url": url}

    yield fresh
    for name in created:
        drop_pg_database(name)


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
