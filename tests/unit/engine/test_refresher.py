"""The refresher: due tasks are asked about per account in one call, what comes back is
recorded, a removed account fails its tasks, a dead session past its grace fails them too; with
a polling lease (replicas) only its holder polls."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

import pytest

from lumagate.domain.accounts import AccountHandle, NewAccount
from lumagate.domain.clock import utcnow
from lumagate.domain.states import TaskState
from lumagate.domain.task import Task, TaskMedia
from lumagate.engine.context import EngineContext
from lumagate.engine.poll_lease import PollLease
from lumagate.engine.refresher import Refresher
from lumagate.providers.base import AuthenticationFailed, UpstreamJob, UpstreamState
from lumagate.wiring.operator import account_admin
from lumagate.wiring.stores import Stores
from tests.support.stores import engine_context, reread, stored_task
from tests.support.waiting import async_wait_until

MEDIA = TaskMedia(video="https://cdn.example/v.mp4", width=1280, height=720)


class ListingProvider:
    """The part of a provider the refresher calls: many jobs by upstream id at once."""

    kind = "relay"

    def __init__(self) -> None:
        self.jobs: dict[str, UpstreamJob] = {}
        self.error: Exception | None = None
        self.calls: list[list[str]] = []

    async def refresh_many(
        self, account: AccountHandle, upstream_ids: Sequence[str]
    ) -> dict[str, UpstreamJob]:
        self.calls.append(sorted(upstream_ids))
        if self.error is not None:
            raise self.error
        return {i: self.jobs[i] for i in upstream_ids if i in self.jobs}


@pytest.fixture
def provider() -> ListingProvider:
    return ListingProvider()


@pytest.fixture
def ctx(stores: Stores, provider: ListingProvider) -> EngineContext:
    context = engine_context(stores, session_grace_seconds=0.0)
    context.providers.register(provider)  # type: ignore[arg-type]
    return context


async def _followed(stores: Stores, *upstream_ids: str) -> list[Task]:
    account = await account_admin(stores).add(
        NewAccount(kind="relay", name="r", base_url="http://127.0.0.1:1")
    )
    key, _ = await stores.keys.create("t", utcnow())
    due = utcnow() - timedelta(seconds=1)
    return [
        await stored_task(
            stores,
            key.id,
            TaskState.SUBMITTED,
            account_id=account.id,
            upstream_id=upstream_id,
            next_poll_at=due,
        )
        for upstream_id in upstream_ids
    ]


async def test_due_tasks_are_asked_about_in_one_call_and_recorded(
    ctx: EngineContext, stores: Stores, provider: ListingProvider
) -> None:
    done, running, silent = await _followed(stores, "u1", "u2", "u3")
    provider.jobs = {
        "u1": UpstreamJob("u1", UpstreamState.COMPLETED, media=MEDIA),
        "u2": UpstreamJob("u2", UpstreamState.PROCESSING, progress=60),
    }
    refresher = Refresher(ctx)
    assert await refresher.refresh_once() == 3
    assert provider.calls == [["u1", "u2", "u3"]]
    assert (await reread(stores, done)).state == TaskState.COMPLETED
    moving = await reread(stores, running)
    assert moving.state == TaskState.PROCESSING and moving.progress == 60
    assert (await reread(stores, silent)).state == TaskState.SUBMITTED
    assert await ctx.signals.dispatch.wait(0.0) is True  # a slot is free
    assert await refresher.refresh_once() == 0  # their next polls are not due yet


async def test_a_removed_account_fails_its_tasks(ctx: EngineContext, stores: Stores) -> None:
    (task,) = await _followed(stores, "u1")
    await account_admin(stores).remove("r", force=True)
    await Refresher(ctx).refresh_once()
    failed = await reread(stores, task)
    assert failed.state == TaskState.FAILED and "removed" in (failed.failure_reason or "")


async def test_a_dead_session_past_its_grace_fails_its_tasks(
    ctx: EngineContext, stores: Stores, provider: ListingProvider
) -> None:
    (task,) = await _followed(stores, "u1")
    provider.error = AuthenticationFailed("session expired")
    await Refresher(ctx).refresh_once()
    failed = await reread(stores, task)
    assert failed.state == TaskState.FAILED
    assert "session expired" in (failed.failure_reason or "")


async def test_a_stored_poll_that_falls_due_just_after_a_claim_is_not_lost(
    ctx: EngineContext, stores: Stores
) -> None:
    """A loop woken a hair before a stored poll claims nothing; the poll stays its next due
    time (it was once dropped, and the task waited a whole refresh period more)."""
    (task,) = await _followed(stores, "u1")
    due = utcnow() + timedelta(milliseconds=200)
    await stores.tasks.set_progress(task, task.progress, utcnow(), due)
    refresher = Refresher(ctx)
    assert refresher.schedule is not None  # SQLite: the schedule is held in memory
    assert await refresher.refresh_once() == 0  # claimed before it was due
    await async_wait_until(lambda: utcnow() > due, "the stored poll fell due")
    assert await refresher.next_due() == due


class OneRowLease:
    """The lease statements over one row whose holder and term the test sets."""

    def __init__(self) -> None:
        self.holder: str | None = None
        self.term = utcnow()

    async def take(self, name: str, owner: str, seconds: float) -> datetime | None:
        if self.holder in (None, owner):
            self.holder = owner
            return self.term
        return None

    async def release(self, name: str, owner: str) -> bool:
        return False


async def test_with_a_lease_only_its_holder_polls_and_a_new_term_polls_every_task_once(
    ctx: EngineContext, stores: Stores, provider: ListingProvider
) -> None:
    await _followed(stores, "u1", "u2")
    leases = OneRowLease()
    leases.holder = "another-replica"
    clock = [0.0]
    lease = PollLease(leases, "replica-test", 30.0, clock=lambda: clock[0])
    refresher = Refresher(ctx, lease)
    assert await refresher.refresh_once() == 0
    assert provider.calls == []  # another replica holds the lease: no upstream read
    leases.holder = None  # it gave the lease up
    clock[0] += lease.renew_every
    assert await refresher.refresh_once() == 2
    assert await refresher.refresh_once() == 0  # unchanged: held in memory, nothing written
    leases.term += timedelta(minutes=1)  # another term began: someone else held it meanwhile
    leases.holder = None
    clock[0] += lease.renew_every
    assert await refresher.refresh_once() == 2  # an empty schedule: each task once
    assert provider.calls == [["u1", "u2"], ["u1", "u2"]]
