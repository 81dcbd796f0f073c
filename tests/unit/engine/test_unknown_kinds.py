"""An account of a kind this replica has no provider for (one a newer version added, met in the
shared account table during a rolling upgrade) never breaks a loop: a queued task goes to an
account this replica can call and never to that one, nor fails for want of it; the tasks
running on it are neither polled, failed nor adopted here; upkeep and callbacks pass it by;
and a caller that does not ask gets a stand-in whose calls fail as transient errors."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from datetime import timedelta
from typing import Any

import pytest

from lumagate.domain.accounts import HOOK_TOKEN, Account, AccountHandle, NewAccount
from lumagate.domain.clock import utcnow
from lumagate.domain.states import TaskState
from lumagate.domain.task import Task
from lumagate.engine.context import EngineContext
from lumagate.engine.dispatcher import Dispatcher
from lumagate.engine.hooks import UpstreamHooks
from lumagate.engine.reconciler import Reconciler
from lumagate.engine.refresher import Refresher
from lumagate.engine.upkeep import Upkeep
from lumagate.providers.base import Submission, TransientError, UpstreamJob, UpstreamState
from lumagate.wiring.operator import account_admin
from lumagate.wiring.stores import Stores
from tests.support.stores import (
    dispatch_pass,
    engine_context,
    orphaned_submission,
    reread,
    stored_task,
)

FUTURE = "luma-future"  # a kind no provider of this replica has


class RelayProvider:
    """The relay calls the loops make: submit, refresh, find, maintain; each one recorded."""

    kind = "relay"

    def __init__(self) -> None:
        self.calls: list[tuple[str, str]] = []

    async def submit(self, account: AccountHandle, submission: Submission) -> UpstreamJob:
        self.calls.append(("submit", account.name))
        return UpstreamJob(f"up-{submission.intent_id}", UpstreamState.PENDING)

    async def refresh_many(
        self, account: AccountHandle, upstream_ids: Sequence[str]
    ) -> dict[str, UpstreamJob]:
        self.calls.append(("refresh", account.name))
        return {i: UpstreamJob(i, UpstreamState.PROCESSING, progress=40) for i in upstream_ids}

    async def find_submission(
        self, account: AccountHandle, submission: Submission
    ) -> UpstreamJob | None:
        self.calls.append(("find", account.name))
        return None

    async def maintain(self, account: AccountHandle) -> Mapping[str, Any]:
        self.calls.append(("maintain", account.name))
        return {}


@pytest.fixture
def provider() -> RelayProvider:
    return RelayProvider()


def _replica(stores: Stores, provider: RelayProvider) -> EngineContext:
    """One replica's engine over the shared ``stores``, knowing only ``provider``'s kind."""
    context = engine_context(stores)
    context.providers.register(provider)  # type: ignore[arg-type]
    return context


@pytest.fixture
def ctx(stores: Stores, provider: RelayProvider) -> EngineContext:
    return _replica(stores, provider)


async def _relay(stores: Stores, *, capacity: int = 1) -> Account:
    return await account_admin(stores).add(
        NewAccount(
            kind="relay", name="relay", base_url="http://127.0.0.1:1", max_concurrency=capacity
        )
    )


async def _future(stores: Stores, **settings: Any) -> Account:
    """An account as a newer replica stored it: a kind this one does not know, roomy and idle."""
    return await stores.accounts.create(
        name="future", kind=FUTURE, now=utcnow(), max_concurrency=50, settings=settings
    )


async def _queued(stores: Stores, count: int) -> list[Task]:
    key, _ = await stores.keys.create("t", utcnow())
    return [await stored_task(stores, key.id) for _ in range(count)]


async def _running_on(stores: Stores, account: Account, upstream_id: str) -> Task:
    key, _ = await stores.keys.create(f"t-{upstream_id}", utcnow())
    return await stored_task(
        stores,
        key.id,
        TaskState.PROCESSING,
        account_id=account.id,
        upstream_id=upstream_id,
        next_poll_at=utcnow() - timedelta(seconds=1),
    )


async def test_a_queued_task_goes_to_a_known_account_never_to_the_unknown_one(
    ctx: EngineContext, stores: Stores, provider: RelayProvider
) -> None:
    await _relay(stores)
    future = await _future(stores)
    first, second = await _queued(stores, 2)
    assert await dispatch_pass(ctx) == 1
    submitted = await reread(stores, first)
    assert submitted.state == TaskState.SUBMITTED and submitted.account_id != future.id
    assert provider.calls == [("submit", "relay")]
    waiting = await reread(stores, second)  # the relay is full; the idle unknown one not taken
    assert waiting.state == TaskState.QUEUED and waiting.account_id is None
    assert waiting.attempts == 0 and waiting.failure_reason is None
    assert await dispatch_pass(ctx) == 0
    assert (await reread(stores, second)).state == TaskState.QUEUED


async def test_a_task_only_the_unknown_account_could_serve_waits_and_does_not_fail(
    ctx: EngineContext, stores: Stores, provider: RelayProvider
) -> None:
    await _future(stores)
    (task,) = await _queued(stores, 1)
    assert await dispatch_pass(ctx) == 0
    waiting = await reread(stores, task)
    assert waiting.state == TaskState.QUEUED and waiting.failure_reason is None
    assert waiting.attempts == 0 and provider.calls == []


class FutureProvider(RelayProvider):
    """The newer replica's provider of the kind the older one lacks."""

    kind = FUTURE


