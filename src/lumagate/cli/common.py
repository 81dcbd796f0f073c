"""Shared CLI plumbing: running an async admin action over the stores it needs.

Commands build only the storage part of the composition root (``lumagate.wiring.stores``),
never the whole gateway, and import it inside the command: ``lumagate --help`` and ``lumagate
keys create`` load neither the engine, the providers, FastAPI nor the simulator.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, TypeVar

from rich.console import Console

if TYPE_CHECKING:
    from lumagate.settings import Settings
    from lumagate.wiring.stores import Stores

T = TypeVar("T")
console = Console(stderr=True)


def run_with_stores(
    action: Callable[[Stores], Awaitable[T]], settings: Settings | None = None
) -> T:
    """Migrate the database, run ``action`` with the stores, close the database."""
    from lumagate.settings import load_settings
    from lumagate.wiring.stores import open_stores

    chosen = settings or load_settings()
    problem = chosen.replica_secrets_problem(admin=False)
    if problem is not None:  # a generated secret.key would seal what no replica can open
        console.print(f"[red]lumagate cannot open the database:[/] {problem}")
        raise SystemExit(2)

    async def main() -> T:
        stores = open_stores(chosen)
        try:
            await stores.prepare()
            return await action(stores)
        finally:
            await stores.close()

    import asyncio  # loaded by the commands that run a loop, not by --help

    return asyncio.run(main())
