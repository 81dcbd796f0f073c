"""The reconciler: settles submissions whose outcome is unknown, without creating twice.

A task is left SUBMITTING with a lease when its process died during the upstream call, or when
the call failed in a way that does not say whether the upstream created the generation (5xx,
timeout). Once the lease is stale, the reconciler adopts the task and asks the provider to find
the generation (by listing and matching); found, it is recorded; not found, the task is queued
again (or failed once its attempts are spent).
"""

from __future__ import annotations

import logging

from lumagate.domain.clock import utcnow
from lumagate.domain.task import Task
from lumagate.engine.context import EngineContext, lease_deadline
from lumagate.engine.health import grace_left, session_gone_reason, session_lost
from lumagate.engine.outcomes import apply_job, fail, requeue
from lumagate.engine.periodic import IDLE, PassOutcome, run_periodically
from lumagate.providers.base import AuthenticationFailed, ProviderError

log = logging.getLogger(__name__)


class Reconciler:
    def __init__(self, ctx: EngineContext) -> None:
        self.ctx = ctx

    async def run(self) -> None:
        period = max(1.0, self.ctx.settings.lease_seconds / 3)
        await run_periodically("reconcile", self._pass, self.ctx.signals.reconcile, period)

    async def _pass(self) -> PassOutcome:
        await self.reconcile_once()
        return IDLE

    async def reconcile_once(self) -> int:
        ctx = self.ctx
        now = utcnow()
        stale = await ctx.tasks.stale_submissions(
            now, foreign_of=ctx.replica_id if ctx.single_node else None
        )
        settled = 0
        kinds = {a.id: a.kind for a in await ctx.accounts.all()} if stale else {}
        for task in stale:
            kind = kinds.get(task.account_id or "")
            if kind is not None and not ctx.calls(kind):
                continue  # a kind only other replicas know: left to them, nothing written
            if not await ctx.tasks.take_over_lease(
                task, ctx.replica_id, lease_deadline(ctx, now), now, single_node=ctx.single_node
            ):
                continue
            adopted = await ctx.tasks.get(task.id)
            if adopted is not None and await self._settle(adopted):
                settled += 1
        return settled

    async def _settle(self, task: Task) -> bool:
        ctx = self.ctx
        pair = await ctx.account_and_provider(task.account_id or "")
        if pair is None:
            await requeue(ctx, task, utcnow())
            return True
        account, provider = pair
        if not ctx.calls(account.kind):
            return False  # its lease runs out again; a replica that knows the kind adopts it
        submission = await ctx.submission_for(task)
        try:
            job = await provider.find_submission(account, submission)
        except AuthenticationFailed as exc:
            # Whether the dead session made the generation cannot be known any more: wait for
            # a renewed session, then fail rather than risk paying for it twice elsewhere.
            now = utcnow()
            since = await session_lost(ctx, account.id, exc.message, now)
            if grace_left(ctx, since, now) > 0:
                return False
            reason = session_gone_reason(
                account.name, exc.message, ctx.settings.session_grace_seconds
            )
            await fail(ctx, task, f"{reason}; the submission could not be confirmed", now)
            return True
        except ProviderError as exc:
            log.warning("reconcile of %s on %s failed: %s", task.id, account.name, exc.message)
            return False  # the lease runs out again and we look again
        now = utcnow()
        if job is not None:
            await apply_job(ctx, task, job, now, account)
            ctx.signals.refresh.set()
            return True
        if ctx.retry.exhausted(task.attempts):
            record = await ctx.accounts.get(account.id)
            last_error = record.last_error if record and record.last_error else "no answer"
            await fail(
                ctx, task, f"Upstream unavailable after {task.attempts} attempts: {last_error}", now
            )
            return True
        await requeue(ctx, task, now, delay=ctx.retry.delay(task.attempts))
        return True
