"""Upstream callbacks in: the hook token names the account; a body the provider understands is
applied as it is (progress, a completion with its video, a failure) with no upstream read, and
anything else only makes the task due (the fallback poll reads it from the upstream)."""

from __future__ import annotations

from typing import Any

import pytest

from lumagate.domain.accounts import HOOK_TOKEN, NewAccount
from lumagate.domain.clock import utcnow
from lumagate.domain.states import TaskState
from lumagate.domain.task import TaskMedia
from lumagate.engine.context import EngineContext
from lumagate.engine.hooks import UpstreamHooks
from lumagate.engine.refresher import Refresher
from lumagate.providers.base import UpstreamJob, UpstreamState
from lumagate.wiring.operator import account_admin
from lumagate.wiring.stores import Stores
from tests.support.stores import engine_context, stored_task

TOKEN = "hook-token-of-the-official-account"
STATES = {
    "dreaming": UpstreamState.PROCESSING,
    "completed": UpstreamState.COMPLETED,
    "failed": UpstreamState.FAILED,
}
VIDEO = "https://storage.example/up-1.mp4"


class CallbackProvider:
    """Just the CallbackAware part of a provider: what a callback body says."""

    kind = "luma-official"

    def job_from_callback(self, payload: Any) -> UpstreamJob | None:
        state = STATES.get(payload.get("state"))
        if state is None:
            return None
        video = payload.get("video")
        media = TaskMedia(video=video, width=1280, height=720, download=video) if video else None
        reason = payload.get("failure_reason")
        return UpstreamJob(payload["id"], state, progress=50, media=media, failure_reason=reason)


@pytest.fixture
def ctx(stores: Stores) -> EngineContext:
    context = engine_context(stores)
    context.providers.register(CallbackProvider())  # type: ignore[arg-type]
    return context


@pytest.fixture
def hooks(ctx: EngineContext) -> UpstreamHooks:
    return UpstreamHooks(ctx, Refresher(ctx))


async def _followed(stores: Stores) -> tuple[str, str]:
    """An official account with a hook token, and a submitted task of it (task id, upstream id)."""
    admin = account_admin(stores)
    account = await admin.add(
        NewAccount(kind="luma-official", name="o", settings={HOOK_TOKEN: TOKEN})
    )
    await admin.add(NewAccount(kind="luma-official", name="no-token"))
    key, _ = await stores.keys.create("t", utcnow())
    task = await stored_task(
        stores, key.id, TaskState.SUBMITTED, account_id=account.id, upstream_id="up-1"
    )
    return task.id, account.id


async def test_the_token_names_its_account_and_no_other(
    hooks: UpstreamHooks, stores: Stores
) -> None:
    _, account_id = await _followed(stores)
    found = await hooks.account_for(TOKEN)
    assert found is not None and found.id == account_id
    assert await hooks.account_for("not-" + TOKEN) is None
    assert await hooks.account_for("") is None  # the account without a token is never matched


async def test_an_unknown_token_is_refused_and_a_body_without_id_is_ignored(
    hooks: UpstreamHooks, ctx: EngineContext, stores: Stores
) -> None:
    task_id, _ = await _followed(stores)
    assert await hooks.receive("wrong", {"id": "up-1", "state": "dreaming"}) is False
    assert await hooks.receive(TOKEN, {"state": "dreaming"}) is True
    assert await hooks.receive(TOKEN, ["not", "an", "object"]) is True
    unchanged = await stores.tasks.get(task_id)
    assert unchanged is not None and unchanged.state == TaskState.SUBMITTED
    assert await ctx.signals.refresh.wait(0.0) is False


async def test_a_progress_callback_is_applied_from_its_body(
    hooks: UpstreamHooks, stores: Stores
) -> None:
    task_id, _ = await _followed(stores)
    assert await hooks.receive(TOKEN, {"id": "up-1", "state": "dreaming"}) is True
    moved = await stores.tasks.get(task_id)
    assert moved is not None and moved.state == TaskState.PROCESSING and moved.progress == 50


async def test_a_completion_without_its_video_only_makes_the_task_due(
    hooks: UpstreamHooks, ctx: EngineContext, stores: Stores
) -> None:
    task_id, _ = await _followed(stores)
    assert await hooks.receive(TOKEN, {"id": "up-1", "state": "completed"}) is True
    kept = await stores.tasks.get(task_id)
    assert kept is not None and kept.state == TaskState.SUBMITTED  # nothing to complete it with
    assert await ctx.signals.refresh.wait(0.0) is True  # the refresher reads it upstream


async def test_a_completion_with_its_video_is_applied_from_its_body(
    hooks: UpstreamHooks, ctx: EngineContext, stores: Stores
) -> None:
    task_id, _ = await _followed(stores)
    body = {"id": "up-1", "state": "completed", "video": VIDEO}
    assert await hooks.receive(TOKEN, body) is True
    done = await stores.tasks.get(task_id)
    assert done is not None and done.state == TaskState.COMPLETED
    assert done.media is not None and done.media.video == VIDEO and done.progress == 100
    assert await ctx.signals.dispatch.wait(0.0) is True  # its slot is free: submit the next
    assert await ctx.signals.refresh.wait(0.0) is False  # no upstream read for it
    assert await hooks.receive(TOKEN, body) is True  # a duplicate changes nothing
    again = await stores.tasks.get(task_id)
    assert again is not None and again.state == TaskState.COMPLETED and again.media == done.media


async def test_a_failure_is_applied_from_its_body(
    hooks: UpstreamHooks, ctx: EngineContext, stores: Stores
) -> None:
    task_id, _ = await _followed(stores)
    body = {"id": "up-1", "state": "failed", "failure_reason": "Frame moderation failed"}
    assert await hooks.receive(TOKEN, body) is True
    failed = await stores.tasks.get(task_id)
    assert failed is not None and failed.state == TaskState.FAILED
    assert failed.failure_reason == "Frame moderation failed"
    assert await ctx.signals.dispatch.wait(0.0) is True
    assert await ctx.signals.refresh.wait(0.0) is False


async def test_a_result_for_a_task_not_followed_yet_makes_it_due(
    hooks: UpstreamHooks, ctx: EngineContext, stores: Stores
) -> None:
    """A callback that beats the create's answer finds no task with its upstream id: the
    poll that follows the recorded create reads the result."""
    task_id, _ = await _followed(stores)
    body = {"id": "up-2", "state": "completed", "video": VIDEO}
    assert await hooks.receive(TOKEN, body) is True
    kept = await stores.tasks.get(task_id)
    assert kept is not None and kept.state == TaskState.SUBMITTED
    assert await ctx.signals.dispatch.wait(0.0) is False


async def test_another_accounts_token_never_applies_a_body_to_this_accounts_task(
    hooks: UpstreamHooks, ctx: EngineContext, stores: Stores
) -> None:
    """The one read finds the task of the body's upstream id with its account; a valid token
    of another account does not match that account's, so the body is not applied: the
    other account's task of that id (none) is only made due."""
    task_id, _ = await _followed(stores)
    await account_admin(stores).add(
        NewAccount(kind="luma-official", name="other", settings={HOOK_TOKEN: "other-token"})
    )
    body = {"id": "up-1", "state": "failed", "failure_reason": "forged"}
    assert await hooks.receive("other-token", body) is True  # a known token: answered 200
    kept = await stores.tasks.get(task_id)
    assert kept is not None and kept.state == TaskState.SUBMITTED and kept.failure_reason is None
    assert await ctx.signals.dispatch.wait(0.0) is False
