"""One write transaction over several stores, for the jobs that must commit all or nothing.

Storing a task locks its key, checks the key's limits, inserts the task and charges it
(:class:`~lumagate.service.tasks.TaskService` with the billing admission); a dispatch pass locks
the accounts, counts what each runs, claims queued tasks and fails those no account can serve
(:class:`~lumagate.engine.dispatcher.Dispatcher`). Each is one transaction, yet the services
and the engine never hold a connection: :meth:`Transactions.begin` yields a :class:`UnitOfWork`
whose members run their typed statements on that one transaction. Leaving the block commits;
an exception rolls every statement back (a refused create leaves no task and no charge).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import TypeVar

from lumagate.store.accounts import AccountLocks
from lumagate.store.database import Database
from lumagate.store.executes import Executes
from lumagate.store.ledger import LedgerCharges
from lumagate.store.quotas import KeyQuotas
from lumagate.store.task_writes import TaskWrites

T = TypeVar("T")


class UnitOfWork:
    """The statements of one write transaction, grouped by the table they touch."""

    def __init__(self, conn: Executes, *, is_sqlite: bool) -> None:
        self.tasks = TaskWrites(conn, is_sqlite=is_sqlite)
        self.accounts = AccountLocks(conn, is_sqlite=is_sqlite)
        self.quotas = KeyQuotas(conn)
        self.ledger = LedgerCharges(conn)


class Transactions:
    """Opens units of work on the database's writer."""

    def __init__(self, db: Database) -> None:
        self.db = db

    @asynccontextmanager
    async def begin(self) -> AsyncIterator[UnitOfWork]:
        async with self.db.write() as conn:
            yield UnitOfWork(conn, is_sqlite=self.db.is_sqlite)

    async def run(self, body: Callable[[UnitOfWork], Awaitable[T]]) -> T:
        """``body`` in one unit of work (as ``store/hot_write.py``'s ``HotWrites.run``)."""
        async with self.begin() as work:
            return await body(work)
