"""The create's one write transaction on the raw driver, and the engine's path when it cannot.

Through SQLAlchemy's async engine a create's transaction (charge the key, the ledger entry, the
task) cost several times its statements: on SQLite aiosqlite hands every step to its thread and
back, on PostgreSQL each call runs in a greenlet behind a pool check-out. :class:`HotWrites`
runs the same unit of work (:class:`~lumagate.store.unit_of_work.UnitOfWork`: the same stores,
the same statement objects, see ``store/raw_statements.py``) on the driver itself:

- SQLite: the stdlib :mod:`sqlite3` on the event loop thread, one write connection with a busy
  timeout of 0. ``BEGIN IMMEDIATE`` either takes the write lock at once or fails at once
  (another writer holds it: the engine's writer, another process), and then the transaction
  runs on the engine's writer instead, which waits in its own thread: the loop never waits for
  another writer. Every statement of the body runs without giving the loop up (none awaits
  anything that suspends), so the lock is held for the statements' time only. The writer's
  autocheckpoint is off (a checkpoint's copy and syncs would stall the loop, tens of ms): every
  ``CHECKPOINT_EVERY`` raw commits a ``RESTART`` checkpoint runs in a worker thread on its own
  connection (``store/wal_checkpoint.py``) while new raw transactions await its end, so nothing
  raw appends to the WAL meanwhile and the next commit writes it from its start again.
- PostgreSQL: a connection from a few raw asyncpg connections (``store/hot_pg.py``), ``BEGIN``
  … ``COMMIT`` on it, READ COMMITTED as the engine's; row locks work as they do there.

Refusals and rollback are the engine's: an exception from the body rolls every statement back
and reaches the caller, a unique violation is SQLAlchemy's ``IntegrityError`` (so the stores map
it as before). Anything else the driver raises before the commit (busy, no connection, a
connection lost) means nothing was committed: the body runs again on the engine's path. A
failed ``COMMIT`` on PostgreSQL is not retried (it may have committed): it reaches the caller.
"""

from __future__ import annotations

import contextlib
import logging
import sqlite3
import time
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError
from sqlalchemy.sql import Executable

from lumagate.store.database import Database
from lumagate.store.hot_pg import RawConnections, driver, driver_failures
from lumagate.store.raw_statements import PreparedStatements, RawRows
from lumagate.store.unit_of_work import Transactions, UnitOfWork
from lumagate.store.wal_checkpoint import (
    CHECKPOINT_BUSY_SECONDS,
    CHECKPOINT_EVERY,
    WalCheckpoints,
)

if TYPE_CHECKING:
    import asyncpg  # type: ignore[import-untyped]  # no stubs; used only in store/hot_*

log = logging.getLogger(__name__)

PG_CONNECTIONS = 4  # per process, beside the engine's pool and the hot reads' connections
PG_REST_SECONDS = 10.0  # after a failure to connect, the engine alone writes this long
T = TypeVar("T")
C = TypeVar("C")  # a driver's connection
Ran = tuple[list[str], Sequence[Sequence[Any]], int]  # column names, rows, row count
Body = Callable[[UnitOfWork], Awaitable[T]]


class RawWriteUnavailable(Exception):
    """The raw driver cannot run the transaction now; nothing of it was committed."""


