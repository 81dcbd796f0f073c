"""The reconciler adopts submissions whose process died and settles them without creating
twice: found upstream, recorded; not found, queued again (or failed when attempts are spent);
a dead session waits for its grace."""

from __future__ import annotations

import pytest

from lumagate.domain.accounts import AccountHandle, NewAccount
from lumagate.domain.retry import RetryPolicy
from lumagate.domain.states import TaskState
from lumagate.domain.task import Task
from lumagate.engine.context import EngineContext
from lumagate.engine.reconciler import Reconciler
from lumagate.providers.base import AuthenticationFailed, Submission, UpstreamJob, UpstreamState
from lumagate.wiring.operator import account_admin
from lumagate.wiring.stores import Stores
from tests.support.stores import engine_context, orphaned_submission, reread


class FindingProvider:
    """The part of a provider the reconciler calls: find a submission by its intent id."""

    kind = "relay"

    def __init__(self) -> None:
        self.found: dict[str, UpstreamJob] = {}
        self.error: Exception | None = None
        self.asked: list[str] = []

    async def find_submission(
        self, account: AccountHandle, submission: Submission
    ) -> UpstreamJob | None:
        self.asked.append(submission.intent_id)
        if self.error is not None:
            raise self.error
        return self.found.get(submission.intent_id)


@pytest.fixture
def provider() -> FindingProvider:
    return FindingProvider()


@pytest.fixture
def ctx(stores: Stores, provider: FindingProvider) -> EngineContext:
    context = engine_context(stores, session_grace_seconds=3600.0)
    context.providers.register(provider)  # type: ignore[arg-type]
    return context


async def _orphan(stores: Stores, attempts: int = 1) -> Task:
    """A submission left by a dead replica on a relay account."""
    account = await account_admin(stores).add(
        NewAccount(kind="relay", name="r", base_url="http://127.0.0.1:1")
    )
    return await orphaned_submission(stores, account.id, attempts)


async def test_a_submission_found_upstream_is_recorded(
    ctx: EngineContext, stores: Stores, provider: FindingProvider
) -> None:
    task = await _orphan(stores)
    provider.found[task.id] = UpstreamJob("up-9", UpstreamState.PROCESSING, progress=30)
    assert await Reconciler(ctx).reconcile_once() == 1
    settled = await reread(stores, task)
    assert settled.state == TaskState.PROCESSING and settled.upstream_id == "up-9"
    assert await ctx.signals.refresh.wait(0.0) is True
    assert await Reconciler(ctx).reconcile_once() == 0  # nothing left to adopt
    assert provider.asked == [task.id]


async def test_one_not_found_is_queued_again(
    ctx: EngineContext, stores: Stores, provider: FindingProvider
) -> None:
    task = await _orphan(stores)
    assert await Reconciler(ctx).reconcile_once() == 1
    assert (await reread(stores, task)).state == TaskState.QUEUED


async def test_one_not_found_after_its_last_attempt_fails(
    ctx: EngineContext, stores: Stores, provider: FindingProvider
) -> None:
    ctx.retry = RetryPolicy(max_attempts=2)
    task = await _orphan(stores, attempts=2)
    assert await Reconciler(ctx).reconcile_once() == 1
    failed = await reread(stores, task)
    assert failed.state == TaskState.FAILED
    assert failed.failure_reason is not None and "Upstream unavailable" in failed.failure_reason


async def test_a_dead_session_keeps_the_task_through_its_grace(
    ctx: EngineContext, stores: Stores, provider: FindingProvider
) -> None:
    task = await _orphan(stores)
    provider.error = AuthenticationFailed("401")
    assert await Reconciler(ctx).reconcile_once() == 0
    assert (await reread(stores, task)).state == TaskState.SUBMITTING
    account = await stores.accounts.get(task.account_id or "")
    assert account is not None and not account.enabled
