"""Database connections: one async engine for PostgreSQL, a reader and a single writer for SQLite.

SQLite allows one writer at a time. Rather than let many connections fight over the write lock
(``database is locked``), all writes go through one connection that begins every transaction
with ``BEGIN IMMEDIATE``; reads use a separate pool and WAL lets them run beside the writer.
PostgreSQL uses one pool for both, with row locks where the store needs them.

A read of one statement (:meth:`Database.read_one`, the hot client reads) needs no snapshot, so
it runs on autocommit connections (a pool of its own on SQLite) that send no ``BEGIN`` and no
``ROLLBACK`` around the query: a GET pays for its one statement, not a transaction's set-up.
PostgreSQL connections are not pinged on each check-out (``pool_pre_ping`` cost a ``SELECT 1``
round trip per transaction): a connection found dead raises once and SQLAlchemy then
invalidates the whole pool, so after a database restart only the statements in flight fail;
``pool_recycle`` retires connections hourly.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Dialect, make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from sqlalchemy.sql.dml import UpdateBase

from lumagate.media.file_modes import private_database_file


class Database:
    """Owns the engines; hands out read and write connections inside transactions."""

    def __init__(self, url: str, *, echo: bool = False) -> None:
        self.url = url
        self._closers: list[Callable[[], Awaitable[None]]] = []  # raw-driver readers (hot_read)
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
            self._single = create_async_engine(
                url,
                echo=echo,
                pool_size=8,
                max_overflow=8,
                connect_args=connect_args,
                isolation_level="AUTOCOMMIT",
                skip_autocommit_rollback=True,
                pool_reset_on_return=None,
            )
            _configure_sqlite(self._writer, begin="BEGIN IMMEDIATE")
            _configure_sqlite(self._reader, begin="BEGIN")
            _configure_sqlite(self._single, begin=None)
        else:
            engine = create_async_engine(
                url,
                echo=echo,
                pool_size=10,
                max_overflow=20,
                pool_recycle=3600,
                skip_autocommit_rollback=True,
            )
            self._writer = engine
            self._reader = engine
            self._single = engine.execution_options(isolation_level="AUTOCOMMIT")

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

    @asynccontextmanager
    async def read_one(self) -> AsyncIterator[AsyncConnection]:
        """A connection for one read statement, outside any transaction (see the module doc)."""
        async with self._single.connect() as conn:
            yield conn

    async def changed(self, statement: UpdateBase) -> int:
        """Run one conditional write in its own transaction; the rows it changed (0: its
        ``WHERE`` no longer held, e.g. another process moved the row first)."""
        async with self.write() as conn:
            return int((await conn.execute(statement)).rowcount)

    @property
    def dialect(self) -> Dialect:
        return self._single.dialect

    def close_with(self, closer: Callable[[], Awaitable[None]]) -> None:
        """Run ``closer`` on :meth:`dispose` (a reader that holds its own connections)."""
        self._closers.append(closer)

    async def dispose(self) -> None:
        for closer in self._closers:
            await closer()
        await self._writer.dispose()
        if self.is_sqlite:
            await self._reader.dispose()
            await self._single.dispose()


def _configure_sqlite(engine: AsyncEngine, *, begin: str | None) -> None:
    """WAL, foreign keys, a busy timeout; ``begin`` opens each transaction (IMMEDIATE on the
    writer; None: the autocommit pool, which never begins one)."""

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    if begin is None:
        return

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        conn.exec_driver_sql(begin)
