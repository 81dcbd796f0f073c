"""Wake-ups between the API and the engine loops, so loops react to events instead of sleeping."""

from __future__ import annotations

import asyncio
import contextlib


class Wakeup:
    """A latch a loop waits on with a timeout; ``set()`` from anywhere in the event loop."""

    def __init__(self) -> None:
        self._event = asyncio.Event()

    def set(self) -> None:
        self._event.set()

    async def wait(self, timeout: float) -> bool:
        """True if woken, False on timeout; the latch is cleared either way."""
        woken = False
        # Not asyncio.wait_for: on Python 3.11 it swallows a cancel that arrives in the same loop
        # iteration as set(), and a loop that survives cancel() makes Engine.stop() hang.
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(max(0.0, timeout)):
                await self._event.wait()
            woken = True
        self._event.clear()
        return woken


class EngineSignals:
    """One wake-up per engine loop that others have reason to wake."""

    def __init__(self) -> None:
        self.dispatch = Wakeup()
        self.refresh = Wakeup()
        self.reconcile = Wakeup()
        self.upkeep = Wakeup()  # e.g. an account was renewed: read its session and quota now
        self.mirror = Wakeup()  # a finished upstream video is waiting to be kept

    def reconcile_soon(self, delay: float) -> None:
        """Wake the reconciler after ``delay`` seconds (an ambiguous submit is due a look)."""
        asyncio.get_running_loop().call_later(max(0.0, delay), self.reconcile.set)
