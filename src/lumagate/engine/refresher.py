"""The refresher: follows submitted tasks until they end, one batched call per account.

Due tasks are grouped by account and refreshed with one ``refresh_many`` call each. The claim
and the next poll of a task live in memory (``engine/poll_schedule.py``), so a poll that
changes nothing writes nothing: on SQLite because one engine alone polls per data directory,
on PostgreSQL because only the replica holding the polling lease (``engine/poll_lease.py``)
polls at all; the others pass without polling until the lease comes to them.
Providers that learn of a change early (an upstream callback, a finished local render) make
the task due at once through :meth:`Refresher.poke`, a durable mark any replica may write.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import defaultdict
from datetime import datetime, timedelta

from lumagate.domain.accounts import AccountHandle
from lumagate.domain.clock import utcnow
from lumagate.domain.polling import PollPlan
from lumagate.domain.task import Task
from lumagate.engine.context import EngineContext
from lumagate.engine.health import grace_left, session_gone_reason, session_lost
from lumagate.engine.outcomes import apply_job, fail
from lumagate.engine.periodic import IDLE, PassOutcome, run_periodically
from lumagate.engine.poll_lease import PollLease
from lumagate.engine.poll_schedule import PollSchedule
from lumagate.providers.base import AuthenticationFailed, ProviderError, UpstreamState

log = logging.getLogger(__name__)

SESSION_RECHECK_SECONDS = 30.0
NOT_HERE_RECHECK_SECONDS = 60.0  # tasks on a kind this replica cannot call: next look here
CLAIM_LIMIT = 500  # tasks polled per pass at most (a fuller pass runs the next one at once)
EXPECTED_RUN_CACHE_SECONDS = 10.0  # how long one read of the recent run time is reused
# (read again sooner once a poll found a task ended: the next task's first poll aims by it)


class Refresher:
    """Polls the due running tasks; with ``lease`` (replicas) only while this replica holds it."""

    def __init__(self, ctx: EngineContext, lease: PollLease | None = None) -> None:
        self.ctx = ctx
        self.lease = lease  # None: one engine alone polls (SQLite)
        self._expected: tuple[float, float | None] = (-EXPECTED_RUN_CACHE_SECONDS, None)
        self.schedule = PollSchedule()
        self._term = 0  # the lease's term the schedule belongs to
        self._claimed_at = utcnow()  # the instant of the last claim's read of due polls

    async def run(self) -> None:
        await run_periodically(
            "refresh",
            self._pass,
            self.ctx.signals.refresh,
            self.ctx.settings.refresh_interval_seconds,
        )

    async def _pass(self) -> PassOutcome:
        polled = await self.refresh_once()
        if self.lease is not None and not self.lease.held():
            return IDLE  # another replica polls: try the lease again after a period
        return PassOutcome(again=polled >= CLAIM_LIMIT, due=await self.next_due())

    async def next_due(self) -> datetime | None:
        """When a poll is next due: the earliest held here or stored. Stored polls up to the
        last claim's instant were all seen (and polled or held here); a later one, even one
        already past (a loop woken a hair early), is still due from the store."""
        stored = await self.ctx.tasks.next_poll_due(after=self._claimed_at)
        held = self.schedule.next_due()
        return min((t for t in (stored, held) if t is not None), default=None)

    async def poke(self, account_id: str, upstream_id: str) -> None:
        if await self.ctx.tasks.poll_soon(account_id, upstream_id, utcnow()):
            self.ctx.signals.refresh.set()

    async def refresh_once(self) -> int:
        if not await self._may_poll():
            return 0
        ctx = self.ctx
        hold = timedelta(seconds=max(ctx.settings.refresh_interval_seconds, 5.0))
        claimed_at = self._claimed_at = utcnow()
        due = await self._claim(claimed_at, hold)
        if not due:
            return 0
        plan = await self.plan()
        by_account: dict[str, list[Task]] = defaultdict(list)
        for task in due:
            if task.account_id and task.upstream_id:
                by_account[task.account_id].append(task)
        await asyncio.gather(*(self._refresh_account(a, ts, plan) for a, ts in by_account.items()))
        return len(due)

    async def plan(self) -> PollPlan:
        """How polls are placed now (the dispatcher places each new task's first poll by it)."""
        return PollPlan(
            cadence=self.ctx.settings.refresh_interval_seconds,
            expected_seconds=await self._expected_run_seconds(),
        )

    async def _may_poll(self) -> bool:
        """Whether this replica polls now: always alone (SQLite), else while it holds the
        polling lease (taken or renewed here when a try is due). A new term of the lease
        starts with an empty schedule: each running task is polled once, as after a restart."""
        if self.lease is None:
            return True
        held = await self.lease.keep()
        if not held or self.lease.terms != self._term:
            self.schedule = PollSchedule()
            self._term = self.lease.terms
        return held

    async def _claim(self, now: datetime, hold: timedelta) -> list[Task]:
        """The due tasks, their next poll pushed out by ``hold`` in memory (no other engine
        polls them meanwhile: one alone polls, or this replica holds the polling lease)."""
        stale = await self.ctx.tasks.polls.stale(now)
        due = await self.ctx.tasks.polls.followed(self.schedule.due(stale, now)[:CLAIM_LIMIT])
        stored = dict(stale)
        for task in due:
            self.schedule.hold(task.id, stored.get(task.id), now + hold)
        return due

    async def _expected_run_seconds(self) -> float | None:
        """The recent submit-to-finish time (a rolling window of completions), read at most every
        ``EXPECTED_RUN_CACHE_SECONDS`` (and anew once a poll found a task completed): it places
        each task's next poll near its expected end."""
        stamp, value = self._expected
        if time.monotonic() - stamp > EXPECTED_RUN_CACHE_SECONDS:
            value = await self.ctx.tasks.recent_run_seconds()
            self._expected = (time.monotonic(), value)
        return value

    async def _refresh_account(self, account_id: str, tasks: list[Task], plan: PollPlan) -> None:
        ctx = self.ctx
        pair = await ctx.account_and_provider(account_id)
        now = utcnow()
        if pair is None:
            for task in tasks:
                await fail(ctx, task, "The upstream account of this task was removed", now)
            return
        account, provider = pair
        if not ctx.calls(account.kind):
            self._leave(tasks, now)
            return
        ids = [t.upstream_id for t in tasks if t.upstream_id]
        try:
            jobs = await provider.refresh_many(account, ids)
        except AuthenticationFailed as exc:
            await self._session_lost(account, tasks, exc.message, now)
            return
        except ProviderError as exc:
            log.warning("refresh on %s failed: %s", account.name, exc.message)
            await ctx.accounts.record_failure(account_id, exc.message, now)
            return
        now = utcnow()
        for task in tasks:
            job = jobs.get(task.upstream_id or "")
            if job is None:
                continue
            if job.state == UpstreamState.COMPLETED:
                self._expected = (-EXPECTED_RUN_CACHE_SECONDS, None)  # a new run time to read
            changed = await apply_job(ctx, task, job, now, account, plan, self.schedule)
            if changed is not None and changed.state.is_terminal:
                ctx.signals.dispatch.set()  # a slot is free

    def _leave(self, tasks: list[Task], now: datetime) -> None:
        """Tasks on an account of a kind this replica has no provider for: not polled, not
        failed, nothing written; held in memory so they are looked at again only rarely. A
        replica that knows the kind polls them (with the polling lease, once it holds it)."""
        until = now + timedelta(seconds=NOT_HERE_RECHECK_SECONDS)
        for task in tasks:
            self.schedule.hold(task.id, self.schedule.stored_at(task.id), until)

    async def _session_lost(
        self, account: AccountHandle, tasks: list[Task], reason: str, now: datetime
    ) -> None:
        """Keep the tasks while the session may be renewed (engine/health.py), then fail them."""
        ctx = self.ctx
        since = await session_lost(ctx, account.id, reason, now)
        left = grace_left(ctx, since, now)
        if left > 0:
            await ctx.pool.defer_polls(
                [t.id for t in tasks], now + timedelta(seconds=min(left, SESSION_RECHECK_SECONDS))
            )
            return
        why = session_gone_reason(account.name, reason, ctx.settings.session_grace_seconds)
        for task in tasks:
            await fail(ctx, task, why, now)
        ctx.signals.dispatch.set()
