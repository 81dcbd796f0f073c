"""A client's GET of one task costs one statement: the key and the task read together, sent by
the raw driver outside any transaction (no BEGIN, no ROLLBACK around it), on SQLite and
PostgreSQL; and the combined read still refuses a revoked key at once and hides another
tenant's task."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine

from lumagate.domain.channels import Channel
from lumagate.domain.request import GenerationRequest
from lumagate.store.database import Database
from lumagate.store.keys import KeyStore
from lumagate.store.schema import tasks

NOW = datetime(2026, 12, 1, 9, 0, 0, tzinfo=UTC)


async def _task(db: Database, tenant_id: str, *, hidden: bool = False) -> str:
    task_id = str(uuid.uuid4())
    async with db.write() as conn:
        await conn.execute(
            tasks.insert().values(
                id=task_id,
                tenant_id=tenant_id,
                channel=Channel.DEFAULT.value,
                priority=Channel.DEFAULT.priority,
                dialect="reseller",
                request=GenerationRequest(prompt="a fox").model_dump(mode="json"),
                state="queued",
                hidden=hidden,
                created_at=NOW,
                updated_at=NOW,
            )
        )
    return task_id


@contextmanager
def round_trips() -> Iterator[list[str]]:
    """Every statement any engine sends, and every ROLLBACK/COMMIT it asks the driver for."""
    seen: list[str] = []

    def statement(_c: Any, _cur: Any, text: str, _p: Any, _ctx: Any, _many: bool) -> None:
        seen.append(text.split()[0].upper())

    def rollback(conn: Any) -> None:
        # The event fires before the dialect decides; this is its rule (DefaultDialect.
        # do_rollback): an autocommit connection of a skip_autocommit_rollback engine sends none.
        dialect = conn.dialect
        dbapi = conn.connection.dbapi_connection
        if not (dialect.skip_autocommit_rollback and dialect.detect_autocommit_setting(dbapi)):
            seen.append("ROLLBACK")

    def commit(_conn: Any) -> None:
        seen.append("COMMIT")

    listeners = (("before_cursor_execute", statement), ("rollback", rollback), ("commit", commit))
    for name, listener in listeners:
        event.listen(Engine, name, listener)
    try:
        yield seen
    finally:
        for name, listener in listeners:
            event.remove(Engine, name, listener)


async def _scheduled_callbacks_run() -> None:
    """Every callback the loop has been given so far has run (call_soon is FIFO)."""
    loop = asyncio.get_running_loop()
    done: asyncio.Future[None] = loop.create_future()
    loop.call_soon(done.set_result, None)
    await done


async def test_key_and_task_are_one_statement_without_a_transaction(db: Database) -> None:
    keys = KeyStore(db)
    key, plaintext = await keys.create("reader", NOW)
    task_id = await _task(db, key.id)
    sent: list[str] = []
    keys.hot.trace(sent.append)  # what the raw driver sends (store/hot_read.py)
    with round_trips() as seen:
        found_key, task = await keys.authenticate_with_task(plaintext, task_id, NOW)
    assert found_key is not None and found_key.id == key.id
    assert task is not None and task.id == task_id and task.request.prompt == "a fox"
    await _scheduled_callbacks_run()  # asyncpg reports queries to its loggers by call_soon
    assert seen == []  # nothing through the engine: no statement, no ROLLBACK or COMMIT
    assert [text.split()[0].upper() for text in sent] == ["SELECT"]


async def test_the_combined_read_keeps_the_rules_of_the_two_reads(db: Database) -> None:
    keys = KeyStore(db)
    key, plaintext = await keys.create("owner", NOW)
    other, _ = await keys.create("other", NOW)
    foreign = await _task(db, other.id)
    hidden = await _task(db, key.id, hidden=True)
    mine = await _task(db, key.id)
    assert await keys.authenticate_with_task(plaintext, foreign, NOW) == (key, None)
    assert await keys.authenticate_with_task(plaintext, hidden, NOW) == (key, None)
    assert (await keys.authenticate_with_task(plaintext, str(uuid.uuid4()), NOW)) == (key, None)
    assert await keys.authenticate_with_task("lg-not-a-key", mine, NOW) == (None, None)
    assert await keys.revoke(key.id, NOW)
    # Revoked: refused on the very next read (no cache to wait out).
    later = NOW + timedelta(seconds=1)
    assert await keys.authenticate_with_task(plaintext, mine, later) == (None, None)
