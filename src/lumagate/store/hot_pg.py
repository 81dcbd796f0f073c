"""A handful of raw asyncpg connections for the GET's one statement (see store/hot_read.py)
and the create's one transaction (store/hot_write.py).

asyncpg's own pool cost more than the query it ran: ~80 µs of CPU per ``pool.fetch`` against
~36 µs for ``connection.fetch`` (its acquire and release machinery, a task per release and,
by default, a reset query per release: a second round trip). These connections run one
``SELECT`` (prepared once per connection by asyncpg's statement cache), or one transaction
that has ended before the connection is given back, so they need no reset and no more than a
free list: a caller takes a free connection, opens one while fewer than ``size`` exist, or
waits for the next one given back. A connection whose statement failed is closed and not
reused (the next caller opens another).
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import asyncpg  # type: ignore[import-untyped]  # no stubs; used only in store/hot_*


def driver() -> Any:
    """asyncpg, imported with the first raw PostgreSQL connection: a gateway on SQLite never
    loads it (~40 ms of CPU and its C extensions at every start; docs/bench.md)."""
    import asyncpg

    return asyncpg


def driver_failures() -> tuple[type[BaseException], ...]:
    """What a raw statement or connection raises when the database or the driver fails."""
    pg = driver()
    return (OSError, pg.PostgresError, pg.InterfaceError)


class RawConnections:
    """At most ``size`` asyncpg connections to ``dsn``, handed out one statement at a time."""

    def __init__(self, dsn: str, size: int) -> None:
        self.dsn = dsn
        self.size = size
        self._free: deque[asyncpg.Connection] = deque()
        self._waiting: deque[asyncio.Future[asyncpg.Connection | None]] = deque()
        self._count = 0  # open, or being opened
        self._closed = False
        self._tracers: list[Callable[[str], None]] = []

    def trace(self, tracer: Callable[[str], None]) -> None:
        """Call ``tracer`` with the text of every statement sent from now on (tests)."""
        self._tracers.append(tracer)
        for connection in self._free:
            _add_tracer(connection, tracer)

    async def fetch(self, sql: str, arguments: tuple[Any, ...]) -> list[Any]:
        connection = await self.take()
        try:
            rows: list[Any] = await connection.fetch(sql, *arguments)
        except BaseException:
            self.discard(connection)
            raise
        self.give_back(connection)
        return rows

    async def take(self) -> asyncpg.Connection:
        """A connection of the caller's own until :meth:`give_back` (or :meth:`discard`, if
        it may be unusable): the create's transaction holds one for its statements."""
        while True:
            if self._free:
                return self._free.pop()
            if self._count < self.size:
                self._count += 1
                try:
                    connection = await driver().connect(self.dsn)
                except BaseException:
                    self._count -= 1
                    raise
                for tracer in self._tracers:
                    _add_tracer(connection, tracer)
                return connection
            given = await self._wait()
            if given is not None:
                return given  # None: a connection was dropped, so there is room to open one

    async def _wait(self) -> asyncpg.Connection | None:
        waiter: asyncio.Future[asyncpg.Connection | None] = (
            asyncio.get_running_loop().create_future()
        )
        self._waiting.append(waiter)
        try:
            return await waiter
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():  # handed over as we were cancelled
                given = waiter.result()
                if given is not None:
                    self.give_back(given)
            raise

    def give_back(self, connection: asyncpg.Connection) -> None:
        if self._closed or connection.is_closed():
            self.discard(connection)
            return
        if not self._wake(connection):
            self._free.append(connection)

    def discard(self, connection: asyncpg.Connection) -> None:
        self._count -= 1
        connection.terminate()
        self._wake(None)

    def _wake(self, given: asyncpg.Connection | None) -> bool:
        """Hand ``given`` to the first read still waiting (None: tell it to open one)."""
        while self._waiting:
            waiter = self._waiting.popleft()
            if not waiter.done():
                waiter.set_result(given)
                return True
        return False

    async def close(self) -> None:
        self._closed = True
        while self._free:
            connection = self._free.pop()
            self._count -= 1
            await connection.close()


def _add_tracer(connection: asyncpg.Connection, tracer: Callable[[str], None]) -> None:
    connection.add_query_logger(lambda record: tracer(record.query))
