"""Upkeep: each enabled, maintainable account is maintained once a pass; what it reports is
stored, a dead session disables it, another error is recorded; others are left alone."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest

from lumagate.domain.accounts import AVAILABLE, AccountHandle, NewAccount
from lumagate.engine.context import EngineContext
from lumagate.engine.upkeep import Upkeep
from lumagate.providers.base import AuthenticationFailed, TransientError
from lumagate.wiring.operator import account_admin
from lumagate.wiring.stores import Stores
from tests.support.stores import engine_context


class SessionProvider:
    """The Maintained part of a web-session provider; what each account's upkeep answers."""

    kind = "luma-web"

    def __init__(self) -> None:
        self.answers: dict[str, Exception | Mapping[str, Any]] = {}
        self.maintained: list[str] = []

    async def maintain(self, account: AccountHandle) -> Mapping[str, Any]:
        self.maintained.append(account.name)
        answer = self.answers.get(account.name, {})
        if isinstance(answer, Exception):
            raise answer
        return answer


class PlainProvider:
    """A provider with nothing to maintain (not Maintained)."""

    kind = "relay"


@pytest.fixture
def provider() -> SessionProvider:
    return SessionProvider()


@pytest.fixture
def ctx(stores: Stores, provider: SessionProvider) -> EngineContext:
    context = engine_context(stores)
    context.providers.register(provider)  # type: ignore[arg-type]
    context.providers.register(PlainProvider())  # type: ignore[arg-type]
    return context


async def test_a_pass_stores_what_each_session_reports(
    ctx: EngineContext, stores: Stores, provider: SessionProvider
) -> None:
    admin = account_admin(stores)
    for name in ("fine", "dead", "flaky", "off"):
        await admin.add(NewAccount(kind="luma-web", name=name))
    await admin.add(NewAccount(kind="relay", name="relay", base_url="http://127.0.0.1:1"))
    await admin.disable("off", "operator")
    provider.answers = {
        "fine": {AVAILABLE: 3},
        "dead": AuthenticationFailed("session expired"),
        "flaky": TransientError("502 from upstream"),
    }
    assert await Upkeep(ctx).upkeep_once() == 1
    assert sorted(provider.maintained) == ["dead", "fine", "flaky"]  # not "off", not the relay
    fine = await admin.get("fine")
    assert fine.settings[AVAILABLE] == 3 and fine.effective_concurrency == 1
    dead = await admin.get("dead")
    assert not dead.enabled and dead.disabled_reason == "session expired"
    flaky = await admin.get("flaky")
    assert flaky.enabled and flaky.failures == 1 and flaky.last_error == "502 from upstream"
    assert await ctx.signals.dispatch.wait(0.0) is True
