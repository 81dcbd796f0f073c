"""What an operator reads about the whole gateway: the overview, usage per key and day, task search.

Counts are bucketed here (hours for the last 24 h, days for the last 7) from the few columns
:class:`~lumagate.store.insights.InsightStore` returns, so the same code serves both databases.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

from lumagate.domain.accounts import Account
from lumagate.domain.clock import utcnow
from lumagate.domain.ledger import LedgerKind
from lumagate.domain.task import Task
from lumagate.store.accounts import AccountStore
from lumagate.store.insights import InsightStore, SpendEntry, TaskFilter
from lumagate.store.metrics_queries import QueueDepth
from lumagate.store.pool import PoolStore

__all__ = ["Bucket", "InsightsService", "Overview", "TaskFilter", "UsageRow"]


@dataclass(frozen=True)
class Bucket:
    """Completed and failed tasks that finished in ``[start, start + width)``."""

    start: datetime
    completed: int = 0
    failed: int = 0


@dataclass(frozen=True)
class AccountLoad:
    account: Account
    running: int


@dataclass(frozen=True)
class Overview:
    queues: list[QueueDepth]
    accounts: list[AccountLoad]
    hourly: list[Bucket]
    daily: list[Bucket]
    callback_backlog: int
    spent_24h: int
    spent_7d: int


@dataclass(frozen=True)
class UsageRow:
    """One key on one day: generations charged and not refunded, credits spent."""

    day: datetime
    key_id: str
    generations: int
    credits: int


def _floor(at: datetime, width: timedelta) -> datetime:
    if width >= timedelta(days=1):
        return at.replace(hour=0, minute=0, second=0, microsecond=0)
    return at.replace(minute=0, second=0, microsecond=0)


def bucket_counts(
    finished: list[tuple[str, datetime]], start: datetime, width: timedelta, count: int
) -> list[Bucket]:
    """``count`` consecutive buckets from ``start`` with the finished tasks counted in."""
    tallies: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    for state, at in finished:
        index = (at - start) // width  # floor: a moment before start is bucket -1
        if 0 <= index < count:
            tallies[index][0 if state == "completed" else 1] += 1
    return [
        Bucket(start + width * i, completed=tallies[i][0], failed=tallies[i][1])
        for i in range(count)
    ]


def usage_rows(entries: list[SpendEntry]) -> list[UsageRow]:
    """Per key and UTC day, newest day first; a refund takes its generation back."""
    totals: dict[tuple[datetime, str], list[int]] = defaultdict(lambda: [0, 0])
    for entry in entries:
        cell = totals[(_floor(entry.created_at, timedelta(days=1)), entry.key_id)]
        cell[0] += 1 if entry.kind == LedgerKind.CHARGE.value else -1
        cell[1] -= entry.delta
    return [
        UsageRow(day, key_id, generations, credits)
        for (day, key_id), (generations, credits) in sorted(
            totals.items(), key=lambda item: (item[0][0], item[0][1]), reverse=True
        )
    ]


class InsightsService:
    """Read-only views across every tenant and account."""

    def __init__(self, insights: InsightStore, accounts: AccountStore, pool: PoolStore) -> None:
        self.insights = insights
        self.accounts = accounts
        self.pool = pool

    async def overview(self, now: datetime | None = None) -> Overview:
        now = now or utcnow()
        hour, day = timedelta(hours=1), timedelta(days=1)
        hourly_start = _floor(now, hour) - hour * 23
        daily_start = _floor(now, day) - day * 6
        finished = [
            (f.state, f.finished_at)
            for f in await self.insights.finished_since(min(hourly_start, daily_start))
        ]
        running = await self.pool.running_by_account()
        spend = await self.insights.spend_entries(now - timedelta(days=7))
        return Overview(
            queues=sorted(await self.insights.queue_depths(), key=lambda q: q.channel),
            accounts=[AccountLoad(a, running.get(a.id, 0)) for a in await self.accounts.all()],
            hourly=bucket_counts(finished, hourly_start, hour, 24),
            daily=bucket_counts(finished, daily_start, day, 7),
            callback_backlog=await self.insights.callback_backlog(),
            spent_24h=-sum(e.delta for e in spend if e.created_at >= now - day),
            spent_7d=-sum(e.delta for e in spend),
        )

    async def usage(
        self, days: int, key_ids: tuple[str, ...] = (), now: datetime | None = None
    ) -> list[UsageRow]:
        """Usage of the last ``days`` UTC days (today included)."""
        now = now or utcnow()
        since = _floor(now, timedelta(days=1)) - timedelta(days=max(1, days) - 1)
        return usage_rows(await self.insights.spend_entries(since, key_ids=key_ids))

    async def spend_by_key(self) -> dict[str, int]:
        return await self.insights.spend_by_key()

    async def search_tasks(
        self, where: TaskFilter, *, offset: int, limit: int
    ) -> tuple[list[Task], int]:
        return await self.insights.search_tasks(where, offset=offset, limit=limit)
