"""Real stores on a fresh, migrated SQLite file, for unit tests of services and engine parts.

The same composition the CLI uses (``lumagate.wiring.stores.open_stores``), so a unit test of a
service talks to the real store code and a real database, not to a fake of either.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from lumagate.domain.accounts import AccountHandle, NewAccount
from lumagate.domain.channels import Channel
from lumagate.domain.clock import utcnow
from lumagate.domain.mirroring import MirrorJob, new_prefix
from lumagate.domain.request import GenerationRequest
from lumagate.domain.states import TaskState
from lumagate.domain.task import Task, TaskMedia
from lumagate.engine.context import EngineContext
from lumagate.engine.dispatcher import Dispatcher
from lumagate.engine.events import TaskEvents
from lumagate.engine.signals import EngineSignals
from lumagate.providers.registry import ProviderRegistry
from lumagate.settings import Settings
from lumagate.store.tasks import NewTask
from lumagate.wiring.operator import account_admin
from lumagate.wiring.stores import Stores, open_stores
from tests.support.schema_template import seed_sqlite


def sqlite_settings(data_dir: Path, **overrides: Any) -> Settings:
    """Settings of a data dir of its own (SQLite database, generated secret key)."""
    return Settings(data_dir=data_dir, **overrides)


@pytest.fixture
async def stores(tmp_path: Path) -> AsyncIterator[Stores]:
    """Every store over one migrated SQLite database in ``tmp_path`` (a copy of the schema
    template: migrating from empty is the migration tests' job)."""
    seed_sqlite(tmp_path / "data")
    opened = open_stores(sqlite_settings(tmp_path / "data"))
    await opened.prepare()
    try:
        yield opened
    finally:
        await opened.close()


def engine_context(stores: Stores, **settings: Any) -> EngineContext:
    """The engine's shared parts over ``stores``: no providers registered, fresh signals."""
    return EngineContext(
        settings=stores.settings.model_copy(update=settings),
        tasks=stores.tasks,
        accounts=stores.accounts,
        pool=stores.pool,
        transactions=stores.transactions,
        providers=ProviderRegistry(),
        signals=EngineSignals(),
        events=TaskEvents(),
        replica_id="replica-test",
        single_node=True,
    )


async def dispatch_pass(ctx: EngineContext) -> int:
    """One dispatcher pass over ``ctx``, its submissions awaited; how many tasks it claimed."""
    dispatcher = Dispatcher(ctx)
    claimed = await dispatcher.dispatch_once()
    await dispatcher.drain(timeout=30)
    return claimed


async def stored_task(
    stores: Stores,
    tenant_id: str,
    state: TaskState = TaskState.QUEUED,
    *,
    deadline_at: datetime | None = None,
    **values: Any,
) -> Task:
    """A task of ``tenant_id`` (with ``deadline_at``) inserted and moved along the state
    machine to ``state``; ``values`` (e.g. ``account_id``, ``upstream_id``) are set on its
    first move."""
    now = utcnow()
    new = NewTask(
        id=str(uuid.uuid4()),
        tenant_id=tenant_id,
        channel=Channel.DEFAULT,
        dialect="reseller",
        request=GenerationRequest(prompt="a red fox"),
        deadline_at=deadline_at,
    )
    async with stores.transactions.begin() as work:
        task = await work.tasks.insert(new, now)
    path = {
        TaskState.QUEUED: (),
        TaskState.SUBMITTING: (TaskState.SUBMITTING,),
        TaskState.SUBMITTED: (TaskState.SUBMITTING, TaskState.SUBMITTED),
        TaskState.PROCESSING: (TaskState.SUBMITTING, TaskState.PROCESSING),
    }[state]
    for index, step in enumerate(path):
        moved = await stores.tasks.transition(task, step, now, **(values if index == 0 else {}))
        assert moved is not None
        task = moved
    return task


async def orphaned_submission(stores: Stores, account_id: str, attempts: int = 1) -> Task:
    """A submission left by a dead replica on ``account_id``: SUBMITTING (its ``attempts``-th),
    its lease run out five minutes ago."""
    key, _ = await stores.keys.create("t", utcnow())
    return await stored_task(
        stores,
        key.id,
        TaskState.SUBMITTING,
        account_id=account_id,
        lease_owner="dead-replica",
        lease_expires_at=utcnow() - timedelta(minutes=5),
        attempts=attempts,
    )


async def reread(stores: Stores, task: Task) -> Task:
    """``task`` as stored now (it must still exist)."""
    found = await stores.tasks.get(task.id)
    assert found is not None
    return found


async def held_for_copy(
    stores: Stores,
    media: TaskMedia,
    *,
    owner: str | None = None,
    account_id: str | None = None,
) -> tuple[Task, MirrorJob]:
    """A processing task (generation ``up-1``) whose upstream finished with ``media``, held for
    its mirror job, stored as ``MirrorStore.enqueue_and_hold`` does: held by ``owner`` for a
    minute, or (None) due now."""
    task = await stored_task(
        stores, "t", TaskState.PROCESSING, account_id=account_id, upstream_id="up-1"
    )
    job = MirrorJob(task.id, account_id, "up-1", media, new_prefix())
    now = utcnow()
    hold = {"progress": 99, "next_poll_at": now + timedelta(days=1)}
    stored, held = await stores.mirrors.enqueue_and_hold(
        job, task, now, hold, owner=owner, held_until=now + timedelta(minutes=1)
    )
    assert stored and held is not None
    return held, job


async def stored_account(stores: Stores, kind: str = "relay") -> AccountHandle:
    """An account of ``kind`` added as an operator does (base URL on loopback), as a handle."""
    added = await account_admin(stores).add(
        NewAccount(kind=kind, name=kind, base_url="http://127.0.0.1:1")
    )
    handle = await stores.accounts.load_handle(added.id)
    assert handle is not None
    return handle
