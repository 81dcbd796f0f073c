"""Real stores on a fresh, migrated SQLite file, for unit tests of services and engine parts.

The same composition the CLI uses (``lumagate.wiring.stores.open_stores``), so a unit test of a
service talks to the real store code and a real database, not to a fake of either.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from lumagate.engine.context import EngineContext
from lumagate.engine.events import TaskEvents
from lumagate.engine.signals import EngineSignals
from lumagate.providers.registry import ProviderRegistry
from lumagate.settings import Settings
from lumagate.wiring.stores import Stores, open_stores


def sqlite_settings(data_dir: Path, **overrides: Any) -> Settings:
    """Settings of a data dir of its own (SQLite database, generated secret key)."""
    return Settings(data_dir=data_dir, **overrides)


@pytest.fixture
async def stores(tmp_path: Path) -> AsyncIterator[Stores]:
    """Every store over one migrated SQLite database in ``tmp_path``."""
    opened = open_stores(sqlite_settings(tmp_path / "data"))
    await opened.prepare()
    try:
        yield opened
    finally:
        await opened.close()


def engine_context(stores: Stores, **settings: Any) -> EngineContext:
    """The engine's shared parts over ``stores``: no providers registered, fresh signals."""
    return EngineContext(
        settings=stores.settings.model_copy(update=settings),
        tasks=stores.tasks,
        accounts=stores.accounts,
        pool=stores.pool,
        transactions=stores.transactions,
        providers=ProviderRegistry(),
        signals=EngineSignals(),
        events=TaskEvents(),
        replica_id="replica-test",
        single_node=True,
    )