class HotWrites:
    """Runs a unit of work's body on the raw driver, or on ``transactions`` when it cannot."""

    def __init__(
        self,
        db: Database,
        transactions: Transactions,
        *,
        checkpoint_every: int = CHECKPOINT_EVERY,
        checkpoint_busy_seconds: float = CHECKPOINT_BUSY_SECONDS,
    ) -> None:
        self.transactions = transactions
        self.is_sqlite = db.is_sqlite
        self.prepared = PreparedStatements(db.dialect)
        self.fallbacks = 0  # bodies the engine ran because the raw driver could not (tests)
        parsed = make_url(db.url)
        database = parsed.database or ""
        plain_file = database and database != ":memory:" and "file:" not in database
        self._sqlite_path = database if self.is_sqlite and plain_file else None
        self._sqlite: sqlite3.Connection | None = None
        self.checkpoints = (
            WalCheckpoints(self._sqlite_path, checkpoint_every, checkpoint_busy_seconds)
            if self._sqlite_path
            else None
        )
        self._tracer: Callable[[str], None] | None = None
        self._pg: RawConnections | None = None
        self._pg_resting_until = 0.0
        if not self.is_sqlite:
            dsn = parsed.set(drivername="postgresql").render_as_string(hide_password=False)
            self._pg = RawConnections(dsn, PG_CONNECTIONS)
        db.close_with(self.close)

    def trace(self, tracer: Callable[[str], None]) -> None:
        """Call ``tracer`` with every statement the raw driver sends from now on (tests, the
        write profile)."""
        self._tracer = tracer
        if self._pg is not None:
            self._pg.trace(tracer)
        elif self._sqlite is not None:
            self._sqlite.set_trace_callback(tracer)

    async def run(self, body: Body[T]) -> T:
        """``body`` in one write transaction, committed when it returns, rolled back when it
        raises (its exception then reaches the caller)."""
        try:
            if self.is_sqlite:
                return await self._sqlite_run(body)
            return await self._pg_run(body)
        except RawWriteUnavailable as why:
            log.debug("the create's transaction runs on the engine: %s", why.__cause__ or why)
            self.fallbacks += 1
        return await self.transactions.run(body)

    # -- SQLite -----------------------------------------------------------------------------
    async def _sqlite_run(self, body: Body[T]) -> T:
        if self.checkpoints is not None:
            await self.checkpoints.finished()  # nothing raw appends while one runs
        conn = self._sqlite_writer()
        try:
            conn.execute("BEGIN IMMEDIATE")  # busy timeout 0: the lock now, or an error now
        except sqlite3.Error as error:
            raise RawWriteUnavailable("the SQLite writer is busy") from error
        try:
            result = await body(UnitOfWork(SqliteStatements(conn, self.prepared), is_sqlite=True))
            conn.execute("COMMIT")
        except BaseException as error:
            self._sqlite_rollback(conn)  # SQLite commits all or nothing: nothing was committed
            if isinstance(error, sqlite3.Error):  # the COMMIT's (busy): the engine runs it
                raise RawWriteUnavailable("the SQLite commit failed") from error
            raise
        if self.checkpoints is not None:
            self.checkpoints.committed()
        return result

    def _sqlite_rollback(self, conn: sqlite3.Connection) -> None:
        try:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
        except sqlite3.Error:  # a connection that cannot roll back is not used again
            log.warning("the raw SQLite writer could not roll back: reopened", exc_info=True)
            conn.close()
            self._sqlite = None

    def _sqlite_writer(self) -> sqlite3.Connection:
        if self._sqlite_path is None:
            raise RawWriteUnavailable("an in-memory or URI database: the engine's only")
        if self._sqlite is None:
            try:
                self._sqlite = _open_writer(self._sqlite_path)
            except sqlite3.Error as error:
                raise RawWriteUnavailable("the SQLite file cannot be opened") from error
            self._sqlite.set_trace_callback(self._tracer)
        if self._sqlite.in_transaction:  # a body that suspended: never share the transaction
            raise RawWriteUnavailable("the raw SQLite writer is in a transaction")
        return self._sqlite

    # -- PostgreSQL -------------------------------------------------------------------------
    async def _pg_run(self, body: Body[T]) -> T:
        if self._pg is None or time.monotonic() < self._pg_resting_until:
            raise RawWriteUnavailable("the raw PostgreSQL connections are resting")
        try:
            conn = await self._pg.take()
        except driver_failures() as error:
            self._pg_resting_until = time.monotonic() + PG_REST_SECONDS
            log.warning("creates use the async engine for %ss: %s", PG_REST_SECONDS, error)
            raise RawWriteUnavailable("no raw PostgreSQL connection") from error
        try:
            result = await self._pg_body(conn, body)
            await conn.execute("COMMIT")
        finally:  # a connection still in a transaction (a failed ROLLBACK or COMMIT) is closed
            if conn.is_closed() or conn.is_in_transaction():
                self._pg.discard(conn)
            else:
                self._pg.give_back(conn)
        return result

    async def _pg_body(self, conn: asyncpg.Connection, body: Body[T]) -> T:
        """BEGIN and the body; rolled back when it raises (the connection is the caller's)."""
        try:
            await conn.execute("BEGIN")
        except driver_failures() as error:
            raise RawWriteUnavailable("BEGIN failed") from error
        try:
            return await body(UnitOfWork(PgStatements(conn, self.prepared), is_sqlite=False))
        except BaseException:
            with contextlib.suppress(*driver_failures()):  # failed: the caller closes it
                await conn.execute("ROLLBACK")
            raise

    async def close(self) -> None:
        if self.checkpoints is not None:
            await self.checkpoints.close()
        if self._sqlite is not None:
            self._sqlite.close()
            self._sqlite = None
        if self._pg is not None:
            await self._pg.close()


