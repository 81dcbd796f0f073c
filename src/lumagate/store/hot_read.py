"""The one statement of a client's polled GET (key and task together), below SQLAlchemy.

Through SQLAlchemy's async engine that one-row primary-key read cost far more than the query:
on SQLite aiosqlite hands every step of a statement to its thread and back (a queue put and a
wake-up each), on PostgreSQL the asyncpg adapter runs each call in a greenlet. This module runs
the very statement ``store/keys.py`` builds (compiled once for the dialect) on the driver
itself, and decodes the row with the columns' own SQLAlchemy result processors, so the row is
the one the engine would have given:

- SQLite: the stdlib :mod:`sqlite3` on the event loop thread, one read-only connection per
  process on the WAL database. A WAL reader never waits for the writer; its busy timeout is
  ``BUSY_MS`` (a checkpoint's brief lock), and if it is still busy the caller's async path
  answers instead. Each call steps the statement to its end, so no read snapshot is held
  between calls and a revoked key is refused at once.
- PostgreSQL: a few raw asyncpg connections (:mod:`lumagate.store.hot_pg`; the statement
  is prepared once per connection by asyncpg's statement cache), JSON columns decoded with
  ``json.loads``.

Turning a row into domain objects (a pydantic request, the dataclasses) cost more than the
query, and a client polling its task reads the same row again and again. So the objects built
from a row are kept for that exact raw row (``MEMO_ROWS`` of them, least recently used out):
any change to the row, a revocation or a new state, is a different row and is built afresh.

``fetch`` returns None when the fast path cannot answer (an in-memory database, a busy file,
a connection that failed): the caller then runs the statement through SQLAlchemy, so errors
and their handling stay the engine's.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar, cast

from sqlalchemy import JSON
from sqlalchemy.engine import Dialect, make_url
from sqlalchemy.sql import ColumnElement, Select

from lumagate.store.hot_pg import RawConnections, driver_failures

log = logging.getLogger(__name__)

BUSY_MS = 2  # a WAL reader waits only for a checkpoint's lock of the WAL index
PG_CONNECTIONS = 4  # per process, beside the engine's pool
PG_REST_SECONDS = 10.0  # after a failure, the async engine alone answers this long
MEMO_ROWS = 2048  # rows whose domain objects are kept: a polled task's row rarely changes
T = TypeVar("T")
Row = tuple[Any, ...]
Processor = Callable[[Any], Any] | None


class HotRead:
    """Runs one prepared ``statement`` on the raw driver; see the module doc."""

    def __init__(self, url: str, dialect: Dialect, statement: Select[Any]) -> None:
        compiled = statement.compile(dialect=dialect)
        self.sql = str(compiled)
        self.names: tuple[str, ...] = tuple(compiled.positiontup or ())
        parsed = make_url(url)
        self.is_sqlite = parsed.get_backend_name() == "sqlite"
        self._processors = [result_processor(c, dialect) for c in statement.selected_columns]
        self._memo: OrderedDict[Row, object] = OrderedDict()
        database = parsed.database or ""
        self._sqlite_path = (
            database
            if self.is_sqlite and database and database != ":memory:" and "file:" not in database
            else None
        )
        self._sqlite: sqlite3.Connection | None = None
        self._sqlite_tracer: Callable[[str], None] | None = None
        self._pg = None
        self._pg_resting_until = 0.0
        if not self.is_sqlite:
            dsn = parsed.set(drivername="postgresql").render_as_string(hide_password=False)
            self._pg = RawConnections(dsn, PG_CONNECTIONS)

    def trace(self, tracer: Callable[[str], None]) -> None:
        """Call ``tracer`` with every statement the driver sends from now on, as the driver
        reports it (SQLite's trace callback, asyncpg's query logger): tests count them."""
        if self._pg is not None:
            self._pg.trace(tracer)
            return
        self._sqlite_tracer = tracer
        if self._sqlite is not None:
            self._sqlite.set_trace_callback(tracer)

    def parameters(self, values: dict[str, Any]) -> tuple[Any, ...]:
        """The positional parameters of the compiled statement, in its order."""
        return tuple(values[name] for name in self.names)

    async def fetch(self, values: dict[str, Any], build: Callable[[Row], T]) -> list[T] | None:
        """``build`` of each decoded row, or None when the caller must take the async engine's
        path. ``build`` must depend on the row alone: its result is kept for that raw row."""
        arguments = self.parameters(values)
        if self.is_sqlite:
            raw = self._sqlite_rows(arguments)
        else:
            raw = await self._pg_rows(arguments)
        return None if raw is None else [self._built(row, build) for row in raw]

    def _built(self, raw: Row, build: Callable[[Row], T]) -> T:
        memo = self._memo
        if raw in memo:
            memo.move_to_end(raw)
            return cast(T, memo[raw])
        built = build(self.decode(raw))
        memo[raw] = built
        if len(memo) > MEMO_ROWS:
            memo.popitem(last=False)
        return built

    def decode(self, row: Sequence[Any]) -> Row:
        """The row as the engine would give it (each column's result processor applied)."""
        return tuple(
            value if process is None or value is None else process(value)
            for process, value in zip(self._processors, row, strict=True)
        )

    def _sqlite_rows(self, arguments: tuple[Any, ...]) -> list[Row] | None:
        if self._sqlite_path is None:
            return None
        try:
            if self._sqlite is None:
                self._sqlite = _open_reader(self._sqlite_path)
                self._sqlite.set_trace_callback(self._sqlite_tracer)
            return self._sqlite.execute(self.sql, arguments).fetchall()  # stepped to its end
        except sqlite3.OperationalError as error:  # busy, or the file is not there yet
            log.debug("hot read falls back to the async engine: %s", error)
            return None
        except sqlite3.Error as error:  # anything else: the engine answers (and reports it)
            log.warning("hot read falls back to the async engine: %s", error)
            if self._sqlite is not None:
                self._sqlite.close()
                self._sqlite = None  # opened afresh by the next read
            return None

    async def _pg_rows(self, arguments: tuple[Any, ...]) -> list[Row] | None:
        if self._pg is None or time.monotonic() < self._pg_resting_until:
            return None
        try:
            rows = await self._pg.fetch(self.sql, arguments)
        except driver_failures() as error:
            # The engine's path answers, and for a while alone: a database that is down, or a
            # URL the raw driver cannot use, must not cost every GET a failed attempt first.
            self._pg_resting_until = time.monotonic() + PG_REST_SECONDS
            log.warning("hot read uses the async engine for %ss: %s", PG_REST_SECONDS, error)
            return None
        return [tuple(row) for row in rows]

    async def close(self) -> None:
        if self._sqlite is not None:
            self._sqlite.close()
            self._sqlite = None
        if self._pg is not None:
            await self._pg.close()


def _open_reader(path: str) -> sqlite3.Connection:
    uri = Path(path).resolve().as_uri() + "?mode=ro"
    connection = sqlite3.connect(uri, uri=True, isolation_level=None, check_same_thread=False)
    connection.execute(f"PRAGMA busy_timeout={BUSY_MS}")
    return connection


def result_processor(column: ColumnElement[Any], dialect: Dialect) -> Processor:
    """The column's result processor (the raw writes' too, ``store/raw_statements.py``).
    asyncpg gives JSON as text (SQLAlchemy's dialect decodes it in a codec it installs, so its
    JSON processor is none): decode it here."""
    if isinstance(column.type, JSON) and dialect.name == "postgresql":
        return json.loads
    processor: Processor = column.type.dialect_impl(dialect).result_processor(dialect, None)
    return processor
