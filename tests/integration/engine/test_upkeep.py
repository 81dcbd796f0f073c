"""The upkeep loop against a real database (SQLite and PostgreSQL), with the provider registry
wired as the server wires it: the engine's calls go through the metering wrapper
(``observability/providers.py``), which has only the core provider calls.

The loop must still find and call ``maintain`` on a kind that has one (a web session's
keep-alive and capacity reading), store what it learned, and leave kinds without one alone.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet

from lumagate.domain.accounts import AVAILABLE, AccountHandle
from lumagate.domain.clock import utcnow
from lumagate.engine.context import EngineContext
from lumagate.engine.events import TaskEvents
from lumagate.engine.signals import EngineSignals
from lumagate.engine.upkeep import Upkeep
from lumagate.observability.metrics import GatewayMetrics
from lumagate.observability.providers import MeteredProvider
from lumagate.providers.base import Provider, UpstreamJob
from lumagate.providers.registry import ProviderRegistry
from lumagate.security.crypto import SecretBox
from lumagate.settings import Settings
from lumagate.store.accounts import AccountStore
from lumagate.store.database import Database
from lumagate.store.pool import PoolStore
from lumagate.store.tasks import TaskStore
from lumagate.store.unit_of_work import Transactions


@dataclass
class Plain:
    """A kind with only the core calls: nothing to maintain."""

    kind: str = "plain"

    async def refresh_many(
        self, account: AccountHandle, upstream_ids: Sequence[str]
    ) -> dict[str, UpstreamJob]:
        return {}

    async def close(self) -> None:
        return None


@dataclass
class KeptAlive(Plain):
    """A web-session-like kind: ``maintain`` keeps it alive and reads its capacity."""

    kind: str = "kept-alive"
    maintained: list[str] = field(default_factory=list)

    async def maintain(self, account: AccountHandle) -> Mapping[str, Any]:
        self.maintained.append(account.id)
        return {AVAILABLE: 7}


def _context(db: Database, tmp_path: Path) -> tuple[EngineContext, AccountStore]:
    accounts = AccountStore(db, SecretBox(Fernet.generate_key()))
    providers = ProviderRegistry()
    metrics = GatewayMetrics()

    def metered(provider: Provider) -> Provider:
        return MeteredProvider(provider, metrics)

    providers.wrap_calls(metered)  # as wiring/engine.py does
    ctx = EngineContext(
        settings=Settings(data_dir=tmp_path),
        tasks=TaskStore(db),
        accounts=accounts,
        pool=PoolStore(db),
        transactions=Transactions(db),
        providers=providers,
        signals=EngineSignals(),
        events=TaskEvents(),
        replica_id="replica-test",
        single_node=False,
    )
    return ctx, accounts


async def test_upkeep_maintains_through_the_metered_registry(db: Database, tmp_path: Path) -> None:
    ctx, accounts = _context(db, tmp_path)
    kept, plain = KeptAlive(), Plain()
    ctx.providers.register(kept)  # type: ignore[arg-type]
    ctx.providers.register(plain)  # type: ignore[arg-type]
    session = await accounts.create(name="web", kind="kept-alive", now=utcnow())
    await accounts.create(name="other", kind="plain", now=utcnow())
    assert not hasattr(ctx.providers.calling("kept-alive"), "maintain")  # the wrapper has none

    assert await Upkeep(ctx).upkeep_once() == 1
    assert kept.maintained == [session.id]
    handle = await accounts.load_handle(session.id)
    assert handle is not None and handle.settings[AVAILABLE] == 7
    assert await ctx.signals.dispatch.wait(0)  # capacity changed: the dispatcher looks again
