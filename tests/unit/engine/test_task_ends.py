"""DeadlineKeeper and UpstreamCancels over real stores (a fresh SQLite file) and fake
providers: a task past its deadline fails with its reason and its event, a task the upstream
has is then cancelled there where the provider can, a failed cancel is retried a bounded number
of times, and a provider that cannot cancel (or is not here) lets the generation run on."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from lumagate.domain.accounts import AccountHandle, NewAccount
from lumagate.domain.clock import utcnow
from lumagate.domain.states import TaskState
from lumagate.domain.task import Task
from lumagate.engine import task_ends
from lumagate.engine.context import EngineContext
from lumagate.engine.task_ends import MAX_ATTEMPTS, DeadlineKeeper, UpstreamCancels
from lumagate.providers.base import ProviderError
from lumagate.service.cancels import TaskCancels
from lumagate.wiring.operator import account_admin
from lumagate.wiring.stores import Stores
from tests.support.stores import engine_context, reread, stored_task


class CancellingProvider:
    """The part of a provider the cancel loop calls; ``failures`` cancels fail first."""

    kind = "relay"

    def __init__(self, failures: int = 0) -> None:
        self.failures = failures
        self.cancelled: list[tuple[str, str]] = []

    async def cancel(self, account: AccountHandle, upstream_id: str) -> None:
        self.cancelled.append((account.id, upstream_id))
        if len(self.cancelled) <= self.failures:
            raise ProviderError("upstream said 503")


class PlainProvider:
    """A provider of the kind with no cancel: the generation runs on."""

    kind = "relay"


@pytest.fixture
def ctx(stores: Stores) -> EngineContext:
    # a retry hold of zero: a failed cancel is due again at once (time is not what is tested)
    return engine_context(stores, upstream_cancel_retry_seconds=1e-6)


def _soon(minutes: float) -> timedelta:
    """A deadline ``minutes`` after a task is created (now); passes read ``_after(minutes)``."""
    return timedelta(minutes=minutes)


def _after(minutes: float) -> datetime:
    """A moment just past a deadline of ``minutes``: what a pass reads the tasks as of."""
    return utcnow() + timedelta(minutes=minutes, seconds=30)


async def _running(stores: Stores, *, deadline_minutes: float | None = None) -> Task:
    """A processing task of a relay account, generation ``up-1``, with an optional deadline."""
    account = await account_admin(stores).add(
        NewAccount(kind="relay", name="r", base_url="http://127.0.0.1:1")
    )
    deadline = None if deadline_minutes is None else utcnow() + _soon(deadline_minutes)
    task = await stored_task(
        stores, "t", TaskState.PROCESSING, deadline_at=deadline, account_id=account.id
    )
    moved = await stores.tasks.transition(task, TaskState.PROCESSING, utcnow(), upstream_id="up-1")
    return moved or task


async def _cancelled(stores: Stores) -> Task:
    task = await _running(stores)
    cancelled = await TaskCancels(stores.tasks).cancel(task.id, tenant_id=None, reason="r")
    assert cancelled.upstream_id is not None  # due for its upstream cancel
    return cancelled


async def test_a_queued_task_past_its_deadline_fails_with_its_reason_and_event(
    ctx: EngineContext, stores: Stores
) -> None:
    due = await stored_task(stores, "t", deadline_at=utcnow() + _soon(1))
    later = await stored_task(stores, "t", deadline_at=utcnow() + _soon(60))
    await stored_task(stores, "t")  # no deadline
    events = ctx.events.subscribe(due.id)
    assert await DeadlineKeeper(ctx).expire_once(_after(1)) == 1
    failed = await reread(stores, due)
    assert failed.state == TaskState.FAILED
    assert failed.failure_reason is not None
    assert failed.failure_reason.startswith("timed out after")
    assert events.get_nowait().state == TaskState.FAILED  # the event: refund and callback
    assert (await reread(stores, later)).state == TaskState.QUEUED
    assert await ctx.signals.cancel.wait(0.0) is False  # the upstream never had it
    assert await DeadlineKeeper(ctx).expire_once(_after(1)) == 0  # an ended one is not read


async def test_the_reason_says_the_minutes_the_deadline_allowed(
    ctx: EngineContext, stores: Stores
) -> None:
    task = await _running(stores, deadline_minutes=2)
    assert await DeadlineKeeper(ctx).expire_once(_after(1)) == 0  # not yet
    assert await DeadlineKeeper(ctx).expire_once(_after(2)) == 1
    assert (await reread(stores, task)).failure_reason == "timed out after 2 minutes"


async def test_a_timed_out_task_the_upstream_has_is_then_cancelled_there(
    ctx: EngineContext, stores: Stores
) -> None:
    provider = CancellingProvider()
    ctx.providers.register(provider)  # type: ignore[arg-type]
    task = await _running(stores, deadline_minutes=1)
    assert await DeadlineKeeper(ctx).expire_once(_after(1)) == 1
    assert await ctx.signals.cancel.wait(0.0) is True  # the cancel loop is woken
    assert await UpstreamCancels(ctx).cancel_once() == 1
    assert provider.cancelled == [(task.account_id, "up-1")]
    assert await UpstreamCancels(ctx).cancel_once() == 0  # done: never claimed again


async def test_a_failed_upstream_cancel_is_retried_until_it_succeeds(
    ctx: EngineContext, stores: Stores
) -> None:
    provider = CancellingProvider(failures=2)
    ctx.providers.register(provider)  # type: ignore[arg-type]
    await _cancelled(stores)
    cancels = UpstreamCancels(ctx)
    assert [await cancels.cancel_once() for _ in range(4)] == [1, 1, 1, 0]
    assert len(provider.cancelled) == 3


async def test_an_upstream_cancel_that_keeps_failing_is_given_up(
    ctx: EngineContext, stores: Stores
) -> None:
    provider = CancellingProvider(failures=1000)
    ctx.providers.register(provider)  # type: ignore[arg-type]
    task = await _cancelled(stores)
    cancels = UpstreamCancels(ctx)
    claims = [await cancels.cancel_once() for _ in range(MAX_ATTEMPTS + 1)]
    assert claims == [1] * MAX_ATTEMPTS + [0]
    assert len(provider.cancelled) == MAX_ATTEMPTS
    assert (await reread(stores, task)).state == TaskState.CANCELLED


async def test_a_provider_that_cannot_cancel_lets_the_generation_run_on(
    ctx: EngineContext, stores: Stores
) -> None:
    ctx.providers.register(PlainProvider())  # type: ignore[arg-type]
    await _cancelled(stores)
    assert await UpstreamCancels(ctx).cancel_once() == 1
    assert await UpstreamCancels(ctx).cancel_once() == 0  # done without an upstream call


async def test_an_account_kind_with_no_provider_here_lets_it_run_on(
    ctx: EngineContext, stores: Stores
) -> None:
    await _cancelled(stores)  # no provider registered for the relay kind on this replica
    assert await UpstreamCancels(ctx).cancel_once() == 1
    assert await UpstreamCancels(ctx).cancel_once() == 0


async def test_a_removed_account_lets_it_run_on(ctx: EngineContext, stores: Stores) -> None:
    provider = CancellingProvider()
    ctx.providers.register(provider)  # type: ignore[arg-type]
    task = await _cancelled(stores)
    assert task.account_id is not None
    await account_admin(stores).remove(task.account_id, force=True)
    assert await UpstreamCancels(ctx).cancel_once() == 1
    assert await UpstreamCancels(ctx).cancel_once() == 0 and provider.cancelled == []


async def test_a_full_batch_runs_the_next_pass_at_once(
    ctx: EngineContext, stores: Stores, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(task_ends, "BATCH", 2)
    past = utcnow() - timedelta(seconds=1)
    for _ in range(3):
        await stored_task(stores, "t", deadline_at=past)
    keeper = DeadlineKeeper(ctx)
    assert [(await keeper._pass()).again, (await keeper._pass()).again] == [True, False]
