"""Holding a task back from ``completed`` until its video is kept (see ``engine/mirroring.py``).

Called by ``apply_job`` for every completion the engine learns of. The mirror job is stored
first and the task held second, so a crash in between leaves a job that finishes the task; the
copy then starts at once in this process when a copy slot is free.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime, timedelta

from lumagate.domain.accounts import AccountHandle
from lumagate.domain.mirroring import MirrorJob, has_remote_links, new_prefix, wants_mirror
from lumagate.domain.states import TaskState
from lumagate.domain.task import Task, TaskMedia
from lumagate.engine.context import EngineContext
from lumagate.providers.base import UpstreamJob

log = logging.getLogger(__name__)

MIRROR_POLL_HOLD = timedelta(days=1)
"""A held task is not polled: its upstream is done, the job finishes it."""


async def needs_mirror(
    ctx: EngineContext,
    task: Task,
    media: TaskMedia | None,
    account: AccountHandle | None,
    kind: str | None = None,
) -> bool:
    """Whether a completion with ``media`` must be copied before the task is ``completed``
    (``kind``: the account's, when no handle is given; else the account is read)."""
    settings = ctx.settings
    if ctx.mirrors is None or media is None or not settings.mirror_media:
        return False
    if not has_remote_links(media):
        return False
    if account is not None:
        kind = account.kind
    elif kind is None and task.account_id is not None:
        account = await ctx.accounts.load_handle(task.account_id)
        kind = account.kind if account is not None else None
    return wants_mirror(
        media, kind or "", enabled=True, pass_through=settings.mirror_pass_through_kinds
    )


async def hold_for_mirror(
    ctx: EngineContext,
    task: Task,
    job: UpstreamJob,
    now: datetime,
    values: Mapping[str, object],
) -> Task | None:
    """Store the copy job, then keep ``task`` in ``processing`` until the job ends it.

    With a free copy slot here the job is stored already held by this replica and started at
    once, once the task is held (no wait for the mirror loop's claim); the row is the same
    durable job, so a crash leaves it to a restart (single node) or to another replica once
    the hold lapses, as a crash during any attempt does. Else the loop claims it when due."""
    assert ctx.mirrors is not None and job.media is not None
    mirror = MirrorJob(task.id, task.account_id, job.upstream_id, job.media, new_prefix())
    starter = ctx.mirror_starter
    run_here = starter is not None and starter.reserve()
    held_until = now + timedelta(seconds=ctx.settings.lease_seconds)
    owner = ctx.replica_id if run_here else None
    try:
        stored = await ctx.mirrors.enqueue(mirror, now, owner=owner, held_until=held_until)
        if stored:
            log.info("task %s: upstream completed; keeping its video before completing", task.id)
        changed = await _hold(ctx, task, now, values)
    except BaseException:
        if run_here and starter is not None:
            starter.release()  # stored, the job is due once its hold lapses (or at a restart)
        raise
    if run_here and starter is not None and stored:
        starter.start(mirror)
    else:
        if run_here and starter is not None:
            starter.release()  # a job was stored before (a repeated completion): kept as it is
        ctx.signals.mirror.set()
    # The upstream is done: its slot is free (store/task_writes.py). Woken after the copy was
    # started, so the copy's first reads queue ahead of the dispatcher's pass.
    ctx.signals.dispatch.set()
    return changed


async def _hold(
    ctx: EngineContext, task: Task, now: datetime, values: Mapping[str, object]
) -> Task | None:
    held_poll = now + MIRROR_POLL_HOLD
    if task.state == TaskState.PROCESSING:
        await ctx.tasks.set_progress(task, 99, now, held_poll)
        return None
    held = {k: v for k, v in values.items() if k != "media"}
    held.update(progress=99, next_poll_at=held_poll)
    changed = await ctx.tasks.transition(task, TaskState.PROCESSING, now, **held)
    await ctx.publish(changed)
    return changed
