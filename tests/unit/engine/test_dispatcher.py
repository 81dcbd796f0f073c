"""The dispatcher: queued tasks go to accounts within their concurrency, the upstream's answer
is recorded, a refusal for good fails the task, a 429 cools the account down and requeues, and
a task no account can ever serve fails at once."""

from __future__ import annotations

import pytest

from lumagate.domain.accounts import AccountHandle, NewAccount
from lumagate.domain.clock import utcnow
from lumagate.domain.states import TaskState
from lumagate.domain.task import Task
from lumagate.engine.context import EngineContext
from lumagate.engine.dispatcher import Dispatcher
from lumagate.engine.periodic import PassOutcome
from lumagate.providers.base import RateLimited, Rejected, Submission, UpstreamJob, UpstreamState
from lumagate.wiring.operator import account_admin
from lumagate.wiring.stores import Stores
from tests.support.stores import dispatch_pass, engine_context, reread, stored_task


class SubmittingProvider:
    """The part of a provider the dispatcher calls for a create."""

    kind = "relay"

    def __init__(self) -> None:
        self.error: Exception | None = None
        self.submitted: list[str] = []

    async def submit(self, account: AccountHandle, submission: Submission) -> UpstreamJob:
        self.submitted.append(submission.intent_id)
        if self.error is not None:
            raise self.error
        return UpstreamJob(f"up-{submission.intent_id}", UpstreamState.PENDING)


@pytest.fixture
def provider() -> SubmittingProvider:
    return SubmittingProvider()


@pytest.fixture
def ctx(stores: Stores, provider: SubmittingProvider) -> EngineContext:
    context = engine_context(stores)
    context.providers.register(provider)  # type: ignore[arg-type]
    return context


async def _queued(stores: Stores, count: int, *, account: bool = True) -> list[Task]:
    if account:
        await account_admin(stores).add(
            NewAccount(kind="relay", name="r", base_url="http://127.0.0.1:1", max_concurrency=1)
        )
    key, _ = await stores.keys.create("t", utcnow())
    return [await stored_task(stores, key.id) for _ in range(count)]


async def test_the_oldest_task_fills_the_one_slot_and_is_submitted(
    ctx: EngineContext, stores: Stores, provider: SubmittingProvider
) -> None:
    first, second = await _queued(stores, 2)
    assert await dispatch_pass(ctx) == 1
    submitted = await reread(stores, first)
    assert submitted.state == TaskState.SUBMITTED and submitted.upstream_id == f"up-{first.id}"
    assert (await reread(stores, second)).state == TaskState.QUEUED
    assert provider.submitted == [first.id]
    assert await dispatch_pass(ctx) == 0  # the slot is still taken


async def test_a_pass_that_fills_every_slot_is_not_repeated_at_once(
    ctx: EngineContext, stores: Stores
) -> None:
    """Another pass at once would claim nothing (and hold the writer meanwhile): the loop
    waits for whatever frees a slot; a pass that left room goes again."""
    await _queued(stores, 3)
    dispatcher = Dispatcher(ctx)
    assert await dispatcher._pass() == PassOutcome(again=False)  # one slot, now taken
    await dispatcher.drain(timeout=30)
    await account_admin(stores).add(
        NewAccount(kind="relay", name="wide", base_url="http://127.0.0.1:2", max_concurrency=5)
    )
    assert await dispatcher._pass() == PassOutcome(again=True)  # two claimed, three slots left
    await dispatcher.drain(timeout=30)
    assert dispatcher.room_left


async def test_a_refusal_for_good_fails_the_task(
    ctx: EngineContext, stores: Stores, provider: SubmittingProvider
) -> None:
    (task,) = await _queued(stores, 1)
    provider.error = Rejected("The prompt was blocked by moderation")
    await dispatch_pass(ctx)
    failed = await reread(stores, task)
    assert failed.state == TaskState.FAILED
    assert failed.failure_reason == "The prompt was blocked by moderation"


async def test_a_429_cools_the_account_down_and_requeues(
    ctx: EngineContext, stores: Stores, provider: SubmittingProvider
) -> None:
    (task,) = await _queued(stores, 1)
    provider.error = RateLimited("busy", retry_after=120)
    await dispatch_pass(ctx)
    assert (await reread(stores, task)).state == TaskState.QUEUED
    account = await account_admin(stores).get("r")
    assert account.cooldown_until is not None and account.cooldown_until > utcnow()
    provider.error = None
    assert await dispatch_pass(ctx) == 0  # cooling down: nobody may take it now


async def test_a_task_no_account_can_serve_fails_at_once(
    ctx: EngineContext, stores: Stores
) -> None:
    (task,) = await _queued(stores, 1, account=False)
    heard = ctx.events.subscribe(task.id)
    assert await dispatch_pass(ctx) == 0
    failed = await reread(stores, task)
    assert failed.state == TaskState.FAILED and failed.failure_reason
    assert heard.get_nowait().state == TaskState.FAILED


async def test_a_submit_that_raises_is_logged_and_its_task_left_to_the_reconciler(
    ctx: EngineContext,
    stores: Stores,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Nothing awaits a submit: what it raises is logged when it ends (not left for asyncio's
    "never retrieved" at a later collection), and the task stays SUBMITTING under its lease."""
    (task,) = await _queued(stores, 1)

    async def unreachable(_task: Task) -> Submission:
        raise ConnectionError("store unreachable")

    monkeypatch.setattr(ctx, "submission_for", unreachable)
    dispatcher = Dispatcher(ctx)
    with caplog.at_level("ERROR", logger="lumagate.engine.dispatcher"):
        await dispatcher._pass()
        await dispatcher.drain(timeout=30)
    assert not dispatcher._inflight
    (record,) = [r for r in caplog.records if r.name == "lumagate.engine.dispatcher"]
    assert record.exc_info is not None and isinstance(record.exc_info[1], ConnectionError)
    assert (await reread(stores, task)).state == TaskState.SUBMITTING
