"""Holding a task back from ``completed`` until its video is kept (see ``engine/mirroring.py``).

Called by ``apply_job`` for every completion the engine learns of. The mirror job is stored
first and the task held second, so a crash in between leaves a job that finishes the task.
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
    ctx: EngineContext, task: Task, media: TaskMedia | None, account: AccountHandle | None
) -> bool:
    """Whether a completion with ``media`` must be copied before the task is ``completed``."""
    settings = ctx.settings
    if ctx.mirrors is None or media is None or not settings.mirror_media:
        return False
    if not has_remote_links(media):
        return False
    if account is None and task.account_id is not None:
        account = await ctx.accounts.load_handle(task.account_id)
    kind = account.kind if account is not None else ""
    return wants_mirror(media, kind, enabled=True, pass_through=settings.mirror_pass_through_kinds)


async def hold_for_mirror(
    ctx: EngineContext,
    task: Task,
    job: UpstreamJob,
    now: datetime,
    values: Mapping[str, object],
) -> Task | None:
    """Store the copy job, then keep ``task`` in ``processing`` until the job ends it."""
    assert ctx.mirrors is not None and job.media is not None
    mirror = MirrorJob(task.id, task.account_id, job.upstream_id, job.media, new_prefix())
    if await ctx.mirrors.enqueue(mirror, now):
        log.info("task %s: upstream completed; keeping its video before completing", task.id)
    ctx.signals.mirror.set()
    held_poll = now + MIRROR_POLL_HOLD
    if task.state == TaskState.PROCESSING:
        await ctx.tasks.set_progress(task, 99, now, held_poll)
        return None
    held = {k: v for k, v in values.items() if k != "media"}
    held.update(progress=99, next_poll_at=held_poll)
    changed = await ctx.tasks.transition(task, TaskState.PROCESSING, now, **held)
    await ctx.publish(changed)
    return changed
