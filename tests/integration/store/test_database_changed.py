"""``Database.changed``, the conditional write every store's ``… -> bool`` update goes through:
it counts the rows its ``WHERE`` still matched (SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy import delete, update

from lumagate.store import migrate
from lumagate.store.database import Database
from lumagate.store.render_jobs import RenderJobStore
from lumagate.store.schema import render_jobs

JOB = "sbx-00000000-0000-0000-0000-00000000000b"


@pytest.fixture
async def database(database_url: str) -> AsyncIterator[Database]:
    database = Database(database_url)
    await migrate.upgrade(database)
    try:
        yield database
    finally:
        await database.dispose()


async def test_changed_counts_the_rows_its_condition_still_matched(database: Database) -> None:
    await RenderJobStore(database).record(JOB, {}, None, "videos/x")
    once = update(render_jobs).where(render_jobs.c.id == JOB, render_jobs.c.renders == 0)
    assert await database.changed(once.values(renders=1)) == 1
    assert await database.changed(once.values(renders=2)) == 0  # no longer 0: nothing written
    stored = await RenderJobStore(database).get(JOB)
    assert stored is not None and stored.renders == 1
    assert await database.changed(delete(render_jobs).where(render_jobs.c.id == JOB)) == 1
    assert await RenderJobStore(database).get(JOB) is None
