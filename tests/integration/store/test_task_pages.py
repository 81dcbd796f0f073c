"""Keyset pages of a tenant's tasks on real SQLite and PostgreSQL: both orders, ties on
``created_at`` broken by id, states, offset after a cursor, hidden and foreign tasks, and a
cursor that keeps its place while tasks are inserted before it. Also the rate window's count."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import update

from lumagate.domain.channels import Channel
from lumagate.domain.request import GenerationRequest
from lumagate.domain.states import TaskState
from lumagate.store.database import Database
from lumagate.store.schema import tasks
from lumagate.store.task_pages import TaskPageQuery
from lumagate.store.tasks import NewTask, TaskStore
from lumagate.store.unit_of_work import Transactions

T0 = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
SECOND = timedelta(seconds=1)


async def _task(db: Database, tenant: str, at: datetime, task_id: str | None = None) -> str:
    new = NewTask(
        id=task_id or str(uuid.uuid4()),
        tenant_id=tenant,
        channel=Channel.DEFAULT,
        dialect="reseller",
        request=GenerationRequest(prompt="p"),
    )
    async with Transactions(db).begin() as work:
        return (await work.tasks.insert(new, at)).id


async def _ids(store: TaskStore, **query: object) -> tuple[list[str], bool]:
    found, more = await store.page(TaskPageQuery(tenant_id="a", **query))  # type: ignore[arg-type]
    return [t.id for t in found], more


async def test_pages_in_both_orders_with_ties_broken_by_id(db: Database) -> None:
    store = TaskStore(db)
    # Two tasks share one created_at: the id orders them, so no page repeats or skips one.
    tied = sorted(str(uuid.uuid4()) for _ in range(2))
    made = [await _task(db, "a", T0)]
    made += [await _task(db, "a", T0 + SECOND, task_id) for task_id in tied]
    made += [await _task(db, "a", T0 + 2 * SECOND), await _task(db, "a", T0 + 3 * SECOND)]
    await _task(db, "b", T0 + 4 * SECOND)  # another tenant's

    newest = made[::-1]
    assert await _ids(store, limit=10) == (newest, False)
    assert await _ids(store, limit=2) == (newest[:2], True)
    walked: list[str] = []
    after: str | None = None
    while True:
        page, more = await _ids(store, limit=2, after=after)
        walked += page
        if not more:
            break
        after = page[-1]
    assert walked == newest
    assert await _ids(store, limit=2, after=made[1], oldest_first=True) == (made[2:4], True)
    assert await _ids(store, limit=10, oldest_first=True) == (made, False)
    assert await _ids(store, limit=2, offset=1, after=newest[0]) == (newest[2:4], True)


async def test_states_hidden_foreign_and_unknown_cursors(db: Database) -> None:
    store = TaskStore(db)
    made = [await _task(db, "a", T0 + n * SECOND) for n in range(4)]
    foreign = await _task(db, "b", T0)
    async with db.write() as conn:
        await conn.execute(
            update(tasks).where(tasks.c.id == made[0]).values(state=TaskState.FAILED.value)
        )
    await store.hide(made[2], "a", T0)

    assert await _ids(store, limit=10, states=(TaskState.FAILED,)) == ([made[0]], False)
    assert await _ids(store, limit=10) == ([made[3], made[1], made[0]], False)
    # A hidden cursor keeps its place; a foreign or unknown one gives nothing.
    assert await _ids(store, limit=10, after=made[2]) == ([made[1], made[0]], False)
    assert await _ids(store, limit=10, after=foreign) == ([], False)
    assert await _ids(store, limit=10, after=str(uuid.uuid4())) == ([], False)


async def test_a_cursor_keeps_its_place_while_tasks_arrive(db: Database) -> None:
    store = TaskStore(db)
    made = [await _task(db, "a", T0 + n * SECOND) for n in range(5)]
    first, _ = await _ids(store, limit=2)
    for n in range(3):
        await _task(db, "a", T0 + (10 + n) * SECOND)
    second, more = await _ids(store, limit=2, after=first[-1])
    assert second == [made[2], made[1]] and more


async def test_creates_since_counts_the_window(db: Database) -> None:
    store = TaskStore(db)
    assert await store.creates_since("a", T0) == (0, None)
    await _task(db, "a", T0 - SECOND)  # before the window
    await _task(db, "a", T0 + SECOND)
    hidden = await _task(db, "a", T0 + 2 * SECOND)
    await store.hide(hidden, "a", T0)  # still counted, as the rate limit counts it
    await _task(db, "b", T0 + 3 * SECOND)
    assert await store.creates_since("a", T0) == (2, T0 + 2 * SECOND)
