"""Upstream callbacks in: which account a hook token names, and what its body changes.

The official API posts a Generation to the ``callback_url`` given at create time; the URL holds
the account's unguessable token (Luma signs nothing: the token is the authentication the
upstream offers, UPSTREAM.md §1). The token is compared in constant time against every
account's. A body the provider understands is applied as it is, progress and results alike:
a completion's links go to the mirror hold (the copy starts at once, through the SSRF-guarded
fetcher) and a failure fails the task, with no upstream read (issue 10: no read a callback made
unnecessary). A completion without a video, a body the provider does not understand, or one
naming a task not followed yet (a callback before the create's answer was recorded) only makes
the task due (``Refresher.poke``), so the fallback poll reads it. Duplicates are harmless:
every state change is conditional and a poke of a finished task changes nothing.
"""

from __future__ import annotations

import hmac
from typing import Any

from lumagate.domain.accounts import HOOK_TOKEN, Account
from lumagate.domain.clock import utcnow
from lumagate.domain.states import TaskState
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
        presented = token.encode()
        for account in await self.ctx.accounts.all():
            expected = account.settings.get(HOOK_TOKEN)
            if not isinstance(expected, str) or not expected:
                continue
            if hmac.compare_digest(presented, expected.encode()) and found is None:
                found = account
        return found

    async def receive(self, token: str, payload: Any) -> bool:
        """Handle one callback; False when the token names no account."""
        account = await self.account_for(token)
        if account is None:
            return False
        upstream_id = payload.get("id") if isinstance(payload, dict) else None
        if not isinstance(upstream_id, str) or not upstream_id:
            return True  # nothing we can use; answering 200 stops the upstream's retries
        provider = self.ctx.provider(account.kind)  # None: a kind not known here, only poked
        job = provider.job_from_callback(payload) if isinstance(provider, CallbackAware) else None
        usable = job is not None and (
            job.state in (UpstreamState.PENDING, UpstreamState.PROCESSING)
            or target_state(job).is_terminal  # a completion with its video, or a failure
        )
        if job is not None and usable:
            task = await self.ctx.tasks.by_upstream(account.id, upstream_id)
            if task is not None and task.state in FOLLOWED:
                changed = await apply_job(self.ctx, task, job, utcnow(), kind=account.kind)
                if changed is not None and changed.state.is_terminal:
                    self.ctx.signals.dispatch.set()  # a slot is free
                return True
            if job.state in (UpstreamState.PENDING, UpstreamState.PROCESSING):
                return True
        await self.refresher.poke(account.id, upstream_id)
        return True
