"""Test databases: a fresh SQLite file or a fresh PostgreSQL database per test or per server.

Every PostgreSQL database gets a random name, so parallel test workers (pytest-xdist) and
parallel CI runs on one PostgreSQL server never share one.
"""

from __future__ import annotations

import asyncio
import atexit
import os
import re
import uuid
from concurrent.futures import Future, ThreadPoolExecutor
from functools import cache
from typing import Any, Protocol

import asyncpg
from cryptography.fernet import Fernet

# asyncpg takes only ``postgresql://``; the SQLAlchemy form (``postgresql+asyncpg://``, what
# LUMAGATE_DATABASE_URL holds) is accepted too, rather than making every PostgreSQL case skip.
PG_ADMIN_URL = os.environ.get(
    "LUMAGATE_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
).replace("postgresql+asyncpg://", "postgresql://", 1)


class ServerDatabase(Protocol):
    """The ``server_database`` fixture: settings (``database_url`` or none) for a new database,
    already at the newest schema unless ``migrated=False`` (tests/support/schema_template.py)."""

    def __call__(self, *, migrated: bool = True) -> dict[str, str]: ...


async def _pg_admin(statement: str) -> None:
    conn = await asyncpg.connect(PG_ADMIN_URL, timeout=3)
    try:
        await conn.execute(statement)
    finally:
        await conn.close()


def replica_secrets() -> dict[str, str]:
    """The keys every replica on one PostgreSQL database shares (it refuses to start without)."""
    return {"secret_key": Fernet.generate_key().decode("ascii"), "admin_key": ADMIN_KEY_FOR_PG}


ADMIN_KEY_FOR_PG = "sk-lg-admin-test-replicas"


def postgres_available() -> str | None:
    """None if reachable, else the reason (for the skip message)."""
    try:
        asyncio.run(_pg_admin("SELECT 1"))
    except Exception as exc:  # any failure means: not usable here
        return f"PostgreSQL not reachable at {PG_ADMIN_URL}: {exc!r}"
    return None


def create_pg_database(template: str | None = None) -> tuple[str, str]:
    """Returns (database name, SQLAlchemy async URL); a copy of ``template`` when given."""
    name = f"lumagate_t_{uuid.uuid4().hex[:12]}"
    copy_of = f' TEMPLATE "{template}"' if template else ""
    asyncio.run(_pg_admin(f'CREATE DATABASE "{name}"{copy_of}'))
    base = PG_ADMIN_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://", 1)
    return name, f"{base}/{name}"


class _Dropper:
    """Drops databases on a thread of its own, so a test's teardown does not wait for them.

    Every ``DROP DATABASE`` makes the server checkpoint and waits for it: a flush of every dirty
    buffer of the server, other workers' included (seconds on a busy CI machine). Here the
    teardown hands the name over and goes on; :meth:`finish` (at the session's end, and at
    exit) waits for the last drop and raises the first failure, so none is lost or hidden."""

    def __init__(self) -> None:
        self._pool = self._new_pool()
        self._drops: list[Future[None]] = []

    @staticmethod
    def _new_pool() -> ThreadPoolExecutor:
        return ThreadPoolExecutor(max_workers=1, thread_name_prefix="pg-drop")

    def drop(self, name: str) -> None:
        self._drops.append(self._pool.submit(drop_pg_database_now, name))

    def finish(self) -> None:
        self._pool.shutdown(wait=True)
        self._pool = self._new_pool()  # threads start with the first drop, if any comes
        drops, self._drops = self._drops, []
        for done in drops:
            done.result()


def drop_pg_database_now(name: str) -> None:
    asyncio.run(_pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@cache
def _dropper() -> _Dropper:
    dropper = _Dropper()
    atexit.register(dropper.finish)
    return dropper


def drop_pg_database(name: str) -> None:
    """Drops ``name`` in the background (by the end of the session at the latest)."""
    _dropper().drop(name)


def finish_pg_drops() -> None:
    """Waits for the background drops (the session's end; the exit if there is none)."""
    if _dropper.cache_info().currsize:
        _dropper().finish()


def pg_rows(sqlalchemy_url: str, query: str, *params: Any) -> list[dict[str, Any]]:
    """Rows of ``query`` (``?`` placeholders, as for SQLite) on a PostgreSQL database."""
    numbered = iter(range(1, len(params) + 1))
    statement = re.sub(r"\?", lambda _: f"${next(numbered)}", query)
    url = sqlalchemy_url.replace("postgresql+asyncpg://", "postgresql://", 1)

    async def fetch() -> list[dict[str, Any]]:
        conn = await asyncpg.connect(url, timeout=10)
        try:
            return [dict(row) for row in await conn.fetch(statement, *params)]
        finally:
            await conn.close()

    return asyncio.run(fetch())


@cache
def _pg_template() -> str:
    """A PostgreSQL database of this process at the newest schema (dropped at exit)."""
    from tests.support.schema_template import migrate_postgres

    name, url = create_pg_database()
    atexit.register(drop_pg_database_now, name)  # after the background drops may be over
    migrate_postgres(url)
    return name


def migrated_pg_database() -> tuple[str, str]:
    """A new PostgreSQL database already at the newest schema (a copy of the template)."""
    return create_pg_database(template=_pg_template())
