"""Wait estimates come from a snapshot of the queue: positions equal the store's COUNT, and
many estimates within the snapshot's age cost one queue read and one accounts read in all."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

from cryptography.fernet import Fernet

from lumagate.domain.channels import Channel
from lumagate.domain.request import GenerationRequest
from lumagate.domain.states import TaskState
from lumagate.security.crypto import SecretBox
from lumagate.service.wait_estimate import SNAPSHOT_SECONDS, WaitEstimator
from lumagate.store.accounts import AccountStore
from lumagate.store.database import Database
from lumagate.store.schema import tasks
from lumagate.store.tasks import TaskStore

NOW = datetime(2026, 12, 1, 9, 0, 0, tzinfo=UTC)


class CountingTasks(TaskStore):
    def __init__(self, db: Database) -> None:
        super().__init__(db)
        self.queue_reads = 0

    async def queued_order(self) -> list[tuple[int, datetime]]:
        self.queue_reads += 1
        return await super().queued_order()

    async def recent_run_seconds(self, sample: int = 50) -> float | None:
        return 60.0


async def _seed(db: Database) -> list[str]:
    rows, ids = [], []
    for i in range(30):
        channel = list(Channel)[i % 3]
        task_id = str(uuid.uuid4())
        ids.append(task_id)
        created = NOW + timedelta(seconds=i)
        rows.append(
            {
                "id": task_id,
                "tenant_id": "t",
                "channel": channel.value,
                "priority": channel.priority,
                "dialect": "reseller",
                "request": GenerationRequest(prompt=f"p{i}").model_dump(mode="json"),
                "state": (TaskState.QUEUED if i % 5 else TaskState.PROCESSING).value,
                "created_at": created,
                "updated_at": created,
            }
        )
    async with db.write() as conn:
        await conn.execute(tasks.insert(), rows)
    return ids


async def test_positions_match_the_count_and_cost_one_read_per_snapshot(db: Database) -> None:
    ids = await _seed(db)
    store = CountingTasks(db)
    accounts = AccountStore(db, SecretBox(Fernet.generate_key()))
    await accounts.create(name="a", kind="sandbox", now=NOW, max_concurrency=2)
    clock = [100.0]
    waits = WaitEstimator(store, accounts, clock=lambda: clock[0])
    queued = [t for t in [await store.get(i) for i in ids] if t and t.state == TaskState.QUEUED]
    for task in queued:
        ahead = await store.queue_position(task)
        assert await waits.estimate(task) == round((ahead // 2 + 1) * 60.0), task.id
    assert store.queue_reads == 1
    clock[0] += SNAPSHOT_SECONDS + 0.1
    first = await waits.estimate(queued[0])
    assert first == round((await store.queue_position(queued[0]) // 2 + 1) * 60.0)
    await waits.estimate(queued[1])  # stale: answered from the old snapshot, one refresh
    await waits.settle()
    assert store.queue_reads == 2  # the refresh read the queue once, in the background
    async with db.write() as conn:  # a task queued ahead of everyone: the refresh shows it
        await conn.execute(tasks.update().where(tasks.c.id == queued[0].id).values(priority=99))
    clock[0] += SNAPSHOT_SECONDS + 0.1
    await waits.estimate(queued[1])
    await waits.settle()
    assert store.queue_reads == 3
    behind = await waits.estimate(queued[1])
    assert behind == round((await store.queue_position(queued[1]) // 2 + 1) * 60.0)


class BlockedTasks(CountingTasks):
    """A queue read that waits until the test lets it through."""

    def __init__(self, db: Database) -> None:
        super().__init__(db)
        self.gate = asyncio.Event()

    async def queued_order(self) -> list[tuple[int, datetime]]:
        if self.queue_reads:  # the first read passes; refreshes wait at the gate
            await self.gate.wait()
        return await super().queued_order()


async def test_a_stale_snapshot_answers_at_once_while_one_refresh_runs(db: Database) -> None:
    ids = await _seed(db)
    store = BlockedTasks(db)
    accounts = AccountStore(db, SecretBox(Fernet.generate_key()))
    await accounts.create(name="a", kind="sandbox", now=NOW, max_concurrency=2)
    clock = [100.0]
    waits = WaitEstimator(store, accounts, clock=lambda: clock[0])
    task = next(t for t in [await store.get(i) for i in ids] if t and t.state == TaskState.QUEUED)
    fresh = await waits.estimate(task)
    clock[0] += SNAPSHOT_SECONDS + 0.1
    stale = [await asyncio.wait_for(waits.estimate(task), 5) for _ in range(3)]
    assert stale == [fresh] * 3  # answered while the refresh waits at the gate
    assert store.queue_reads == 1
    store.gate.set()
    await waits.settle()
    assert store.queue_reads == 2  # three stale estimates, one refresh
