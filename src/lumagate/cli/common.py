"""Shared CLI plumbing: running an async admin action over the stores it needs.

Commands build only the storage part of the composition root (``lumagate.wiring.stores``),
never the whole gateway, and import it inside the command: ``lumagate --help`` and ``lumagate
keys create`` load neither the engine, the providers, FastAPI nor the simulator.

:func:`run_with_stores` runs with the garbage collector paused (:func:`paused_collector`): its
imports (SQLAlchemy, the stores) make ~100k objects that all live until the command exits, and
the collector, on its usual thresholds, walked them again and again as they accumulated (~15 %
of ``lumagate keys create``'s CPU). The commands that use it do one admin action and exit; the
collector is back on when it returns.
"""

from __future__ import annotations

import gc
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, TypeVar

from rich.console import Console

if TYPE_CHECKING:
    from lumagate.settings import Settings
    from lumagate.wiring.stores import Stores

T = TypeVar("T")
console = Console(stderr=True)


@contextmanager
def paused_collector() -> Iterator[None]:
    """The garbage collector off inside, as it was (on, usually) after (see the module doc)."""
    was_on = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_on:
            gc.enable()


def run_with_stores(
    action: Callable[[Stores], Awaitable[T]], settings: Settings | None = None
) -> T:
    """Migrate the database, run ``action`` with the stores, close the database; the collector
    is paused meanwhile (the module doc says why)."""
    with paused_collector():
        return _run_with_stores(action, settings)


def _run_with_stores(action: Callable[[Stores], Awaitable[T]], settings: Settings | None) -> T:
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
