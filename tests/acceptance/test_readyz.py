"""``/readyz`` on a real server over PostgreSQL: 503 while its database is gone, 200 when it is
back; ``/healthz`` answers 200 throughout (liveness checks nothing)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import httpx
import pytest

from tests.support.acceptance import start_server
from tests.support.databases import PG_ADMIN_URL, replica_secrets
from tests.support.servers import GatewayServer

pytestmark = [pytest.mark.slow, pytest.mark.postgres]
DEADLINE_SECONDS = 60.0


async def _rename(current: str, new: str) -> None:
    """Rename a database its server is connected to: end those sessions, then rename (again if
    the server reconnected in between)."""
    conn = await asyncpg.connect(PG_ADMIN_URL, timeout=3)
    try:
        deadline = time.monotonic() + DEADLINE_SECONDS
        while True:
            await conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = $1 AND pid <> pg_backend_pid()",
                current,
            )
            try:
                await conn.execute(f'ALTER DATABASE "{current}" RENAME TO "{new}"')
                return
            except asyncpg.ObjectInUseError:
                if time.monotonic() > deadline:
                    raise
    finally:
        await conn.close()


def _poll_status(url: str, wanted: int) -> httpx.Response:
    deadline = time.monotonic() + DEADLINE_SECONDS
    while True:
        response = httpx.get(url, timeout=10)
        if response.status_code == wanted or time.monotonic() > deadline:
            return response
        time.sleep(0.2)


@pytest.fixture
def pg_server(pg_url: str, tmp_path: Path) -> Iterator[tuple[GatewayServer, str]]:
    server = start_server(tmp_path / "data", database_url=pg_url, **replica_secrets())
    try:
        yield server, pg_url.rsplit("/", 1)[-1]
    finally:
        server.stop()


def test_readyz_follows_the_database(pg_server: tuple[GatewayServer, str]) -> None:
    server, name = pg_server
    ready = httpx.get(server.base_url + "/readyz", timeout=10)
    assert ready.status_code == 200 and ready.json()["status"] == "ready"
    hidden = f"{name}_away"
    asyncio.run(_rename(name, hidden))
    try:
        gone = _poll_status(server.base_url + "/readyz", 503)
        assert gone.status_code == 503, gone.text
        assert gone.json()["status"] == "not ready"
        assert gone.json()["reason"].startswith("database does not answer")
        assert httpx.get(server.base_url + "/healthz", timeout=10).status_code == 200
    finally:
        asyncio.run(_rename(hidden, name))
    back = _poll_status(server.base_url + "/readyz", 200)
    assert back.status_code == 200, back.text
    assert back.json()["revision"] == ready.json()["revision"]
    key = server.create_key("after-outage")
    created = httpx.post(
        server.base_url + "/luma/generations",
        json={"user_prompt": "the database is back"},
        headers={"Authorization": f"Bearer {key}"},
        timeout=10,
    )
    assert created.status_code == 200, created.text
