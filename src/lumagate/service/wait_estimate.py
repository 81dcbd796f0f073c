"""Wait estimates from a per-replica snapshot of the queue, not a count per request.

``estimate_wait_seconds`` is in every flat generation body, so every GET of a queued task
asked the database how many queued tasks were ahead (a COUNT over the queue) and loaded every
account for the capacity. Here one read of the queue's order (``priority``, ``created_at`` of
the queued rows, walked on ``ix_tasks_dispatch``) and one of the accounts serve every estimate
for ``SNAPSHOT_SECONDS``: a position is two bisections in memory. An estimate is therefore up
to that many seconds stale, which an estimate of minutes tolerates; the recent run time is a
rolling window of completions read every ``RUN_TIME_SECONDS``.

Both are maintained, not computed on a request: once a value exists, the estimate that finds
it stale answers with it and starts one refresh in the background, so no client GET waits
for a queue or history read (only the replica's first estimate of each does).
"""

from __future__ import annotations

import asyncio
import bisect
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from lumagate.domain.channels import Channel
from lumagate.domain.clock import utcnow
from lumagate.domain.states import TaskState
from lumagate.domain.task import Task
from lumagate.service.deliverability import AccountList

log = logging.getLogger(__name__)

SNAPSHOT_SECONDS = 5.0
RUN_TIME_SECONDS = 10.0


class QueueReads(Protocol):
    """The two reads behind every estimate (``TaskStore``'s)."""

    async def queued_order(self) -> list[tuple[int, datetime]]:
        """``(priority, created_at)`` of every queued task in dispatch order."""
        ...

    async def recent_run_seconds(self) -> float | None:
        """The mean run time of the latest completed tasks; None without history."""
        ...


@dataclass
class QueueSnapshot:
    """The queue's order when read: creation times per priority, and capacity per channel."""

    by_priority: dict[int, list[datetime]] = field(default_factory=dict)
    capacity: dict[Channel, int] = field(default_factory=dict)

    def ahead_of(self, task: Task) -> int:
        """Queued tasks dispatched before ``task`` (as ``TaskStore.queue_position`` counts)."""
        mine = task.channel.priority
        ahead = sum(len(times) for priority, times in self.by_priority.items() if priority > mine)
        return ahead + bisect.bisect_left(self.by_priority.get(mine, []), task.created_at)


class WaitEstimator:
    """Queue position over capacity times the recent run time, from bounded-age snapshots."""

    def __init__(
        self,
        tasks: QueueReads,
        accounts: AccountList,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.tasks = tasks
        self.accounts = accounts
        self.clock = clock
        self._snapshot: tuple[float, QueueSnapshot] | None = None
        self._run_seconds: tuple[float, float | None] | None = None
        # one first read of each, however many GETs arrive at once
        self._queue_lock = asyncio.Lock()
        self._run_lock = asyncio.Lock()
        self._refreshes: dict[str, asyncio.Task[None]] = {}

    async def estimate(self, task: Task) -> int | None:
        if task.is_terminal:
            return None
        run_seconds = await self._recent_run_seconds()
        if run_seconds is None:
            return None
        if task.state == TaskState.QUEUED:
            snapshot = await self._queue()
            capacity = max(1, snapshot.capacity.get(task.channel, 0))
            return round((snapshot.ahead_of(task) // capacity + 1) * run_seconds)
        started = task.submitted_at or task.created_at
        return max(0, round(run_seconds - (utcnow() - started).total_seconds()))

    async def _recent_run_seconds(self) -> float | None:
        cached = self._run_seconds
        if cached is None:  # the first estimate of this replica: read it now, once
            await self._read_first(
                self._run_lock, lambda: self._run_seconds is None, self._read_run_seconds
            )
            cached = self._run_seconds
            assert cached is not None
        elif self.clock() - cached[0] > RUN_TIME_SECONDS:
            self._refresh_in_background("run", self._read_run_seconds)
        return cached[1]

    async def _read_run_seconds(self) -> None:
        self._run_seconds = (self.clock(), await self.tasks.recent_run_seconds())

    async def _queue(self) -> QueueSnapshot:
        cached = self._snapshot
        if cached is None:  # the first estimate of a queued task: read it now, once
            await self._read_first(
                self._queue_lock, lambda: self._snapshot is None, self._read_queue
            )
            cached = self._snapshot
            assert cached is not None
        elif self.clock() - cached[0] > SNAPSHOT_SECONDS:
            self._refresh_in_background("queue", self._read_queue)
        return cached[1]

    async def _read_queue(self) -> None:
        snapshot = QueueSnapshot()
        for priority, created_at in await self.tasks.queued_order():
            snapshot.by_priority.setdefault(priority, []).append(created_at)
        for account in await self.accounts.all():
            if account.enabled:
                for channel in account.channels:
                    snapshot.capacity[channel] = (
                        snapshot.capacity.get(channel, 0) + account.max_concurrency
                    )
        self._snapshot = (self.clock(), snapshot)

    @staticmethod
    async def _read_first(
        lock: asyncio.Lock, missing: Callable[[], bool], read: Callable[[], Awaitable[None]]
    ) -> None:
        """``read`` unless an estimate that held ``lock`` before this one already did it."""
        async with lock:
            if missing():
                await read()

    def _refresh_in_background(self, name: str, read: Callable[[], Awaitable[None]]) -> None:
        """Start ``read`` unless one is running: the GET that found the value stale answers
        with it at once instead of waiting for the read (and every GET behind it)."""
        running = self._refreshes.get(name)
        if running is None or running.done():
            self._refreshes[name] = asyncio.create_task(self._logged(name, read))

    @staticmethod
    async def _logged(name: str, read: Callable[[], Awaitable[None]]) -> None:
        try:
            await read()
        except Exception:  # the old value stays; the next stale estimate tries again
            log.exception("wait estimate %s could not be refreshed", name)

    async def settle(self) -> None:
        """Wait for the refreshes under way (tests; a stop that wants none in flight)."""
        await asyncio.gather(*self._refreshes.values())
