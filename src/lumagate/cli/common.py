"""Shared CLI plumbing: settings from options, and running an async admin action."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

from rich.console import Console

from lumagate.gateway import Gateway
from lumagate.settings import Settings, load_settings

T = TypeVar("T")
console = Console(stderr=True)


def run_with_gateway(
    action: Callable[[Gateway], Awaitable[T]], settings: Settings | None = None
) -> T:
    """Migrate the database, run ``action`` with a gateway (engine not started), clean up."""

    async def main() -> T:
        gateway = Gateway(settings or load_settings())
        try:
            await gateway.prepare()
            return await action(gateway)
        finally:
            await gateway.close()

    return asyncio.run(main())
