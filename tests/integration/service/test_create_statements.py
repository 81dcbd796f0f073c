"""A create is one write transaction of three statements, on SQLite and PostgreSQL.

Charge and key lock in one ``UPDATE ... RETURNING``, the ledger entry, the task by
``INSERT ... RETURNING``; no read of the accounts for a request every kind delivers, no separate
balance read. Counted where they are sent, through the task service: at the engine and at the
raw driver that runs the create's transaction (``store/hot_write.py``).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, select, update
from sqlalchemy.engine import Engine

from lumagate.domain.channels import Channel
from lumagate.domain.clock import utcnow
from lumagate.gateway import Gateway
from lumagate.service.tasks import CreateCommand
from lumagate.settings import Settings
from lumagate.store.hot_write import HotWrites
from lumagate.store.schema import tasks


@contextmanager
def statements(gateway: Gateway) -> Iterator[list[str]]:
    seen: list[str] = []
    counting = [True]

    def sent(text: str) -> None:
        if counting[0]:
            seen.append(" ".join(text.split())[:40])

    def record(_c: Any, _cur: Any, text: str, _p: Any, _ctx: Any, _many: bool) -> None:
        sent(text)

    writes = gateway.services.tasks.writes
    assert isinstance(writes, HotWrites)
    writes.trace(sent)
    event.listen(Engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        counting[0] = False
        event.remove(Engine, "before_cursor_execute", record)


async def _logged() -> None:
    """asyncpg reports queries to its loggers by ``call_soon``: let those scheduled run."""
    loop = asyncio.get_running_loop()
    done: asyncio.Future[None] = loop.create_future()
    loop.call_soon(done.set_result, None)
    await done


@pytest.fixture
async def gateway(tmp_path: Path, database_url: str) -> AsyncIterator[Gateway]:
    gw = Gateway(Settings(data_dir=tmp_path, database_url=database_url, sandbox_enabled=False))
    await gw.prepare()
    try:
        yield gw
    finally:
        await gw.close()


@pytest.mark.parametrize("credits", [None, 10_000], ids=["unlimited", "limited"])
async def test_a_create_is_three_statements(gateway: Gateway, credits: int | None) -> None:
    key, _ = await gateway.stores.keys.create("tenant", utcnow(), credits=credits)
    command = CreateCommand(channel=Channel.DEFAULT, dialect="reseller", prompt="a calm sea")
    await gateway.services.tasks.create(key, command)  # warm: nothing first-time counted
    with statements(gateway) as seen:
        task = await gateway.services.tasks.create(key, command)
        await _logged()
    work = [" ".join(s.replace(" INTO", "").split()[:2]) for s in seen]
    assert [s for s in work if s.split()[0] not in ("BEGIN", "COMMIT")] == [
        "UPDATE api_keys",
        "INSERT ledger",
        "INSERT tasks",
    ], seen
    entries = await gateway.stores.ledger.entries(task_id=task.id)
    assert [e.kind.value for e in entries] == ["charge"]
    price = -entries[0].delta
    stored = await gateway.stores.keys.get(key.id)
    assert stored is not None
    assert stored.credits == (None if credits is None else credits - 2 * price)


async def test_an_idempotency_key_is_one_read_and_freed_after_its_window(
    gateway: Gateway,
) -> None:
    key, _ = await gateway.stores.keys.create("tenant", utcnow())
    command = CreateCommand(
        channel=Channel.DEFAULT, dialect="reseller", prompt="a calm sea", idempotency_key="k-1"
    )
    first = await gateway.services.tasks.create(key, command)
    with statements(gateway) as seen:
        replay = await gateway.services.tasks.create(key, command)
        await _logged()
    assert replay.id == first.id
    assert [s.split()[0] for s in seen if not s.startswith(("BEGIN", "COMMIT"))] == ["SELECT"]
    async with gateway.stores.db.write() as conn:  # the first create is a day and an hour old
        old = utcnow() - timedelta(hours=25)
        await conn.execute(update(tasks).where(tasks.c.id == first.id).values(created_at=old))
    renewed = await gateway.services.tasks.create(key, command)
    assert renewed.id != first.id
    async with gateway.stores.db.read() as conn:
        rows = (await conn.execute(select(tasks.c.id, tasks.c.idempotency_key))).all()
    assert dict(rows) == {first.id: None, renewed.id: "k-1"}  # released to the new task
