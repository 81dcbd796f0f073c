"""The upkeep loop: keeps upstream sessions alive and reads what each account can still take.

Every ``upstream_upkeep_seconds`` (and once at start) each enabled account whose provider can
be maintained (``providers/capabilities.py``) gets one ``maintain`` call: a web session makes
its keep-alive request (which also rotates and persists its cookie) and reads the plan's
remaining generations, which the scheduler then respects; an official key reads its credit
balance. A dead session disables the account like any other 401.
"""

from __future__ import annotations

import asyncio
import logging

from lumagate.domain.accounts import Account
from lumagate.domain.clock import utcnow
from lumagate.domain.scheduling import SANDBOX_KIND
from lumagate.engine.context import EngineContext
from lumagate.engine.health import session_lost
from lumagate.engine.periodic import IDLE, PassOutcome, run_periodically
from lumagate.providers.base import AuthenticationFailed, ProviderError
from lumagate.providers.capabilities import Maintained

log = logging.getLogger(__name__)


class Upkeep:
    def __init__(self, ctx: EngineContext) -> None:
        self.ctx = ctx

    async def run(self) -> None:
        await run_periodically(
            "upkeep", self._pass, self.ctx.signals.upkeep, self.ctx.settings.upstream_upkeep_seconds
        )

    async def _pass(self) -> PassOutcome:
        await self.upkeep_once()
        return IDLE

    async def upkeep_once(self) -> int:
        """Maintain every enabled real account once; returns how many were maintained."""
        ctx = self.ctx
        accounts = [
            a
            for a in await ctx.accounts.all()
            if a.enabled and a.kind != SANDBOX_KIND and ctx.calls(a.kind)  # others: not ours
        ]
        done = await asyncio.gather(*(self._maintain(a) for a in accounts))
        return sum(done)

    async def _maintain(self, account: Account) -> bool:
        ctx = self.ctx
        handle = await ctx.accounts.load_handle(account.id)
        if handle is None:
            return False
        # The real provider, not the metered wrapper the engine calls through
        # (``ctx.account_and_provider``): that wrapper has only the core calls, so a capability
        # check on it is always False and no session would ever be kept alive.
        provider = ctx.provider(handle.kind)
        if not isinstance(provider, Maintained):
            return False
        try:
            changes = await provider.maintain(handle)
        except AuthenticationFailed as exc:
            log.warning("account %s lost its session: %s", account.name, exc.message)
            await session_lost(ctx, account.id, exc.message, utcnow())
            return False
        except ProviderError as exc:
            log.warning("upkeep of %s failed: %s", account.name, exc.message)
            await ctx.accounts.record_failure(account.id, exc.message, utcnow())
            return False
        if changes:
            await ctx.pool.update_settings(account.id, changes, utcnow())
            ctx.signals.dispatch.set()  # capacity may have changed
        return True
