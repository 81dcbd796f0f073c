"""Operator read models across tenants: queues, outcomes over time, spend, usage, task search.

These queries exist for the operator console (and any admin reader); tenant-facing reads stay in
``tasks.py``, where every query is scoped to the caller. Grouping by hour or day is done in
Python over the few columns it needs, so one query text serves SQLite and PostgreSQL alike.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, and_, func, select

from lumagate.domain.clock import ensure_utc
from lumagate.domain.ledger import LedgerKind
from lumagate.domain.states import TaskState
from lumagate.domain.task import Task
from lumagate.store.database import Database
from lumagate.store.metrics_queries import QueueDepth, queue_depths
from lumagate.store.schema import deliveries, ledger, tasks
from lumagate.store.tasks import page_of_tasks

SPEND_KINDS = (LedgerKind.CHARGE.value, LedgerKind.REFUND.value)


@dataclass(frozen=True)
class FinishedTask:
    state: str
    finished_at: datetime


@dataclass(frozen=True)
class SpendEntry:
    """One charge or refund: enough to count generations and credits per key and day."""

    key_id: str
    kind: str
    delta: int
    created_at: datetime


@dataclass(frozen=True)
class TaskFilter:
    """What the operator's task log may be filtered by; None means any."""

    state: str | None = None
    tenant_id: str | None = None
    account_id: str | None = None
    channel: str | None = None
    dialect: str | None = None
    created_from: datetime | None = None
    created_until: datetime | None = None

    def condition(self) -> ColumnElement[bool]:
        parts: list[ColumnElement[bool]] = []
        for column, value in (
            (tasks.c.state, self.state),
            (tasks.c.tenant_id, self.tenant_id),
            (tasks.c.account_id, self.account_id),
            (tasks.c.channel, self.channel),
            (tasks.c.dialect, self.dialect),
        ):
            if value is not None:
                parts.append(column == value)
        if self.created_from is not None:
            parts.append(tasks.c.created_at >= self.created_from)
        if self.created_until is not None:
            parts.append(tasks.c.created_at < self.created_until)
        return and_(True, *parts)


class InsightStore:
    """Aggregates an operator reads; never writes."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def queue_depths(self) -> list[QueueDepth]:
        async with self.db.read() as conn:
            return await queue_depths(conn)

    async def finished_since(self, since: datetime) -> list[FinishedTask]:
        query = select(tasks.c.state, tasks.c.finished_at).where(
            tasks.c.finished_at >= since,
            tasks.c.state.in_([TaskState.COMPLETED.value, TaskState.FAILED.value]),
        )
        async with self.db.read() as conn:
            rows = (await conn.execute(query)).all()
        return [FinishedTask(str(s), ensure_utc(at)) for s, at in rows]

    async def callback_backlog(self) -> int:
        query = select(func.count()).select_from(deliveries).where(deliveries.c.state == "pending")
        async with self.db.read() as conn:
            return int((await conn.execute(query)).scalar_one())

    async def spend_entries(
        self, since: datetime, until: datetime | None = None, key_ids: Sequence[str] = ()
    ) -> list[SpendEntry]:
        conditions = [ledger.c.kind.in_(SPEND_KINDS), ledger.c.created_at >= since]
        if until is not None:
            conditions.append(ledger.c.created_at < until)
        if key_ids:
            conditions.append(ledger.c.key_id.in_(list(key_ids)))
        query = select(ledger.c.key_id, ledger.c.kind, ledger.c.delta, ledger.c.created_at).where(
            and_(*conditions)
        )
        async with self.db.read() as conn:
            rows = (await conn.execute(query)).all()
        return [SpendEntry(str(k), str(kind), int(d), ensure_utc(at)) for k, kind, d, at in rows]

    async def spend_by_key(self) -> dict[str, int]:
        """Credits spent (charges less refunds) per key, over all time."""
        query = (
            select(ledger.c.key_id, func.coalesce(func.sum(ledger.c.delta), 0))
            .where(ledger.c.kind.in_(SPEND_KINDS))
            .group_by(ledger.c.key_id)
        )
        async with self.db.read() as conn:
            return {str(k): -int(total) for k, total in (await conn.execute(query)).all()}

    async def search_tasks(
        self, where: TaskFilter, *, offset: int, limit: int
    ) -> tuple[list[Task], int]:
        found, total, _capped = await page_of_tasks(
            self.db, where.condition(), offset=offset, limit=limit
        )
        return found, total
