"""Provider test fixtures: loopback sims with fast timelines, and a shared upstream client."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from lumagate.providers.http import UpstreamHttp, new_upstream_client
from tests.conftest import FAST_SIM as SHARED_FAST_SIM

FAST_SIM: dict[str, Any] = {**SHARED_FAST_SIM, "dreaming_seconds": 0.6, "seed": 4321}


@pytest.fixture
def sim_defaults() -> dict[str, Any]:
    return dict(FAST_SIM)


@pytest.fixture(scope="session")
def provider_sim_media(sim_media_dir: Path) -> Path:
    """The session's shared clip cache (see tests/conftest.py)."""
    return sim_media_dir


@pytest.fixture
async def upstream_http() -> AsyncIterator[UpstreamHttp]:
    client = new_upstream_client(10.0)
    try:
        yield UpstreamHttp(client, attempts=3, backoff_seconds=0.05)
    finally:
        await client.aclose()


async def nothing_taken(account_id: str, upstream_ids: object) -> set[str]:
    return set()
