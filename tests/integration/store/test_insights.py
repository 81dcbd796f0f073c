"""Operator reads on real SQLite and PostgreSQL: queue depth, finished tasks, spend, callback
backlog, the filtered task log; and changing a key's limits."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import update

from lumagate.domain.channels import Channel
from lumagate.domain.request import GenerationRequest
from lumagate.store.database import Database
from lumagate.store.insights import InsightStore, TaskFilter
from lumagate.store.keys import KeyStore
from lumagate.store.schema import deliveries, ledger, tasks
from lumagate.store.tasks import NewTask
from lumagate.store.unit_of_work import Transactions

T0 = datetime(2026, 4, 1, 9, 0, tzinfo=UTC)
MINUTE = timedelta(minutes=1)


async def _task(db: Database, tenant: str, channel: Channel, dialect: str, at: datetime) -> str:
    new = NewTask(
        id=str(uuid.uuid4()),
        tenant_id=tenant,
        channel=channel,
        dialect=dialect,
        request=GenerationRequest(prompt="p"),
    )
    async with Transactions(db).begin() as work:
        return (await work.tasks.insert(new, at)).id


async def _set(db: Database, task_id: str, **values: object) -> None:
    async with db.write() as conn:
        await conn.execute(update(tasks).where(tasks.c.id == task_id).values(**values))


async def test_queues_finished_tasks_and_the_task_log(db: Database) -> None:
    store = InsightStore(db)
    a1 = await _task(db, "tenant-a", Channel.DEFAULT, "reseller", T0)
    b1 = await _task(db, "tenant-b", Channel.VIP, "reseller", T0 + MINUTE)
    a2 = await _task(db, "tenant-a", Channel.VIP, "official", T0 + 2 * MINUTE)

    depths = {q.channel: (q.depth, q.oldest_created_at) for q in await store.queue_depths()}
    assert depths == {"default": (1, T0), "vip": (2, T0 + MINUTE)}

    await _set(db, a1, state="completed", finished_at=T0 + 10 * MINUTE, account_id="acc-1")
    await _set(db, b1, state="failed", finished_at=T0 + 20 * MINUTE)
    assert {q.channel: q.depth for q in await store.queue_depths()} == {"vip": 1}
    finished = await store.finished_since(T0 + 15 * MINUTE)
    assert [(f.state, f.finished_at) for f in finished] == [("failed", T0 + 20 * MINUTE)]
    assert len(await store.finished_since(T0)) == 2

    async def ids(where: TaskFilter, offset: int = 0, limit: int = 10) -> tuple[list[str], int]:
        found, total = await store.search_tasks(where, offset=offset, limit=limit)
        return [t.id for t in found], total

    assert await ids(TaskFilter()) == ([a2, b1, a1], 3)
    assert await ids(TaskFilter(), offset=1, limit=1) == ([b1], 3)
    assert await ids(TaskFilter(tenant_id="tenant-a")) == ([a2, a1], 2)
    assert await ids(TaskFilter(state="completed", account_id="acc-1")) == ([a1], 1)
    assert await ids(TaskFilter(channel="vip", dialect="reseller")) == ([b1], 1)
    window = TaskFilter(created_from=T0 + MINUTE, created_until=T0 + 2 * MINUTE)
    assert await ids(window) == ([b1], 1)
    assert await ids(TaskFilter(tenant_id="nobody")) == ([], 0)


async def test_spend_and_the_callback_backlog(db: Database) -> None:
    store = InsightStore(db)
    rows = [
        ("k1", "t1", "charge", -100, T0),
        ("k1", "t1", "refund", 100, T0 + MINUTE),
        ("k1", None, "top_up", 500, T0 + MINUTE),
        ("k1", "t2", "charge", -100, T0 + 2 * MINUTE),
        ("k2", "t3", "charge", -40, T0 - timedelta(days=1)),
    ]
    async with db.write() as conn:
        for key_id, task_id, kind, delta, at in rows:
            await conn.execute(
                ledger.insert().values(
                    key_id=key_id, task_id=task_id, kind=kind, delta=delta, created_at=at
                )
            )
        for n, state in enumerate(("pending", "pending", "delivered")):
            await conn.execute(
                deliveries.insert().values(
                    id=str(uuid.uuid4()),
                    task_id=f"task-{n}",
                    tenant_id="k1",
                    event="completed",
                    url="http://x",
                    body="{}",
                    state=state,
                    attempts=0,
                    created_at=T0,
                    updated_at=T0,
                )
            )
    assert await store.spend_by_key() == {"k1": 100, "k2": 40}
    recent = await store.spend_entries(T0)
    assert sorted((e.key_id, e.kind, e.delta) for e in recent) == [
        ("k1", "charge", -100),
        ("k1", "charge", -100),
        ("k1", "refund", 100),
    ]
    assert await store.spend_entries(T0 - timedelta(days=2), key_ids=("k2",)) == [
        e for e in await store.spend_entries(T0 - timedelta(days=2)) if e.key_id == "k2"
    ]
    assert len(await store.spend_entries(T0, until=T0 + MINUTE)) == 1
    assert await store.callback_backlog() == 2


async def test_a_keys_channels_and_limits_change(db: Database) -> None:
    keys = KeyStore(db)
    key, _ = await keys.create("tenant", T0, credits=10, rpm=5)
    assert await keys.update_limits(key.id, channels=(Channel.PRO,), rpm=None, max_running=2)
    changed = await keys.get(key.id)
    assert changed is not None
    assert (changed.channels, changed.rpm, changed.max_running, changed.credits) == (
        (Channel.PRO,),
        None,
        2,
        10,
    )
    assert not await keys.update_limits("missing", channels=(Channel.PRO,), rpm=1, max_running=1)
