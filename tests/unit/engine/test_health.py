"""A lost session: the account is disabled once, the first time is kept, the dispatcher woken;
the grace left and the failure reason follow the settings."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from lumagate.domain.accounts import SESSION_LOST_AT, NewAccount
from lumagate.engine.health import grace_left, session_gone_reason, session_lost
from lumagate.wiring.operator import account_admin
from lumagate.wiring.stores import Stores
from tests.support.stores import engine_context

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


async def test_the_first_loss_disables_and_a_later_one_keeps_the_first_time(
    stores: Stores,
) -> None:
    ctx = engine_context(stores)
    account = await account_admin(stores).add(NewAccount(kind="luma_web", name="web"))
    assert await session_lost(ctx, account.id, "401 from upstream", T0) == T0
    disabled = await stores.accounts.get(account.id)
    assert disabled is not None and not disabled.enabled
    assert disabled.disabled_reason == "401 from upstream"
    assert disabled.settings[SESSION_LOST_AT].startswith("2026-03-01T12:00:00")
    assert await ctx.signals.dispatch.wait(0.0) is True
    later = T0 + timedelta(minutes=10)
    assert await session_lost(ctx, account.id, "401 again", later) == T0
    kept = await stores.accounts.get(account.id)
    assert kept is not None and kept.disabled_reason == "401 from upstream"


async def test_an_account_disabled_by_the_operator_is_marked_now(stores: Stores) -> None:
    ctx = engine_context(stores)
    account = await account_admin(stores).add(NewAccount(kind="luma_web", name="web"))
    await stores.accounts.disable(account.id, "operator", T0)
    later = T0 + timedelta(hours=1)
    assert await session_lost(ctx, account.id, "401", later) == later


async def test_grace_left_and_the_reason(stores: Stores) -> None:
    ctx = engine_context(stores, session_grace_seconds=600.0)
    assert grace_left(ctx, T0, T0 + timedelta(seconds=100)) == 500.0
    assert grace_left(ctx, T0, T0 + timedelta(seconds=700)) == -100.0
    reason = session_gone_reason("web-1", "401", 600.0)
    assert "web-1" in reason and "(401)" in reason and "600 s" in reason
