"""Shared fixtures: database URLs for both backends, databases for real gateway servers, sims.

Under pytest-xdist (``make test`` runs ``--dist loadscope``) a test file's tests stay together on
one worker, so a server started once for the module starts once; the file's runs on SQLite and
on PostgreSQL are separate units, so they can run side by side (tests/support/xdist_scope.py).
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from lumagate.sim import SimConfig
from lumagate.sim.testing import SimServer, StartSim
from lumagate.store import migrate
from lumagate.store.database import Database
from tests.support import forkserver
from tests.support.databases import (
    ServerDatabase,
    create_pg_database,
    drop_pg_database,
    finish_pg_drops,
    migrated_pg_database,
    postgres_available,
    replica_secrets,
)
from tests.support.schema_template import DATABASE_FILE, seed_sqlite
from tests.support.xdist_scope import BACKENDS, FileAndBackendScheduling

_PG_SKIP: list[str | None] = []


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """``--dist loadscope`` (what ``make test`` uses) schedules by file and backend."""
    if config.getvalue("dist") != "loadscope":
        return None
    return FileAndBackendScheduling(config, log)


def pytest_sessionfinish(session: pytest.Session) -> None:
    """The test process's fork server (tests/support/forkserver.py) ends with the session, and
    the test databases dropped in the background are gone before it ends (an xdist worker is
    killed if it lingers after the session)."""
    forkserver.close()
    finish_pg_drops()


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
def empty_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A new, empty database; runs a test once on SQLite and once on PostgreSQL (for the
    tests of migrating itself)."""
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'test.db'}"
    url: str = request.getfixturevalue("pg_url")
    return url


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A new database already at the newest schema (a copy of a template migrated once per
    test process: tests/support/schema_template.py), once on SQLite and once on PostgreSQL.
    Migrating from empty is tested with ``empty_database_url``."""
    if request.param == "sqlite":
        seed_sqlite(tmp_path)
        yield f"sqlite+aiosqlite:///{tmp_path / DATABASE_FILE}"
        return
    require_postgres()
    name, url = migrated_pg_database()
    try:
        yield url
    finally:
        drop_pg_database(name)


@pytest.fixture(scope="module", params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    """The database backend of this module's gateway servers: the module runs once per backend."""
    if request.param == "postgresql":
        require_postgres()
    name: str = request.param
    return name


@pytest.fixture(scope="module")
def server_database(backend: str) -> Iterator[ServerDatabase]:
    """Settings that give a gateway server a new database of this module's ``backend``: none
    for SQLite (the server's own data dir), a new PostgreSQL database (dropped after the
    module) otherwise; at the newest schema unless ``migrated=False``. Once per server."""
    created: list[str] = []

    def fresh(*, migrated: bool = True) -> dict[str, str]:
        if backend == "sqlite":
            return {}  # GatewayServer.fresh_database decides for the data dir's SQLite file
        name, url = migrated_pg_database() if migrated else create_pg_database()
        created.append(name)
        return {"database_url": url, **replica_secrets()}

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


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    """A migrated database of the ``database_url`` parameter (SQLite and PostgreSQL), opened
    by the store's ``Database`` and disposed after the test."""
    database = Database(database_url)
    await migrate.upgrade(database)
    try:
        yield database
    finally:
        await database.dispose()
