"""Numeric task ids (migration 0008): written at insert, backfilled for older tasks, looked up
among the tenant's visible tasks by an index walk, on SQLite and PostgreSQL."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy import select, update

from lumagate.domain.channels import Channel
from lumagate.domain.numeric_ids import numeric_id
from lumagate.domain.request import GenerationRequest
from lumagate.domain.states import TaskState
from lumagate.store import migrate
from lumagate.store.database import Database
from lumagate.store.schema import tasks
from lumagate.store.tasks import NewTask, TaskStore
from lumagate.store.unit_of_work import Transactions
from tests.integration.store.test_query_plans import assert_indexed, plans_while

NOW = datetime(2026, 12, 1, 9, 0, 0, tzinfo=UTC)
OLD_TASKS = sa.table(  # the columns of revision 0005 that a row needs
    "tasks",
    *(
        sa.column(name, tasks.c[name].type)
        for name in (
            "id",
            "tenant_id",
            "channel",
            "priority",
            "dialect",
            "request",
            "state",
            "created_at",
            "updated_at",
        )
    ),
)


def _row(tenant: str, n: int) -> dict[str, object]:
    created = NOW - timedelta(minutes=n)
    return {
        "id": str(uuid.uuid4()),
        "tenant_id": tenant,
        "channel": "default",
        "priority": Channel.DEFAULT.priority,
        "dialect": "newapi_video",
        "request": GenerationRequest(prompt=f"p{n}").model_dump(mode="json"),
        "state": TaskState.QUEUED.value,
        "created_at": created,
        "updated_at": created,
    }


async def test_tasks_made_before_0008_are_numbered_by_the_migration(
    empty_database_url: str,
) -> None:
    database = Database(empty_database_url)
    try:
        await migrate.upgrade(database, "0005")
        old = [_row("me", n) for n in range(1500)]  # more than one backfill batch
        async with database.write() as conn:  # the 0005 table: no numeric_id column yet
            await conn.execute(OLD_TASKS.insert(), old)
        await migrate.upgrade(database)
        async with database.read() as conn:
            found = dict((await conn.execute(select(tasks.c.id, tasks.c.numeric_id))).all())
        assert found == {row["id"]: numeric_id(str(row["id"])) for row in old}
    finally:
        await database.dispose()


async def test_insert_numbers_the_task_and_lookups_stay_in_the_tenant(database_url: str) -> None:
    database = Database(database_url)
    try:
        await migrate.upgrade(database)
        async with Transactions(database).begin() as work:
            task = await work.tasks.insert(
                NewTask(
                    id=str(uuid.uuid4()),
                    tenant_id="me",
                    channel=Channel.DEFAULT,
                    dialect="newapi_video",
                    request=GenerationRequest(prompt="a cat"),
                ),
                NOW,
            )
        store = TaskStore(database)
        number = numeric_id(task.id)
        assert (await store.find_by_number(number, "me")).id == task.id  # type: ignore[union-attr]
        assert await store.find_by_number(number, "other") is None
        assert await store.find_by_number(number + 1, "me") is None

        async def lookup() -> None:
            await store.find_by_number(number, "me")

        (plan,) = await plans_while(database, lookup)
        assert_indexed(plan, "ix_tasks_tenant_numeric")
        async with database.write() as conn:
            await conn.execute(update(tasks).where(tasks.c.id == task.id).values(hidden=True))
        assert await store.find_by_number(number, "me") is None  # hidden: as if deleted
    finally:
        await database.dispose()
