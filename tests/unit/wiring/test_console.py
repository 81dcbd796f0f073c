"""The console's credential probe: a provider's ``maintain`` call, its outcome, untestable kinds."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, cast

from lumagate.domain.accounts import AccountHandle
from lumagate.providers.base import AuthenticationFailed, Provider
from lumagate.providers.registry import ProviderRegistry
from lumagate.wiring.console import maintain_probe


class Kept:
    """A provider that keeps sessions alive; ``dead`` makes its session fail."""

    kind = "kept"

    def __init__(self) -> None:
        self.dead = False
        self.seen: list[AccountHandle] = []

    async def maintain(self, account: AccountHandle) -> Mapping[str, Any]:
        self.seen.append(account)
        if self.dead:
            raise AuthenticationFailed("session expired upstream")
        return {"upstream_available": 7}


class Plain:
    kind = "plain"


async def test_the_probe_reports_the_maintain_outcome_and_what_it_learned() -> None:
    kept = Kept()
    registry = ProviderRegistry()
    registry.register(cast(Provider, kept))
    registry.register(cast(Provider, Plain()))
    probe = maintain_probe(registry)
    handle = AccountHandle(id="a", name="a", kind="kept", credentials={"cookie": "c"})

    ok = await probe(handle)
    assert ok.ok and ok.settings == {"upstream_available": 7} and kept.seen == [handle]
    kept.dead = True
    failed = await probe(handle)
    assert not failed.ok and failed.message == "session expired upstream" and not failed.untestable
    plain = await probe(AccountHandle(id="b", name="b", kind="plain"))
    assert plain.untestable and not plain.ok
    unknown = await probe(AccountHandle(id="c", name="c", kind="nobody"))
    assert unknown.untestable
