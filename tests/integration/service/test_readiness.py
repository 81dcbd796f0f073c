"""The readiness check on real databases: schema behind, current, unreachable, hanging."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest

from lumagate.service.readiness import ReadinessCheck, database_revision
from lumagate.store import migrate
from lumagate.store.database import Database
from tests.support.ports import free_port


async def test_not_ready_until_migrated(empty_database_url: str) -> None:
    database = Database(empty_database_url)
    try:
        check = ReadinessCheck(database_revision(database))
        before = await check.check()
        assert not before.ready and before.revision is None
        assert before.reason == f"migrations not current: at None, code needs {check.expected}"
        await migrate.upgrade(database)
        after = await check.check()
        assert after.ready and after.revision == migrate.head_revision() and after.reason is None
    finally:
        await database.dispose()


async def test_an_older_schema_is_not_ready(empty_database_url: str) -> None:
    database = Database(empty_database_url)
    try:
        await migrate.upgrade(database, "0001")
        result = await ReadinessCheck(database_revision(database)).check()
        assert not result.ready and result.revision is not None
        assert result.revision.startswith("0001")
    finally:
        await database.dispose()


async def test_a_closed_port_is_not_ready() -> None:
    url = f"postgresql+asyncpg://postgres:secret-pw@127.0.0.1:{free_port()}/x"
    database = Database(url)
    try:
        result = await ReadinessCheck(database_revision(database), expected_revision="head").check()
    finally:
        await database.dispose()
    assert not result.ready and result.reason is not None
    assert result.reason.startswith("database does not answer")
    assert "secret-pw" not in result.reason and "127.0.0.1" not in result.reason


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A port that accepts connections and never says a word."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        yield int(listener.getsockname()[1])


async def test_a_database_that_hangs_times_out(silent_port: int) -> None:
    database = Database(f"postgresql+asyncpg://postgres@127.0.0.1:{silent_port}/x")
    try:
        check = ReadinessCheck(database_revision(database), expected_revision="head", timeout=0.5)
        result = await check.check()
    finally:
        await database.dispose()
    assert not result.ready and result.reason == "database did not answer within 0.5 s"
