"""Database connections: one async engine for PostgreSQL, a reader and a single writer for SQLite.

SQLite allows one writer at a time. Rather than let many connections fight over the write lock
(``database is locked``), all writes go through one connection that begins every transaction
with ``BEGIN IMMEDIATE``; reads use a separate pool and WAL lets them run beside the writer.
PostgreSQL uses one pool for both, with row locks where the store needs them.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from lumagate.media.file_modes import private_database_file


class Database:
    """Owns the engines; hands out read and write connections inside transactions."""

    def __init__(self, url: str, *, echo: bool = False) -> None:
        self.url = url
        parsed = make_url(url)
        self.is_sqlite = parsed.get_backend_name() == "sqlite"
        if self.is_sqlite:
            database = parsed.database or ""
            if database and database != ":memory:" and not database.startswith("file:"):
                Path(database).parent.mkdir(parents=True, exist_ok=True)
                private_database_file(Path(database))  # 0600, and so its -wal and -shm
            connect_args = {"timeout": 30}
            self._writer = create_async_engine(
                url, echo=echo, pool_size=1, max_overflow=0, connect_args=connect_args
            )
            self._reader = create_async_engine(
                url, echo=echo, pool_size=8, max_overflow=8, connect_args=connect_args
            )
            _configure_sqlite(self._writer, immediate=True)
            _configure_sqlite(self._reader, immediate=False)
        else:
            engine = create_async_engine(
                url, echo=echo, pool_size=10, max_overflow=20, pool_pre_ping=True
            )
            self._writer = engine
            self._reader = engine

    @asynccontextmanager
    async def write(self) -> AsyncIterator[AsyncConnection]:
        """A connection in a write transaction, committed on success."""
        async with self._writer.begin() as conn:
            yield conn

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncConnection]:
        """A connection in a read transaction (a consistent snapshot on SQLite WAL)."""
        async with self._reader.connect() as conn:
            yield conn

    async def dispose(self) -> None:
        await self._writer.dispose()
        if self._reader is not self._writer:
            await self._reader.dispose()


def _configure_sqlite(engine: AsyncEngine, *, immediate: bool) -> None:
    """WAL, foreign keys, a busy timeout; and BEGIN IMMEDIATE on the writer."""

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")
