"""Wake-ups between the API and the engine loops, so loops react to events instead of sleeping."""

from __future__ import annotations

import asyncio
import contextlib

from lumagate.domain.channels import Channel
from lumagate.domain.task import Task


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
        self.cancel = Wakeup()  # a task ended with its upstream generation still to cancel
        # Channels whose every eligible account was full at the dispatcher's last pass (it
        # sets them each pass): a new task of one of them cannot be claimed until a slot frees.
        self.busy_channels: frozenset[Channel] = frozenset()

    def task_queued(self, task: Task) -> None:
        """A create's wake-up of the dispatcher, skipped while every account that could take the
        task was full at the last pass: a pass now would read the queue and claim nothing.

        Nothing is lost: whatever frees a slot (a task ending, a requeue, an account enabled,
        added or changed) wakes the dispatcher itself, and it passes at least every
        ``dispatch_interval_seconds`` anyway (a cooldown ending, a slot freed on another
        replica). A pinned task (an extend) always wakes it: its one account is not the pool."""
        if task.channel in self.busy_channels and task.account_id is None:
            return
        self.dispatch.set()

    def reconcile_soon(self, delay: float) -> None:
        """Wake the reconciler after ``delay`` seconds (an ambiguous submit is due a look)."""
        asyncio.get_running_loop().call_later(max(0.0, delay), self.reconcile.set)
