"""A gateway built in the test process over one official account of a sim: the rig of the
engine tests that drive the dispatcher and the refresher by hand (no HTTP server)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from lumagate.domain.clock import utcnow
from lumagate.gateway import Gateway
from lumagate.settings import Settings


async def official_gateway(
    tmp_path: Path,
    database_url: str,
    sim_base_url: str,
    api_key: str,
    *,
    max_concurrency: int = 1,
    **settings: Any,
) -> Gateway:
    """A prepared (not started) gateway with the sim's official API as its one account; no
    sandbox, no upstream callbacks; ``settings`` override the rest."""
    gateway = Gateway(
        Settings(
            **{
                "data_dir": tmp_path,
                "database_url": database_url,
                "public_url": "http://127.0.0.1:9",
                "sandbox_enabled": False,
                "upstream_callbacks": False,
                **settings,
            }
        )
    )
    await gateway.prepare()
    await gateway.stores.accounts.create(
        name="official",
        kind="luma-official",
        now=utcnow(),
        base_url=sim_base_url + "/dream-machine/v1",
        credentials={"api_key": api_key},
        max_concurrency=max_concurrency,
    )
    return gateway
