"""Account health decisions shared by the engine loops: a dead session and its waiting tasks.

When an upstream refuses an account's credentials (401, or a web session that expired), the
account is disabled with the upstream's reason and new work goes elsewhere at once. Tasks the
account was already following are NOT failed at once: their generations keep running upstream,
and if the operator renews the session (``lumagate accounts renew``) they are followed to the
end. Only when the session stays dead for ``session_grace_seconds`` do they fail, with a reason
that says so. The time the session was first found dead is kept in the account's settings.
"""

from __future__ import annotations

from datetime import datetime

from lumagate.domain.clock import iso_z
from lumagate.engine.context import EngineContext
from lumagate.providers.listing import parse_time

SESSION_LOST_AT = "session_lost_at"


async def session_lost(ctx: EngineContext, account_id: str, reason: str, now: datetime) -> datetime:
    """Disable the account (once) and return when its session was first found dead."""
    record = await ctx.accounts.get(account_id)
    if record is not None and not record.enabled:
        since = parse_time(record.settings.get(SESSION_LOST_AT))
        if since is not None:
            return since
    await ctx.accounts.disable(account_id, reason, now)
    await ctx.pool.update_settings(account_id, {SESSION_LOST_AT: iso_z(now)}, now)
    ctx.signals.dispatch.set()  # its queued work may go elsewhere now
    return now


def grace_left(ctx: EngineContext, since: datetime, now: datetime) -> float:
    """Seconds the account's followed tasks may still wait for a renewed session."""
    return ctx.settings.session_grace_seconds - (now - since).total_seconds()


def session_gone_reason(account_name: str, reason: str, grace_seconds: float) -> str:
    return (
        f"The upstream session of account {account_name} ended ({reason}) and was not renewed "
        f"within {grace_seconds:g} s"
    )
