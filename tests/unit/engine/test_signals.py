"""Wake-ups: a set latch wakes a waiter at once, a timeout says so, the latch clears."""

from __future__ import annotations

import asyncio
import time

from lumagate.engine.signals import EngineSignals, Wakeup


async def test_a_set_before_the_wait_wakes_it_at_once_and_clears() -> None:
    wakeup = Wakeup()
    wakeup.set()
    started = time.monotonic()
    assert await wakeup.wait(30.0) is True
    assert time.monotonic() - started < 5.0
    assert await wakeup.wait(0.01) is False  # cleared by the first wait


async def test_a_set_from_another_task_wakes_a_waiter() -> None:
    wakeup = Wakeup()
    waiter = asyncio.create_task(wakeup.wait(30.0))
    await asyncio.sleep(0)  # let the waiter start waiting
    wakeup.set()
    assert await asyncio.wait_for(waiter, 5.0) is True


async def test_a_negative_timeout_is_an_immediate_timeout() -> None:
    assert await Wakeup().wait(-1.0) is False


async def test_reconcile_soon_sets_the_reconciler_after_the_delay() -> None:
    signals = EngineSignals()
    signals.reconcile_soon(0.01)
    assert await signals.reconcile.wait(0.0) is False  # not yet
    assert await signals.reconcile.wait(10.0) is True
    assert not any([await s.wait(0.0) for s in (signals.dispatch, signals.refresh, signals.upkeep)])
