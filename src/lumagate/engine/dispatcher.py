"""The dispatcher: leases queued tasks to accounts (pro > vip > default, oldest first) and submits.

One claim is one write transaction: lock the accounts, count what each is running, walk the
queue in priority order and move each task that fits to SUBMITTING on the least-loaded eligible
account. The upstream calls happen after the commit, each in its own asyncio task; the lease
on a SUBMITTING task lets the reconciler adopt it if this process dies mid-call.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime, timedelta

from lumagate.domain.channels import ALL_CHANNELS, Channel
from lumagate.domain.clock import utcnow
from lumagate.domain.polling import PollPlan
from lumagate.domain.scheduling import (
    AccountSlot,
    choose_account,
    eligible_accounts,
    no_account_reason,
)
from lumagate.domain.states import TaskState
from lumagate.domain.task import Task
from lumagate.engine.context import EngineContext, is_pinned, lease_deadline
from lumagate.engine.health import session_lost
from lumagate.engine.outcomes import apply_job, fail, requeue
from lumagate.engine.periodic import PassOutcome, run_periodically
from lumagate.providers.base import (
    AuthenticationFailed,
    ProviderError,
    RateLimited,
    Rejected,
)
from lumagate.providers.capabilities import can_deliver, undeliverable

log = logging.getLogger(__name__)

CLAIM_BATCH = 64


class Dispatcher:
    def __init__(
        self, ctx: EngineContext, poll_plan: Callable[[], Awaitable[PollPlan]] | None = None
    ) -> None:
        self.ctx = ctx
        # Where a new task's first poll goes (the refresher's plan: at its expected end).
        self._poll_plan = poll_plan
        self._inflight: set[asyncio.Task[None]] = set()
        self.room_left = True  # whether the last pass left an account able to take more

    async def run(self) -> None:
        await run_periodically(
            "dispatch",
            self._pass,
            self.ctx.signals.dispatch,
            self.ctx.settings.dispatch_interval_seconds,
        )

    async def _pass(self) -> PassOutcome:
        # Again at once only if the pass claimed and an account can still take more: with
        # every slot taken another pass claims nothing, and its write transaction would only
        # delay the writes that finish a video (whatever frees a slot wakes this loop).
        claimed = await self.dispatch_once()
        return PassOutcome(again=claimed > 0 and self.room_left)

    async def dispatch_once(self) -> int:
        """One claim pass; returns how many tasks were handed to accounts."""
        ctx = self.ctx
        now = utcnow()
        claims: list[tuple[Task, str]] = []
        hopeless: list[tuple[Task, str]] = []
        async with ctx.transactions.begin() as work:
            accounts = await work.accounts.lock_all()
            running = await work.tasks.running_by_account()
            slots = [a.slot(running.get(a.id, 0)) for a in accounts]
            # Every account full: read one candidate (failed at once if no account could ever
            # take it), not a whole batch that must wait for a slot anyway (issue 10).
            here = [slot for slot in slots if ctx.calls(slot.kind)]
            batch = CLAIM_BATCH if any(_open(slot, now) for slot in here) else 1
            for task in await work.tasks.queued_candidates(now, batch):
                choice = choose_account(
                    task.channel,
                    slots,
                    now,
                    pinned_account_id=task.account_id if is_pinned(task) else None,
                    sandbox_always=ctx.settings.sandbox_always,
                    can_serve=_able_for(task),
                    callable_here=lambda slot: ctx.calls(slot.kind),
                )
                if choice.hopeless:
                    hopeless.append((task, _hopeless_reason(task, slots, choice.unable)))
                    continue
                if choice.account_id is None:
                    continue
                if await work.tasks.claim(
                    task, choice.account_id, ctx.replica_id, lease_deadline(ctx, now), now
                ):
                    claims.append((task, choice.account_id))
                    for slot in slots:
                        if slot.id == choice.account_id:
                            slot.running += 1
            for task, reason in hopeless:
                await work.tasks.fail_queued(task, reason, now)
        ctx.signals.busy_channels = busy_channels(
            slots, now, sandbox_always=ctx.settings.sandbox_always
        )
        self.room_left = any(_open(slot, now) for slot in slots)
        for task, _ in hopeless:
            await ctx.publish(await ctx.tasks.get(task.id))
        for task, account_id in claims:
            claimed = await ctx.tasks.get(task.id)
            if claimed is None or claimed.state != TaskState.SUBMITTING:
                continue
            job = asyncio.create_task(self.submit(claimed, account_id))
            self._inflight.add(job)
            job.add_done_callback(self._submit_ended)
        return len(claims)

    def _submit_ended(self, job: asyncio.Task[None]) -> None:
        """Forget a finished submit and log what it raised: nothing awaits it, so an error
        (the store unreachable mid-submit, say) would otherwise surface only as asyncio's
        "exception was never retrieved" at some later garbage collection. The task stays
        SUBMITTING under its lease, and the reconciler adopts it when the lease ends."""
        self._inflight.discard(job)
        if job.cancelled():
            return
        error = job.exception()
        if error is not None:
            log.error(
                "submit ended in error; the reconciler takes the task over when its lease ends",
                exc_info=error,
            )

    async def submit(self, task: Task, account_id: str) -> None:
        """Make the upstream call for a claimed task and record what came of it."""
        ctx = self.ctx
        pair = await ctx.account_and_provider(account_id)
        if pair is None or not ctx.calls(pair[0].kind):
            # gone, or a kind only other replicas know (never chosen here, docs/upstreams.md)
            await requeue(ctx, task, utcnow(), count_attempt=False)
            return
        account, provider = pair
        submission = await ctx.submission_for(task)
        try:
            if task.request.extend_of:
                if submission.extend_of_upstream_id is None:
                    await fail(
                        ctx, task, "The source video of this extend is not available", utcnow()
                    )
                    return
                async with self._lease_held(task):
                    job = await provider.extend(account, submission)
            else:
                async with self._lease_held(task):
                    job = await provider.submit(account, submission)
        except RateLimited as exc:
            now = utcnow()
            wait = exc.retry_after or ctx.settings.rate_limit_cooldown_seconds
            await ctx.accounts.cool_down(
                account_id, now + timedelta(seconds=wait), exc.message, now
            )
            await requeue(ctx, task, now, count_attempt=False)
        except AuthenticationFailed as exc:
            now = utcnow()
            await session_lost(ctx, account_id, exc.message, now)
            await requeue(ctx, task, now, count_attempt=False)
        except Rejected as exc:
            await fail(ctx, task, exc.message, utcnow())
        except Exception as exc:
            # 5xx, timeouts, anything unexpected: the upstream may or may not have created the
            # generation. Leave the task SUBMITTING and let the reconciler look before retrying.
            message = exc.message if isinstance(exc, ProviderError) else repr(exc)
            log.warning("submit of %s on %s failed ambiguously: %s", task.id, account.name, message)
            now = utcnow()
            await ctx.accounts.record_failure(account_id, message, now)
            delay = ctx.retry.delay(task.attempts)
            await ctx.tasks.extend_lease(
                task.id, ctx.replica_id, now - timedelta(seconds=1) + timedelta(seconds=delay)
            )
            ctx.signals.reconcile_soon(delay)
        else:
            plan = None if self._poll_plan is None else await self._poll_plan()
            await apply_job(ctx, task, job, utcnow(), account, plan)
            ctx.signals.refresh.set()

    @contextlib.asynccontextmanager
    async def _lease_held(self, task: Task) -> AsyncIterator[None]:
        """Renew the task's lease while its upstream call runs, however slow the upstream is,
        so no reconciler adopts (and resubmits) a submission that is still in flight."""
        ctx = self.ctx
        period = max(0.5, ctx.settings.lease_seconds / 3)

        async def renew() -> None:
            while True:
                await asyncio.sleep(period)
                await ctx.tasks.extend_lease(task.id, ctx.replica_id, lease_deadline(ctx, utcnow()))

        renewer = asyncio.create_task(renew())
        try:
            yield
        finally:
            renewer.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await renewer

    async def drain(self, timeout: float) -> None:
        if self._inflight:
            await asyncio.wait(set(self._inflight), timeout=timeout)

    def cancel_all(self) -> None:
        for job in self._inflight:
            job.cancel()


def _hopeless_reason(task: Task, slots: list[AccountSlot], unable: bool) -> str:
    """Why no account will ever serve ``task``: none eligible, or none able to deliver it."""
    if not unable:
        return no_account_reason(task.channel, is_pinned(task))
    kinds = [s.kind for s in slots if s.enabled and task.channel in s.channels]
    if is_pinned(task):
        kinds = [s.kind for s in slots if s.id == task.account_id]
    return undeliverable(kinds, task.request, task.channel).render()


def _able_for(task: Task) -> Callable[[AccountSlot], bool]:
    """Whether an account can deliver ``task`` (providers/capabilities.py decides by kind)."""

    def able(slot: AccountSlot) -> bool:
        return can_deliver(slot.kind, task.request)

    return able


def _open(slot: AccountSlot, now: datetime) -> bool:
    """Whether ``slot`` could take a task now (enabled, not cooling down, below its limit)."""
    return slot.enabled and slot.free > 0 and not slot.cooling(now)


def busy_channels(
    slots: list[AccountSlot], now: datetime, *, sandbox_always: bool
) -> frozenset[Channel]:
    """Channels with eligible accounts, every one of them full (and none cooling down, whose
    end no event announces): a new task there waits for a slot whatever a pass does now."""
    busy = set()
    for channel in ALL_CHANNELS:
        pool = eligible_accounts(channel, slots, sandbox_always=sandbox_always)
        if pool and all(slot.free <= 0 and not slot.cooling(now) for slot in pool):
            busy.add(channel)
    return frozenset(busy)