async def test_what_this_replica_left_a_replica_knowing_the_kind_takes(
    ctx: EngineContext, stores: Stores, provider: RelayProvider
) -> None:
    future = await _future(stores)
    (task,) = await _queued(stores, 1)
    assert await dispatch_pass(ctx) == 0  # the older replica leaves it queued
    newer = FutureProvider()
    newer_ctx = _replica(stores, newer)
    assert await dispatch_pass(newer_ctx) == 1
    taken = await reread(stores, task)
    assert taken.state == TaskState.SUBMITTED and taken.account_id == future.id
    assert taken.attempts == 1 and newer.calls == [("submit", "future")] and provider.calls == []


async def test_a_task_claimed_for_the_unknown_account_is_queued_again_with_no_attempt_spent(
    ctx: EngineContext, stores: Stores, provider: RelayProvider
) -> None:
    future = await _future(stores)
    key, _ = await stores.keys.create("t", utcnow())
    claimed = await stored_task(
        stores, key.id, TaskState.SUBMITTING, account_id=future.id, attempts=1
    )
    await Dispatcher(ctx).submit(claimed, future.id)
    back = await reread(stores, claimed)
    assert back.state == TaskState.QUEUED and back.account_id is None and back.attempts == 0
    assert provider.calls == []


async def test_a_running_task_on_the_unknown_account_is_neither_polled_nor_failed_here(
    ctx: EngineContext, stores: Stores, provider: RelayProvider
) -> None:
    relay, future = await _relay(stores), await _future(stores)
    known = await _running_on(stores, relay, "up-known")
    foreign = await _running_on(stores, future, "up-foreign")
    refresher = Refresher(ctx)
    assert await refresher.refresh_once() == 2  # both due; the pass goes on past the foreign one
    assert provider.calls == [("refresh", "relay")]
    assert (await reread(stores, known)).progress == 40
    assert await reread(stores, foreign) == foreign  # nothing written: no failure, no poll
    assert await refresher.refresh_once() == 0  # held in memory, not read again at once


async def test_a_stale_submission_on_the_unknown_account_is_left_to_others(
    ctx: EngineContext, stores: Stores, provider: RelayProvider
) -> None:
    relay, future = await _relay(stores), await _future(stores)
    orphans = [await orphaned_submission(stores, a.id) for a in (future, relay)]
    assert await Reconciler(ctx).reconcile_once() == 1  # the relay's, not found: queued again
    assert (await reread(stores, orphans[1])).state == TaskState.QUEUED
    assert await reread(stores, orphans[0]) == orphans[0]  # not adopted, nothing written
    assert provider.calls == [("find", "relay")]


async def test_upkeep_passes_the_unknown_account_by(
    ctx: EngineContext, stores: Stores, provider: RelayProvider
) -> None:
    await _relay(stores)
    await _future(stores)
    assert await Upkeep(ctx).upkeep_once() == 1
    assert provider.calls == [("maintain", "relay")]


async def test_a_callback_for_the_unknown_account_only_makes_its_task_due(
    ctx: EngineContext, stores: Stores
) -> None:
    future = await _future(stores, **{HOOK_TOKEN: "tok"})
    task = await _running_on(stores, future, "up-1")
    hooks = UpstreamHooks(ctx, Refresher(ctx))
    body = {"id": "up-1", "state": "completed", "video": "https://cdn.example/v.mp4"}
    assert await hooks.receive("tok", body) is True
    assert (await reread(stores, task)).state == TaskState.PROCESSING  # not read as it is here
    assert await ctx.signals.refresh.wait(0.0) is True  # made due: a replica knowing it polls


async def test_a_caller_that_does_not_ask_gets_transient_failures_logged_once_per_kind(
    ctx: EngineContext, stores: Stores, caplog: pytest.LogCaptureFixture
) -> None:
    future = await _future(stores)
    with caplog.at_level(logging.WARNING, logger="lumagate.engine.context"):
        pair = await ctx.account_and_provider(future.id)
        assert pair is not None
        handle, absent = pair
        assert handle.id == future.id and absent.kind == FUTURE
        with pytest.raises(TransientError, match=FUTURE):
            await absent.refresh_many(handle, ["up-1"])
        assert ctx.calls(FUTURE) is False and ctx.calls("relay") is True
    assert [r.getMessage().count(FUTURE) for r in caplog.records] == [1]