class _DriverStatements(ABC, Generic[C]):
    """The stores' statements on one raw connection inside a transaction: each compiled once
    (``store/raw_statements.py``), run on the driver by ``_run``, its rows decoded as the
    engine would. The two drivers differ only in ``_run`` (how a statement runs, which errors
    mean what)."""

    def __init__(self, conn: C, prepared: PreparedStatements) -> None:
        self._conn = conn
        self._prepared = prepared

    async def execute(
        self, statement: Executable, parameters: Mapping[str, Any] | None = None
    ) -> RawRows:
        prepared = self._prepared.get(statement, parameters)
        sql, arguments = prepared.arguments(parameters)
        keys, rows, rowcount = await self._run(sql, arguments, prepared.returns_rows)
        return RawRows(keys, [prepared.decode(row) for row in rows], rowcount)

    @abstractmethod
    async def _run(self, sql: str, arguments: tuple[Any, ...], returns_rows: bool) -> Ran:
        """The statement's column names, rows and row count; a unique violation as
        SQLAlchemy's ``IntegrityError``, any other driver failure as ``RawWriteUnavailable``."""


class SqliteStatements(_DriverStatements[sqlite3.Connection]):
    """On a stdlib :mod:`sqlite3` connection (its calls never suspend the loop)."""

    async def _run(self, sql: str, arguments: tuple[Any, ...], returns_rows: bool) -> Ran:
        try:
            cursor = self._conn.execute(sql, arguments)
            rows = cursor.fetchall()
        except sqlite3.IntegrityError as error:
            raise IntegrityError(sql, arguments, error) from error
        except sqlite3.Error as error:
            raise RawWriteUnavailable("a statement failed on the raw driver") from error
        return [column[0] for column in cursor.description or ()], rows, cursor.rowcount


class PgStatements(_DriverStatements["asyncpg.Connection"]):
    """On a raw asyncpg connection."""

    async def _run(self, sql: str, arguments: tuple[Any, ...], returns_rows: bool) -> Ran:
        try:
            if returns_rows:
                records = await self._conn.fetch(sql, *arguments)
                rowcount = len(records)
            else:
                records = []
                rowcount = _rowcount(await self._conn.execute(sql, *arguments))
        except driver().IntegrityConstraintViolationError as error:
            raise IntegrityError(sql, arguments, error) from error
        except driver_failures() as error:
            raise RawWriteUnavailable("a statement failed on the raw driver") from error
        keys = list(records[0].keys()) if records else []
        return keys, [tuple(record) for record in records], rowcount


def _rowcount(status: str) -> int:
    """The rows of a command tag (``UPDATE 3``, ``INSERT 0 1``); -1 when it names none."""
    last = status.rsplit(" ", 1)[-1]
    return int(last) if last.isdigit() else -1


def _open_writer(path: str) -> sqlite3.Connection:
    """The engine's connection settings (``store/database.py``) but a busy timeout of 0
    (``timeout=0``: from the connection's first statement on) and no autocheckpoint (its
    checkpoints run in a worker thread, ``store/wal_checkpoint.py``)."""
    uri = Path(path).resolve().as_uri() + "?mode=rw"
    connection = sqlite3.connect(
        uri, uri=True, isolation_level=None, check_same_thread=False, timeout=0
    )
    pragmas = ("journal_mode=WAL", "synchronous=NORMAL", "foreign_keys=ON", "wal_autocheckpoint=0")
    try:
        for pragma in pragmas:
            connection.execute(f"PRAGMA {pragma}")
    except sqlite3.Error:
        connection.close()
        raise
    return connection
