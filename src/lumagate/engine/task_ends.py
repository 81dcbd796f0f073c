"""Two engine loops for tasks that end early: deadlines, and cancels made upstream.

- :class:`DeadlineKeeper` fails every unfinished task past its ``deadline_at`` with
  ``timed out after N minutes`` (``domain/task_end.py``); the task event refunds it and stores
  its callback. Each pass reads at most ``BATCH`` tasks off ``ix_tasks_deadline``; a full batch
  runs the next pass at once.
- :class:`UpstreamCancels` stops the upstream generation of a task that was cancelled (or timed
  out) after the upstream accepted it, where the account's provider can
  (:class:`~lumagate.providers.capabilities.Cancellable`: the official API's ``DELETE``);
  elsewhere the generation runs on and its result is discarded. A failed attempt is retried
  after ``upstream_cancel_retry_seconds``; ``MAX_ATTEMPTS`` failures give up (logged).

Both writes are conditional (a transition from the state read; ``next_poll_at`` cleared only on
an ended task), so two replicas running these loops never end a task twice.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from lumagate.domain.clock import utcnow
from lumagate.domain.states import TaskState
from lumagate.domain.task import Task
from lumagate.domain.task_end import early_end, timed_out_reason
from lumagate.engine.context import EngineContext
from lumagate.engine.periodic import PassOutcome, run_periodically
from lumagate.engine.signals import Wakeup
from lumagate.observability import log_context
from lumagate.providers.base import ProviderError
from lumagate.providers.capabilities import Cancellable

log = logging.getLogger(__name__)

BATCH = 100


class DeadlineKeeper:
    """Fails unfinished tasks whose deadline has passed."""

    def __init__(self, ctx: EngineContext) -> None:
        self.ctx = ctx
        self.wakeup = Wakeup()  # nothing needs to wake it: deadlines are due on the period

    async def run(self) -> None:
        period = self.ctx.settings.deadline_check_seconds
        await run_periodically("deadlines", self._pass, self.wakeup, period)

    async def _pass(self) -> PassOutcome:
        return PassOutcome(again=await self.expire_once() >= BATCH)

    async def expire_once(self, now: datetime | None = None) -> int:
        """One pass (as of ``now``); returns how many tasks it read past their deadline."""
        found = await self.ctx.tasks.ends.past_deadline(now or utcnow(), BATCH)
        for task in found:
            await self._time_out(task)
        return len(found)

    async def _time_out(self, task: Task) -> None:
        if task.deadline_at is None:
            return
        now = utcnow()
        reason = timed_out_reason(task.created_at, task.deadline_at)
        with log_context.bind(task_id=task.id):
            changed = await self.ctx.tasks.transition(
                task, TaskState.FAILED, now, **early_end(task, now, reason)
            )
            if changed is None:
                return  # moved meanwhile: a later pass sees it again if it is still unfinished
            log.info("task %s: %s -> failed: %s", task.id, task.state, reason)
        await self.ctx.publish(changed)
        if changed.upstream_id:
            self.ctx.signals.cancel.set()


MAX_ATTEMPTS = 5


class UpstreamCancels:
    """Cancels upstream the generations of tasks that ended early."""

    def __init__(self, ctx: EngineContext) -> None:
        self.ctx = ctx
        self._failures: dict[str, int] = {}

    async def run(self) -> None:
        period = self.ctx.settings.upstream_cancel_retry_seconds
        await run_periodically("upstream-cancels", self._pass, self.ctx.signals.cancel, period)

    async def _pass(self) -> PassOutcome:
        return PassOutcome(again=await self.cancel_once() >= BATCH)

    async def cancel_once(self) -> int:
        """One pass over the due upstream cancels; returns how many it claimed."""
        hold = timedelta(seconds=self.ctx.settings.upstream_cancel_retry_seconds)
        due = await self.ctx.tasks.ends.claim_upstream_cancels(utcnow(), hold, BATCH)
        for task in due:
            await self._cancel(task)
        return len(due)

    async def _cancel(self, task: Task) -> None:
        ctx = self.ctx
        if task.account_id is None or task.upstream_id is None:
            await ctx.tasks.ends.upstream_cancel_done(task.id)
            return
        handle = await ctx.accounts.load_handle(task.account_id)
        # no provider here (a kind a newer version added): the generation runs on, like any other
        provider = None if handle is None else ctx.provider(handle.kind)
        if handle is None or not isinstance(provider, Cancellable):
            await ctx.tasks.ends.upstream_cancel_done(task.id)  # runs on; its result is discarded
            return
        try:
            await provider.cancel(handle, task.upstream_id)
        except ProviderError as exc:
            tries = self._failures.get(task.id, 0) + 1
            self._failures[task.id] = tries
            log.warning("upstream cancel of %s failed (%d): %s", task.id, tries, exc.message)
            if tries < MAX_ATTEMPTS:
                return  # claimed with a hold: due again after the retry wait
        else:
            log.info("task %s: upstream generation %s cancelled", task.id, task.upstream_id)
        self._failures.pop(task.id, None)
        await ctx.tasks.ends.upstream_cancel_done(task.id)
