"""Cancelling against a real database (SQLite and PostgreSQL): the conditional writes that make
a cancel race-safe against the dispatcher's claim, the retry from a state that moved, the
refund of a cancelled task, and the upstream cancels and deadlines the store hands the engine."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from lumagate.domain.channels import Channel
from lumagate.domain.clock import utcnow
from lumagate.domain.errors import TaskAlreadyEnded, TaskNotFound
from lumagate.domain.pricing import PriceTable
from lumagate.domain.request import GenerationRequest
from lumagate.domain.states import TaskState
from lumagate.domain.task import Task
from lumagate.service.billing import BillingService
from lumagate.service.cancels import TaskCancels
from lumagate.store.database import Database
from lumagate.store.keys import KeyStore
from lumagate.store.ledger import LedgerStore
from lumagate.store.tasks import NewTask, TaskStore
from lumagate.store.unit_of_work import Transactions

T0 = datetime(2026, 12, 1, 12, 0, 0, tzinfo=UTC)


async def queued(db: Database, tenant: str, *, deadline: datetime | None = None) -> Task:
    new = NewTask(
        id=str(uuid.uuid4()),
        tenant_id=tenant,
        channel=Channel.DEFAULT,
        dialect="reseller",
        request=GenerationRequest(prompt="cancel me"),
        deadline_at=deadline,
    )
    async with Transactions(db).begin() as work:
        return await work.tasks.insert(new, T0)


async def test_a_cancelled_queued_task_cannot_be_claimed(db: Database) -> None:
    task = await queued(db, "alice")
    ended: list[Task] = []

    async def on_ended(changed: Task) -> None:
        ended.append(changed)

    cancelled = await TaskCancels(TaskStore(db), on_ended=on_ended).cancel(
        task.id, tenant_id="alice", reason="Cancelled by the caller"
    )
    assert cancelled.state == TaskState.CANCELLED and cancelled.finished_at is not None
    assert [t.id for t in ended] == [task.id]
    async with Transactions(db).begin() as work:  # the dispatcher's claim, from its stale read
        assert not await work.tasks.claim(task, "acct", "replica", T0, T0)
    stored = await TaskStore(db).get(task.id)
    assert stored is not None and stored.state == TaskState.CANCELLED


async def test_a_claim_that_wins_the_race_is_cancelled_from_where_it_is(db: Database) -> None:
    task = await queued(db, "alice")
    async with Transactions(db).begin() as work:
        assert await work.tasks.claim(task, "acct", "replica", T0, T0)
    store = TaskStore(db)

    class StaleFirstRead(TaskStore):
        """Hands the cancel the queued snapshot first, as if the claim landed just after."""

        reads = 0

        async def get(self, task_id: str, tenant_id: str | None = None) -> Task | None:
            self.reads += 1
            return task if self.reads == 1 else await store.get(task_id, tenant_id)

    stale = StaleFirstRead(db)
    cancelled = await TaskCancels(stale).cancel(task.id, tenant_id="alice", reason="r")
    assert stale.reads == 2  # the first conditional write found no queued row and retried
    assert cancelled.state == TaskState.CANCELLED and cancelled.account_id == "acct"


async def test_ended_and_foreign_tasks_are_refused(db: Database) -> None:
    task = await queued(db, "alice")
    cancels = TaskCancels(TaskStore(db))
    with pytest.raises(TaskNotFound):
        await cancels.cancel(task.id, tenant_id="bob", reason="r")
    await cancels.cancel(task.id, tenant_id=None, reason="Cancelled by the operator")
    with pytest.raises(TaskAlreadyEnded) as raised:
        await cancels.cancel(task.id, tenant_id="alice", reason="r")
    assert raised.value.status == 409 and "cancelled" in raised.value.message


async def test_concurrent_cancels_end_the_task_once(db: Database) -> None:
    task = await queued(db, "alice")
    cancels = TaskCancels(TaskStore(db))
    results = await asyncio.gather(
        *(cancels.cancel(task.id, tenant_id="alice", reason="r") for _ in range(4)),
        return_exceptions=True,
    )
    assert sum(isinstance(r, Task) for r in results) == 1
    assert all(isinstance(r, Task | TaskAlreadyEnded) for r in results), results


async def test_a_cancelled_task_is_refunded_in_full(db: Database) -> None:
    key, _ = await KeyStore(db).create("payer", utcnow(), credits=1000)
    ledger = LedgerStore(db)
    billing = BillingService(
        ledger,
        PriceTable(),
        default_model="ray-2",
        credit_usd=0.01,
        running_retry_after=10,
    )
    task = await queued(db, key.id)
    async with Transactions(db).begin() as work:
        await work.ledger.charge(key.id, task.id, 100, T0, note="price")
    await TaskCancels(TaskStore(db), on_ended=billing.on_task_changed).cancel(
        task.id, tenant_id=key.id, reason="Cancelled by the caller"
    )
    entries = await ledger.entries(task_id=task.id)
    assert sorted(e.kind.value for e in entries) == ["charge", "refund"]
    assert sum(e.delta for e in entries) == 0


async def test_a_submission_accepted_after_the_cancel_is_kept_for_the_upstream_cancel(
    db: Database,
) -> None:
    task = await queued(db, "alice")
    store = TaskStore(db)
    async with Transactions(db).begin() as work:
        assert await work.tasks.claim(task, "acct", "replica", T0, T0)
    await TaskCancels(store).cancel(task.id, tenant_id="alice", reason="r")
    now = utcnow()
    assert await store.ends.record_late_submission(task.id, "up-1", now, "gw/luma-official")
    assert not await store.ends.record_late_submission(task.id, "up-2", now, None)  # once
    due = await store.ends.claim_upstream_cancels(now, timedelta(seconds=30))
    assert [(t.id, t.upstream_id) for t in due] == [(task.id, "up-1")]
    assert await store.ends.claim_upstream_cancels(now, timedelta(seconds=30)) == []  # held
    await store.ends.upstream_cancel_done(task.id)
    later = now + timedelta(minutes=5)
    assert await store.ends.claim_upstream_cancels(later, timedelta(seconds=30)) == []


async def test_past_deadline_lists_only_unfinished_tasks_whose_deadline_passed(
    db: Database,
) -> None:
    due = await queued(db, "alice", deadline=T0 + timedelta(minutes=1))
    await queued(db, "alice", deadline=T0 + timedelta(minutes=10))  # not yet
    await queued(db, "alice")  # no deadline
    ended = await queued(db, "alice", deadline=T0 + timedelta(minutes=1))
    await TaskCancels(TaskStore(db)).cancel(ended.id, tenant_id=None, reason="r")
    found = await TaskStore(db).ends.past_deadline(T0 + timedelta(minutes=2), 100)
    assert [t.id for t in found] == [due.id]
    assert found[0].deadline_at == T0 + timedelta(minutes=1)
