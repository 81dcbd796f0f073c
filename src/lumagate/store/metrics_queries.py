"""The database's side of ``/metrics``: aggregates any replica can report (cluster-wide).

Small grouped counts over indexed columns (tasks by state, queued tasks per channel,
deliveries by state) and two sums (delivery attempts by outcome, ledger by kind). Every
replica answers the same numbers, so dashboards may take any one replica's value (``max``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from lumagate.domain.clock import ensure_utc
from lumagate.domain.states import TaskState
from lumagate.store.database import Database
from lumagate.store.schema import deliveries, delivery_attempts, ledger, tasks


@dataclass(frozen=True)
class QueueDepth:
    """Queued tasks of one channel and when the oldest of them was created."""

    channel: str
    depth: int
    oldest_created_at: datetime | None


async def queue_depths(conn: AsyncConnection) -> list[QueueDepth]:
    """Every channel's queue, in one grouped read (for ``/metrics`` and the console)."""
    query = (
        select(tasks.c.channel, func.count(), func.min(tasks.c.created_at))
        .where(tasks.c.state == TaskState.QUEUED.value)
        .group_by(tasks.c.channel)
    )
    return [
        QueueDepth(str(c), int(n), None if oldest is None else ensure_utc(oldest))
        for c, n, oldest in (await conn.execute(query)).all()
    ]


@dataclass(frozen=True)
class DatabaseTotals:
    """One read of every cluster-wide aggregate."""

    tasks_by_state: dict[str, int]
    queues: list[QueueDepth]
    deliveries_by_state: dict[str, int]
    oldest_pending_delivery: datetime | None
    attempts_by_outcome: dict[str, int]
    ledger_by_kind: dict[str, int]


class MetricsQueries:
    """Read-only aggregates for the metrics endpoint."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def totals(self) -> DatabaseTotals:
        by_state = select(tasks.c.state, func.count()).group_by(tasks.c.state)
        delivery_states = select(deliveries.c.state, func.count()).group_by(deliveries.c.state)
        oldest_pending = select(func.min(deliveries.c.created_at)).where(
            deliveries.c.state == "pending"
        )
        attempts = select(delivery_attempts.c.outcome, func.count()).group_by(
            delivery_attempts.c.outcome
        )
        credits = select(ledger.c.kind, func.sum(ledger.c.delta)).group_by(ledger.c.kind)
        async with self.db.read() as conn:
            states = {str(s): int(n) for s, n in (await conn.execute(by_state)).all()}
            queues = await queue_depths(conn)
            delivered = {str(s): int(n) for s, n in (await conn.execute(delivery_states)).all()}
            oldest = (await conn.execute(oldest_pending)).scalar()
            outcomes = {str(o): int(n) for o, n in (await conn.execute(attempts)).all()}
            sums = {str(k): int(v or 0) for k, v in (await conn.execute(credits)).all()}
        return DatabaseTotals(
            tasks_by_state=states,
            queues=queues,
            deliveries_by_state=delivered,
            oldest_pending_delivery=ensure_utc(oldest) if oldest is not None else None,
            attempts_by_outcome=outcomes,
            ledger_by_kind=sums,
        )
