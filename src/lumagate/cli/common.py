"""Shared CLI plumbing: running an async admin action over the stores it needs.

Commands build only the storage part of the composition root (``lumagate.wiring.stores``),
never the whole gateway, and import it inside the command: ``lumagate --help`` and ``lumagate
keys create`` load neither the engine, the providers, FastAPI nor the simulator.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from rich.console import Console

    from lumagate.settings import Settings
    from lumagate.wiring.stores import Stores

T = TypeVar("T")


class StderrConsole:
    """rich's stderr console, made at its first use: ``lumagate serve`` prints through it only
    when it refuses to start, and ``rich.console`` is ~5 % of the server's imports."""

    _rich: Console | None = None

    def _console(self) -> Console:
        if self._rich is None:
            from rich.console import Console

            self._rich = Console(stderr=True)
        return self._rich

    def print(self, *objects: Any, **options: Any) -> None:
        """``rich.console.Console.print`` on stderr."""
        self._console().print(*objects, **options)

    @property
    def width(self) -> int:
        """The terminal's width as rich sees it."""
        return self._console().width


console = StderrConsole()


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
