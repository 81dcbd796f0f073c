"""The GET's key-and-task read on the raw driver (store/hot_read.py) gives exactly what the
SQLAlchemy reads give, refuses what they refuse, and falls back when it cannot answer.

Every test takes ``database_url``, so it runs once on SQLite and once on PostgreSQL.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg  # type: ignore[import-untyped]
import pytest
from sqlalchemy import update
from sqlalchemy.engine import make_url

from lumagate.domain.channels import Channel
from lumagate.domain.request import GenerationRequest
from lumagate.domain.states import TaskState
from lumagate.store.database import Database
from lumagate.store.hot_pg import RawConnections
from lumagate.store.hot_read import HotRead
from lumagate.store.keys import _KEY_AND_TASK, KeyStore
from lumagate.store.schema import tasks
from lumagate.store.tasks import NewTask, TaskStore
from lumagate.store.unit_of_work import Transactions

NOW = datetime(2026, 12, 1, 9, 0, 0, 123456, tzinfo=UTC)
MEDIA = {"video": "tasks/a/video.mp4", "width": 1280, "height": 720, "thumbnail": "t.jpg"}


async def _task(db: Database, tenant_id: str, **values: Any) -> str:
    new = NewTask(
        id=str(uuid.uuid4()),
        tenant_id=tenant_id,
        channel=Channel.VIP,
        dialect="reseller",
        request=GenerationRequest(prompt="a fox in the snow ❄", aspect_ratio="16:9"),
    )
    async with Transactions(db).begin() as work:
        await work.tasks.insert(new, NOW)
    if values:
        async with db.write() as conn:
            await conn.execute(update(tasks).where(tasks.c.id == new.id).values(**values))
    return new.id


async def test_the_raw_read_decodes_the_rows_the_engine_reads(db: Database) -> None:
    keys = KeyStore(db)
    key, plaintext = await keys.create("hot", NOW, credits=5, rpm=30)
    task_id = await _task(
        db,
        key.id,
        state=TaskState.COMPLETED.value,
        media=MEDIA,
        progress=100,
        submitted_at=NOW + timedelta(seconds=3),
        finished_at=NOW + timedelta(minutes=2),
        server_id="srv-1",
    )
    assert await keys.hot.fetch({"task_id": task_id, "digest": "x"}, len) == []  # no fallback
    found_key, found_task = await keys.authenticate_with_task(plaintext, task_id, NOW)
    assert found_key == await keys.get(key.id)
    assert found_task is not None
    assert found_task == await TaskStore(db).get(task_id, key.id)
    assert found_task.media is not None and found_task.media.width == 1280
    assert found_task.finished_at == NOW + timedelta(minutes=2)
    assert found_task.request.prompt == "a fox in the snow ❄"


async def test_the_raw_read_refuses_what_the_engine_refuses(db: Database) -> None:
    keys = KeyStore(db)
    me, mine = await keys.create("me", NOW)
    other, _ = await keys.create("other", NOW)
    theirs = await _task(db, other.id)
    hidden = await _task(db, me.id, hidden=True)
    visible = await _task(db, me.id)
    assert await keys.authenticate_with_task(mine, theirs, NOW) == (me, None)
    assert await keys.authenticate_with_task(mine, hidden, NOW) == (me, None)
    assert await keys.authenticate_with_task(mine, str(uuid.uuid4()), NOW) == (me, None)
    assert await keys.authenticate_with_task("lg-not-a-key", visible, NOW) == (None, None)
    assert (await keys.authenticate_with_task(mine, visible, NOW))[1] is not None
    assert await keys.revoke(me.id, NOW)
    # Refused at once: the reader holds no snapshot from before the revocation.
    assert await keys.authenticate_with_task(mine, visible, NOW) == (None, None)
    _late, expiring = await keys.create("late", NOW, expires_at=NOW + timedelta(minutes=1))
    after = NOW + timedelta(minutes=2)
    assert await keys.authenticate_with_task(expiring, visible, after) == (None, None)


async def test_a_database_the_raw_driver_cannot_open_falls_back(db: Database) -> None:
    keys = KeyStore(db)
    key, plaintext = await keys.create("fallback", NOW)
    task_id = await _task(db, key.id)
    if db.is_sqlite:
        keys.hot = HotRead("sqlite+aiosqlite:///:memory:", db.dialect, _KEY_AND_TASK)
    else:
        unreachable = db.url.rsplit("@", 1)[0] + "@127.0.0.1:9/nowhere"
        keys.hot = HotRead(unreachable, db.dialect, _KEY_AND_TASK)
    assert await keys.hot.fetch({"task_id": task_id, "digest": "x"}, len) is None
    found_key, found_task = await keys.authenticate_with_task(plaintext, task_id, NOW)
    assert found_key == key and found_task is not None and found_task.id == task_id
    await keys.hot.close()


async def test_objects_kept_for_a_row_are_rebuilt_when_the_row_changes(db: Database) -> None:
    keys = KeyStore(db)
    key, plaintext = await keys.create("memo", NOW)
    task_id = await _task(db, key.id)
    _, first = await keys.authenticate_with_task(plaintext, task_id, NOW)
    _, again = await keys.authenticate_with_task(plaintext, task_id, NOW)
    assert first is not None and again is first  # the same row: built once
    async with db.write() as conn:
        await conn.execute(
            update(tasks)
            .where(tasks.c.id == task_id)
            .values(state=TaskState.PROCESSING.value, progress=40)
        )
    _, changed = await keys.authenticate_with_task(plaintext, task_id, NOW)
    assert changed is not None and changed is not first
    assert (changed.state, changed.progress) == (TaskState.PROCESSING, 40)
    assert changed == await TaskStore(db).get(task_id, key.id)
    async with db.write() as conn:
        await conn.execute(update(tasks).where(tasks.c.id == task_id).values(hidden=True))
    assert await keys.authenticate_with_task(plaintext, task_id, NOW) == (key, None)


async def test_raw_postgresql_connections_stay_few_and_survive_a_failed_statement(
    pg_url: str,
) -> None:
    dsn = make_url(pg_url).set(drivername="postgresql").render_as_string(hide_password=False)
    connections = RawConnections(dsn, size=2)
    try:
        reads = [connections.fetch("SELECT $1::int, pg_backend_pid()", (i,)) for i in range(12)]
        rows = await asyncio.gather(*reads)
        assert [row[0][0] for row in rows] == list(range(12))
        assert len({row[0][1] for row in rows}) <= 2  # twelve reads, two connections
        with pytest.raises(asyncpg.PostgresError):
            await connections.fetch("SELECT 1 / $1::int", (0,))
        again = await asyncio.gather(*[connections.fetch("SELECT $1::int", (7,)) for _ in range(4)])
        assert [[tuple(row) for row in rows] for rows in again] == [[(7,)]] * 4
    finally:
        await connections.close()
