"""Holding a task back from ``completed`` until its video is kept (see ``engine/mirroring.py``).

Called by ``apply_job`` for every completion the engine learns of. The mirror job is stored
and the task held in one transaction, so a crash leaves both (the job finishes the task) or
neither (the task is still followed, and its completion is learnt again); the copy then starts
at once in this process when a copy slot is free.
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
    account: AccountHandle | None = None,
) -> Task | None:
    """Store the copy job and keep ``task`` in ``processing`` until the job ends it, in one
    transaction (``MirrorStore.enqueue_and_hold``); the task that moved, or None.

    With a free copy slot here the job is stored already held by this replica and started at
    once, with the task as held and ``account`` (its account, when the caller has it), so the
    copy's first step is the video's request, with no read before it and no wait for the
    mirror loop's claim; the row is the same durable job, so a crash leaves it to a restart
    (single node) or to another replica once the hold lapses, as a crash during any attempt
    does. Else the loop claims it when due."""
    assert ctx.mirrors is not None and job.media is not None
    mirror = MirrorJob(task.id, task.account_id, job.upstream_id, job.media, new_prefix())
    starter = ctx.mirror_starter
    run_here = starter is not None and starter.reserve()
    held_until = now + timedelta(seconds=ctx.settings.lease_seconds)
    owner = ctx.replica_id if run_here else None
    hold = _hold_values(task, now, values)
    try:
        stored, held = await ctx.mirrors.enqueue_and_hold(
            mirror, task, now, hold, owner=owner, held_until=held_until
        )
    except BaseException:
        if run_here and starter is not None:
            starter.release()  # nothing was written
        raise
    if stored:
        log.info("task %s: upstream completed; keeping its video before completing", task.id)
    if run_here and starter is not None and stored:
        # Not held (it moved meanwhile, e.g. cancelled): the attempt reads it and settles.
        starter.start(mirror, held, account if held is not None else None)
    else:
        if run_here and starter is not None:
            starter.release()  # a job was stored before (a repeated completion): kept as it is
        ctx.signals.mirror.set()
    # The upstream is done: its slot is free (store/task_writes.py). Woken after the copy was
    # started, so the copy's first request goes ahead of the dispatcher's pass.
    ctx.signals.dispatch.set()
    if held is None or held.state == task.state:
        return None  # no state moved (a processing task only took its hold)
    await ctx.publish(held)
    return held


def _hold_values(task: Task, now: datetime, values: Mapping[str, object]) -> dict[str, object]:
    """What a held task is written with: progress 99, no poll for a day, and (a submitted task
    moving to processing) the rest of what the upstream reported, its links aside."""
    held = {k: v for k, v in values.items() if k != "media"}
    if task.state == TaskState.PROCESSING:
        held = {}
    held.update(progress=99, next_poll_at=now + MIRROR_POLL_HOLD)
    return held
