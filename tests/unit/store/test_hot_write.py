"""The create's unit of work on the raw driver (store/hot_write.py): the rows the engine gives,
the engine's rollback and conflicts, and the engine's path whenever the raw driver cannot run it
(a busy SQLite writer, a database it cannot reach), without the event loop waiting, and the
raw SQLite writer's WAL checkpoints off the loop thread.

Tests taking ``db`` run once on SQLite and once on PostgreSQL.
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import make_url

from lumagate.domain.channels import Channel
from lumagate.domain.request import GenerationRequest
from lumagate.store.database import Database
from lumagate.store.errors import IdempotencyKeyTaken
from lumagate.store.hot_write import HotWrites
from lumagate.store.keys import KeyStore
from lumagate.store.ledger import LedgerStore
from lumagate.store.tasks import NewTask, TaskStore
from lumagate.store.unit_of_work import Transactions, UnitOfWork
from lumagate.wiring.stores import Stores

NOW = datetime(2026, 12, 1, 9, 0, 0, 123456, tzinfo=UTC)


def _new(tenant_id: str, key: str | None = None, prompt: str = "a fox in the snow ❄") -> NewTask:
    return NewTask(
        id=str(uuid.uuid4()),
        tenant_id=tenant_id,
        channel=Channel.VIP,
        dialect="reseller",
        request=GenerationRequest(prompt=prompt, aspect_ratio="9:16"),
        idempotency_key=key,
        idempotency_fingerprint="f" * 64 if key else None,
        deadline_at=NOW + timedelta(minutes=30),
    )


async def _reads(work: UnitOfWork, key_id: str) -> Any:
    """Every read a create may make, inside its unit of work (the limits' too)."""
    since = NOW - timedelta(minutes=1)
    return (
        await work.quotas.lock_key(key_id),
        await work.quotas.creates_since(key_id, since),
        await work.quotas.nth_create_since(key_id, since, 1),
        await work.quotas.unfinished(key_id),
        await work.quotas.unfinished(key_id, up_to=1),
        await work.tasks.take_idempotency_key(key_id, "k-1", since),
        await work.tasks.take_idempotency_key(key_id, "k-none", since),
    )


async def test_the_raw_driver_reads_and_writes_the_engines_rows(db: Database) -> None:
    keys, transactions = KeyStore(db), Transactions(db)
    hot = HotWrites(db, transactions)
    key, _ = await keys.create("hot", NOW, credits=100, rpm=10)

    async def store(work: UnitOfWork) -> Any:
        charged = await work.ledger.take_credits(key.id, 7)
        assert charged is not None
        await work.ledger.record_charge(charged, "t-1", 7, NOW, note="probe")
        return charged, await work.tasks.insert(_new(key.id, key="k-1"), NOW)

    charged, task = await hot.run(store)
    await hot.run(lambda work: work.tasks.insert(_new(key.id), NOW + timedelta(seconds=1)))
    assert hot.fallbacks == 0
    assert charged == await keys.get(key.id) and charged.credits == 93
    assert task == await TaskStore(db).get(task.id)
    assert task.request.prompt == "a fox in the snow ❄" and task.deadline_at == NOW + timedelta(
        minutes=30
    )
    [entry] = [e for e in await LedgerStore(db).entries(key_id=key.id) if e.task_id == "t-1"]
    assert (entry.delta, entry.balance_after, entry.note) == (-7, 93, "probe")
    raw_reads = await hot.run(lambda work: _reads(work, key.id))
    assert raw_reads == await transactions.run(lambda work: _reads(work, key.id))
    assert raw_reads[1:5] == (2, NOW + timedelta(seconds=1), 2, 1)
    assert raw_reads[5] is not None and raw_reads[5][0] == task and raw_reads[6] is None
    assert hot.fallbacks == 0


async def test_a_refusal_rolls_everything_back_and_the_writer_goes_on(db: Database) -> None:
    keys = KeyStore(db)
    hot = HotWrites(db, Transactions(db))
    key, _ = await keys.create("refused", NOW, credits=100)

    async def refused(work: UnitOfWork) -> None:
        charged = await work.ledger.take_credits(key.id, 30)
        assert charged is not None and charged.credits == 70  # seen inside the transaction
        await work.ledger.record_charge(charged, "t-1", 30, NOW)
        await work.tasks.insert(_new(key.id), NOW)
        raise LookupError("refused after the writes")

    with pytest.raises(LookupError):
        await hot.run(refused)
    stored = await keys.get(key.id)
    assert stored is not None and stored.credits == 100
    assert [e.kind.value for e in await LedgerStore(db).entries(key_id=key.id)] == ["opening"]
    assert await TaskStore(db).count_by_state() == {}
    task = await hot.run(lambda work: work.tasks.insert(_new(key.id), NOW))
    assert await TaskStore(db).get(task.id) == task and hot.fallbacks == 0


async def test_a_taken_idempotency_key_is_the_stores_conflict(db: Database) -> None:
    keys = KeyStore(db)
    hot = HotWrites(db, Transactions(db))
    key, _ = await keys.create("twins", NOW, credits=100)
    first = await Transactions(db).run(lambda work: work.tasks.insert(_new(key.id, "k"), NOW))

    async def twin(work: UnitOfWork) -> None:
        charged = await work.ledger.take_credits(key.id, 10)
        assert charged is not None
        await work.tasks.insert(_new(key.id, "k"), NOW)  # the unique index refuses it

    with pytest.raises(IdempotencyKeyTaken):
        await hot.run(twin)
    stored = await keys.get(key.id)
    assert stored is not None and stored.credits == 100  # the charge was rolled back
    assert [t.id for t in await TaskStore(db).get_many([first.id], key.id)] == [first.id]
    assert hot.fallbacks == 0


async def test_a_database_the_raw_driver_cannot_reach_is_written_by_the_engine(
    db: Database, tmp_path: Path
) -> None:
    if db.is_sqlite:  # a URI database: the raw writer opens plain files only
        unreachable = Database(f"sqlite+aiosqlite:///file:{tmp_path / 'other.db'}?uri=true")
    else:
        unreachable = Database(db.url.rsplit("@", 1)[0] + "@127.0.0.1:9/nowhere")
    hot = HotWrites(unreachable, Transactions(db))
    key, _ = await KeyStore(db).create("fallback", NOW)
    try:
        for _ in range(2):
            task = await hot.run(lambda work: work.tasks.insert(_new(key.id), NOW))
            assert await TaskStore(db).get(task.id) == task
    finally:
        await unreachable.dispose()
    assert hot.fallbacks == 2


async def test_a_busy_sqlite_writer_sends_the_create_to_the_engine_without_blocking(
    stores: Stores,
) -> None:
    path = make_url(stores.db.url).database
    assert path
    hot = HotWrites(stores.db, stores.transactions)
    key, _ = await stores.keys.create("busy", NOW)
    await hot.run(lambda work: work.tasks.insert(_new(key.id), NOW))  # the raw writer is open
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # another writer holds the lock
    try:
        create = asyncio.ensure_future(
            hot.run(lambda work: work.tasks.insert(_new(key.id, prompt="queued"), NOW))
        )
        for _ in range(100):  # a few turns of the loop: the raw BEGIN fails at once
            if hot.fallbacks:
                break
            await asyncio.sleep(0)
        # The loop runs (this test does) while the create waits on the engine's writer thread.
        assert hot.fallbacks == 1 and not create.done()
    finally:
        other.execute("ROLLBACK")
        other.close()
    task = await create
    assert task.request.prompt == "queued" and await stores.tasks.get(task.id) == task
    assert hot.fallbacks == 1


async def test_a_stream_of_raw_creates_keeps_the_wal_as_small_as_sqlites_default(
    stores: Stores,
) -> None:
    """The raw writer's autocheckpoint is off (it would run on the loop thread): without its
    checkpoints in a thread the WAL would grow by ~18 pages a create, over 200 MiB here."""
    path = make_url(stores.db.url).database
    assert path
    hot = HotWrites(stores.db, stores.transactions)
    assert hot.checkpoints is not None
    key, _ = await stores.keys.create("stream", NOW)
    largest_wal = 0
    for _ in range(3000):
        await hot.run(lambda work: work.tasks.insert(_new(key.id), NOW))
        await asyncio.sleep(0)  # a loop turn between creates, as between requests
        largest_wal = max(largest_wal, os.stat(f"{path}-wal").st_size)
    await hot.close()
    assert hot.fallbacks == 0 and await stores.tasks.count_by_state() == {"queued": 3000}
    assert largest_wal < 8 * 2**20  # ~900 pages of 4 KiB between checkpoints (measured 3.3 MiB)
    assert hot.checkpoints.runs == 3000 // hot.checkpoints.every
    assert hot.checkpoints.incomplete == 0  # nothing appended meanwhile: each copied it all


async def test_raw_creates_wait_for_a_running_checkpoint_while_the_loop_runs(
    stores: Stores,
) -> None:
    path = make_url(stores.db.url).database
    assert path
    hot = HotWrites(stores.db, stores.transactions, checkpoint_every=2, checkpoint_busy_seconds=60)
    assert hot.checkpoints is not None
    key, _ = await stores.keys.create("waits", NOW)
    await hot.run(lambda work: work.tasks.insert(_new(key.id), NOW))
    other = sqlite3.connect(path, isolation_level=None)
    await hot.run(lambda work: work.tasks.insert(_new(key.id), NOW))  # starts a checkpoint
    other.execute("BEGIN IMMEDIATE")  # another writer: the RESTART checkpoint waits for it
    try:
        create = asyncio.ensure_future(
            hot.run(lambda work: work.tasks.insert(_new(key.id, prompt="after"), NOW))
        )
        for _ in range(100):  # the loop runs (this test does) while the checkpoint waits
            await asyncio.sleep(0)
        assert hot.checkpoints.running and not create.done() and hot.fallbacks == 0
    finally:
        other.execute("ROLLBACK")
        other.close()
    task = await create  # the checkpoint ended: the create ran on the raw writer
    assert task.request.prompt == "after" and await stores.tasks.get(task.id) == task
    assert hot.fallbacks == 0 and not hot.checkpoints.running
    assert (hot.checkpoints.runs, hot.checkpoints.incomplete) == (1, 0)
    await hot.close()
