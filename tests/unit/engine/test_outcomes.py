"""What an upstream reports, turned into task state: completion only with a video, progress
capped below 100 while running, failures with a reason, requeue and fail."""

from __future__ import annotations

import pytest

from lumagate.domain.clock import utcnow
from lumagate.domain.states import TaskState
from lumagate.domain.task import Task, TaskMedia
from lumagate.engine.context import EngineContext
from lumagate.engine.outcomes import DEFAULT_FAILURE, apply_job, fail, requeue, target_state
from lumagate.providers.base import UpstreamJob, UpstreamState
from lumagate.wiring.stores import Stores
from tests.support.stores import engine_context, stored_task

MEDIA = TaskMedia(video="https://cdn.example/v.mp4", width=1280, height=720)


@pytest.fixture
def ctx(stores: Stores) -> EngineContext:
    return engine_context(stores)


async def _task(stores: Stores, state: TaskState) -> Task:
    record, _ = await stores.keys.create("tenant", utcnow())
    return await stored_task(stores, record.id, state)


@pytest.mark.parametrize(
    ("state", "media", "target"),
    [
        (UpstreamState.COMPLETED, MEDIA, TaskState.COMPLETED),
        (UpstreamState.COMPLETED, None, TaskState.PROCESSING),
        (UpstreamState.FAILED, None, TaskState.FAILED),
        (UpstreamState.PROCESSING, None, TaskState.PROCESSING),
        (UpstreamState.PENDING, None, TaskState.SUBMITTED),
    ],
    ids=["completed", "completed-no-video", "failed", "processing", "pending"],
)
def test_target_state(state: UpstreamState, media: TaskMedia | None, target: TaskState) -> None:
    assert target_state(UpstreamJob("u1", state, media=media)) == target


async def test_a_submission_records_the_upstream_id_and_what_was_dropped(
    ctx: EngineContext, stores: Stores
) -> None:
    task = await _task(stores, TaskState.SUBMITTING)
    job = UpstreamJob("up-1", UpstreamState.PROCESSING, progress=150, dropped_fields=("loop",))
    changed = await apply_job(ctx, task, job, utcnow())
    assert changed is not None and changed.state == TaskState.PROCESSING
    assert changed.upstream_id == "up-1" and changed.submitted_at is not None
    assert changed.progress == 99  # capped while running
    assert changed.request.dropped_fields == ("loop",)


async def test_completion_stores_the_media_at_100_and_publishes(
    ctx: EngineContext, stores: Stores
) -> None:
    task = await _task(stores, TaskState.PROCESSING)
    heard = ctx.events.subscribe(task.id)
    changed = await apply_job(
        ctx, task, UpstreamJob("u", UpstreamState.COMPLETED, media=MEDIA), utcnow()
    )
    assert changed is not None and changed.state == TaskState.COMPLETED
    assert changed.progress == 100 and changed.media == MEDIA
    assert heard.get_nowait().state == TaskState.COMPLETED


async def test_a_failure_without_a_reason_gets_the_default(
    ctx: EngineContext, stores: Stores
) -> None:
    task = await _task(stores, TaskState.SUBMITTED)
    changed = await apply_job(ctx, task, UpstreamJob("u", UpstreamState.FAILED), utcnow())
    assert changed is not None and changed.failure_reason == DEFAULT_FAILURE


async def test_no_move_records_progress_and_never_goes_back(
    ctx: EngineContext, stores: Stores
) -> None:
    task = await _task(stores, TaskState.PROCESSING)
    job = UpstreamJob("u", UpstreamState.PROCESSING, progress=40)
    assert await apply_job(ctx, task, job, utcnow()) is None
    stored = await stores.tasks.get(task.id)
    assert stored is not None and stored.progress == 40
    lower = UpstreamJob("u", UpstreamState.PENDING, progress=10)  # PROCESSING -> SUBMITTED: no
    assert await apply_job(ctx, stored, lower, utcnow()) is None
    again = await stores.tasks.get(task.id)
    assert again is not None and again.state == TaskState.PROCESSING and again.progress == 40


async def test_requeue_returns_the_task_to_the_queue_and_wakes_the_dispatcher(
    ctx: EngineContext, stores: Stores
) -> None:
    task = await _task(stores, TaskState.SUBMITTING)
    changed = await requeue(ctx, task, utcnow(), delay=30.0)
    assert changed is not None and changed.state == TaskState.QUEUED
    assert changed.account_id is None
    assert await ctx.signals.dispatch.wait(0.0) is True


async def test_fail_moves_once(ctx: EngineContext, stores: Stores) -> None:
    task = await _task(stores, TaskState.QUEUED)
    failed = await fail(ctx, task, "no account can run it", utcnow())
    assert failed is not None and failed.failure_reason == "no account can run it"
    assert await fail(ctx, task, "again", utcnow()) is None  # the stale copy loses
