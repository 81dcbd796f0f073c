"""Turning what an upstream reports into task state changes (shared by every engine loop)."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from lumagate.domain.accounts import AccountHandle
from lumagate.domain.polling import PollPlan, next_poll_at
from lumagate.domain.states import TaskState, can_transition
from lumagate.domain.task import Task
from lumagate.engine.context import EngineContext, is_pinned
from lumagate.engine.mirror_hold import hold_for_mirror, needs_mirror
from lumagate.engine.poll_schedule import PollSchedule
from lumagate.observability import log_context
from lumagate.providers.base import UpstreamJob, UpstreamState

DEFAULT_FAILURE = "Job failed"
log = logging.getLogger(__name__)


def target_state(job: UpstreamJob) -> TaskState:
    if job.state == UpstreamState.COMPLETED:
        # Completed means the video is really there; otherwise keep following it.
        return TaskState.COMPLETED if job.media is not None else TaskState.PROCESSING
    if job.state == UpstreamState.FAILED:
        return TaskState.FAILED
    if job.state == UpstreamState.PROCESSING:
        return TaskState.PROCESSING
    return TaskState.SUBMITTED


async def apply_job(
    ctx: EngineContext,
    task: Task,
    job: UpstreamJob,
    now: datetime,
    account: AccountHandle | None = None,
    plan: PollPlan | None = None,
    schedule: PollSchedule | None = None,
    *,
    kind: str | None = None,
) -> Task | None:
    """Record ``job`` on ``task``; returns the changed task, or None if nothing moved.
    ``kind``: the account's, when no handle is at hand (a callback): no read to judge a copy.

    ``plan`` (the refresher's and the dispatcher's polls): the next poll follows the task's
    expected end. A poll that changes nothing writes nothing: with ``schedule`` (the
    refresher's, in memory) its next poll is held there, never written."""
    target = target_state(job)
    interval = job.poll_after or ctx.settings.refresh_interval_seconds
    if plan is None:
        next_poll = next_poll_at(now, interval)
    else:
        started = task.submitted_at or task.started_at
        if task.state == TaskState.SUBMITTING:
            started = now  # submitted just now: its first poll
        next_poll = plan.next_poll(now, interval, started)
    values: dict[str, object] = {}
    if task.state == TaskState.SUBMITTING:
        values.update(upstream_id=job.upstream_id, submitted_at=now)
        if account is not None:
            values["server_id"] = ctx.server_id(account)
        if job.dropped_fields:  # recorded, never silent: the upstream could not honour these
            dropped = tuple(dict.fromkeys((*task.request.dropped_fields, *job.dropped_fields)))
            values["request"] = task.request.model_copy(
                update={"dropped_fields": dropped}
            ).model_dump(mode="json")
    progress = task.progress if job.progress is None else max(task.progress, min(99, job.progress))
    values["progress"] = progress
    if target == TaskState.COMPLETED:
        values["media"] = job.media
        values["progress"] = 100  # the 99 cap above is for jobs still running
    elif target == TaskState.FAILED:
        values["failure_reason"] = job.failure_reason or DEFAULT_FAILURE
    else:
        values["next_poll_at"] = next_poll
    if target == task.state or not can_transition(task.state, target):
        if task.state in (TaskState.SUBMITTED, TaskState.PROCESSING):
            await _record_unchanged(ctx, task, progress, now, next_poll, schedule)
        return None
    if target == TaskState.COMPLETED and await needs_mirror(ctx, task, job.media, account, kind):
        with log_context.bind(task_id=task.id, account=account.name if account else None):
            return await hold_for_mirror(ctx, task, job, now, values, account)
    with log_context.bind(task_id=task.id, account=account.name if account else None):
        changed = await ctx.tasks.transition(task, target, now, **values)
        if changed is not None:
            log.info("task %s: %s -> %s (%d%%)", task.id, task.state, target, progress)
        elif task.state == TaskState.SUBMITTING:
            await _ended_while_submitting(ctx, task, job, now, account)
        await ctx.publish(changed)
    return changed


async def _ended_while_submitting(
    ctx: EngineContext, task: Task, job: UpstreamJob, now: datetime, account: AccountHandle | None
) -> None:
    """The task was cancelled (or timed out) while its create was in flight: keep the upstream
    id so the cancel loop stops that generation; its result is never recorded."""
    server_id = ctx.server_id(account) if account is not None else None
    if await ctx.tasks.ends.record_late_submission(task.id, job.upstream_id, now, server_id):
        log.info("task %s ended while submitting: upstream %s to cancel", task.id, job.upstream_id)
        ctx.signals.cancel.set()


async def _record_unchanged(
    ctx: EngineContext,
    task: Task,
    progress: int,
    now: datetime,
    next_poll: datetime,
    schedule: PollSchedule | None,
) -> None:
    """A poll that moved no state: write the progress if it moved, else nothing (the next poll
    is held in the refresher's ``schedule``; outside the refresher there is none to keep)."""
    if progress != task.progress:
        await ctx.tasks.set_progress(task, progress, now, next_poll)
    elif schedule is not None:
        schedule.hold(task.id, schedule.stored_at(task.id), next_poll)


async def requeue(
    ctx: EngineContext,
    task: Task,
    now: datetime,
    *,
    delay: float = 0.0,
    count_attempt: bool = True,
) -> Task | None:
    """SUBMITTING -> QUEUED: the account refused before accepting, so another may take it."""
    values: dict[str, object] = {
        "account_id": task.account_id if is_pinned(task) else None,
        "not_before": now + timedelta(seconds=delay) if delay > 0 else None,
    }
    if not count_attempt:
        values["attempts"] = max(0, task.attempts - 1)
    changed = await ctx.tasks.transition(task, TaskState.QUEUED, now, **values)
    ctx.signals.dispatch.set()
    return changed


async def fail(ctx: EngineContext, task: Task, reason: str, now: datetime) -> Task | None:
    with log_context.bind(task_id=task.id):
        changed = await ctx.tasks.transition(task, TaskState.FAILED, now, failure_reason=reason)
        if changed is not None:
            log.info("task %s: %s -> failed: %s", task.id, task.state, reason)
        await ctx.publish(changed)
    return changed
