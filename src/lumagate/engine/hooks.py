"""Upstream callbacks in: which account a hook token names, and what its body changes.

The official API posts a Generation to the ``callback_url`` given at create time; the URL holds
the account's unguessable token (Luma signs nothing: the token is the authentication the
upstream offers, UPSTREAM.md §1). The usual callback costs one read: the task with the body's
upstream id joined with its account, whose token must match (constant-time). Only when none
matches (a callback before the create's answer was recorded, or another account's token) is
the token compared in constant time against every account's. A body the provider understands
is applied as it is, progress and results alike: a completion's links go to the mirror hold
(the copy starts at once, through the SSRF-guarded fetcher) and a failure fails the task, with
no upstream read (issue 10: no read a callback made unnecessary). A completion without a
video, a body the provider does not understand, or one naming a task not followed yet only
makes the task due (``Refresher.poke``), so the fallback poll reads it. Duplicates are
harmless: every state change is conditional and a poke of a finished task changes nothing.
"""

from __future__ import annotations

import hmac
from typing import Any

from lumagate.domain.accounts import HOOK_TOKEN, Account, AccountHandle
from lumagate.domain.clock import utcnow
from lumagate.domain.states import TaskState
from lumagate.domain.task import Task
from lumagate.engine.context import EngineContext
from lumagate.engine.outcomes import apply_job, target_state
from lumagate.engine.refresher import Refresher
from lumagate.providers.base import UpstreamState
from lumagate.providers.capabilities import CallbackAware

FOLLOWED = (TaskState.SUBMITTED, TaskState.PROCESSING)


class UpstreamHooks:
    def __init__(self, ctx: EngineContext, refresher: Refresher) -> None:
        self.ctx = ctx
        self.refresher = refresher

    async def account_for(self, token: str) -> Account | None:
        """The account whose hook token is ``token`` (every comparison is constant-time)."""
        found: Account | None = None
        for account in await self.ctx.accounts.all():
            if _token_matches(token, account) and found is None:
                found = account
        return found

    async def receive(self, token: str, payload: Any) -> bool:
        """Handle one callback; False when the token names no account."""
        upstream_id = payload.get("id") if isinstance(payload, dict) else None
        if isinstance(upstream_id, str) and upstream_id:
            # The usual case in one read: the account of the task with this upstream id,
            # whose token must match (compared in constant time, like every other).
            for account, sealed, task in await self.ctx.accounts.with_task_of(upstream_id):
                if _token_matches(token, account):
                    handle = self.ctx.accounts.handle(account, sealed)
                    await self._apply(handle, upstream_id, payload, task)
                    return True
        found = await self.account_for(token)  # no such task (yet), or not this token's
        if found is None:
            return False
        if not isinstance(upstream_id, str) or not upstream_id:
            return True  # nothing we can use; answering 200 stops the upstream's retries
        handle = AccountHandle(found.id, found.name, found.kind, found.base_url)
        await self._apply(handle, upstream_id, payload, None)
        return True

    async def _apply(
        self, account: AccountHandle, upstream_id: str, payload: Any, task: Task | None
    ) -> None:
        """Apply the body to ``task`` (the account's task of ``upstream_id``, if any), or poke."""
        provider = self.ctx.provider(account.kind)  # None: a kind not known here, only poked
        job = provider.job_from_callback(payload) if isinstance(provider, CallbackAware) else None
        usable = job is not None and (
            job.state in (UpstreamState.PENDING, UpstreamState.PROCESSING)
            or target_state(job).is_terminal  # a completion with its video, or a failure
        )
        if job is not None and usable:
            if task is not None and task.state in FOLLOWED:
                changed = await apply_job(self.ctx, task, job, utcnow(), account)
                if changed is not None and changed.state.is_terminal:
                    self.ctx.signals.dispatch.set()  # a slot is free
                return
            if job.state in (UpstreamState.PENDING, UpstreamState.PROCESSING):
                return
        await self.refresher.poke(account.id, upstream_id)


def _token_matches(token: str, account: Account) -> bool:
    expected = account.settings.get(HOOK_TOKEN)
    if not isinstance(expected, str) or not expected:
        return False
    return hmac.compare_digest(token.encode(), expected.encode())
