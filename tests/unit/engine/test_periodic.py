"""The periodic-worker loop every engine worker runs (engine/periodic.py)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

import pytest

from lumagate.engine.periodic import (
    IDLE,
    MIN_DUE_WAIT,
    PassOutcome,
    run_periodically,
    wait_seconds,
)
from lumagate.engine.signals import Wakeup

LONG = 3600.0  # a period no test waits out: a pass that comes sooner came for another reason
T0 = datetime(2026, 1, 1, tzinfo=UTC)


class Passes:
    """A pass that records each run and answers from a script (then IDLE)."""

    def __init__(self, *outcomes: PassOutcome | Exception) -> None:
        self.script = list(outcomes)
        self.runs = 0
        self.changed = asyncio.Condition()

    async def __call__(self) -> PassOutcome:
        async with self.changed:
            self.runs += 1
            self.changed.notify_all()
        step = self.script.pop(0) if self.script else IDLE
        if isinstance(step, Exception):
            raise step
        return step

    async def reach(self, runs: int, seconds: float = 5.0) -> None:
        """Wait (with a deadline) until the pass has run ``runs`` times."""
        async with asyncio.timeout(seconds), self.changed:
            await self.changed.wait_for(lambda: self.runs >= runs)


def start(passes: Passes, wakeup: Wakeup, period: float = LONG) -> asyncio.Task[None]:
    return asyncio.create_task(run_periodically("test", passes, wakeup, period))


async def stop(loop: asyncio.Task[None]) -> None:
    loop.cancel()
    with pytest.raises(asyncio.CancelledError):
        await loop


async def settled(passes: Passes) -> int:
    """The run count once the loop is waiting (a few loop turns with no new pass)."""
    for _ in range(20):
        await asyncio.sleep(0)
    return passes.runs


async def test_a_wakeup_runs_the_next_pass_before_the_period() -> None:
    passes, wakeup = Passes(), Wakeup()
    loop = start(passes, wakeup)
    await passes.reach(1)
    assert await settled(passes) == 1  # idle: it waits
    wakeup.set()
    await passes.reach(2)
    await stop(loop)


async def test_again_runs_the_next_pass_at_once() -> None:
    passes, wakeup = Passes(PassOutcome(again=True), PassOutcome(again=True)), Wakeup()
    loop = start(passes, wakeup)
    await passes.reach(3)
    assert await settled(passes) == 3  # the third pass was idle
    await stop(loop)


async def test_a_due_time_ends_the_wait_before_the_period() -> None:
    soon = datetime.now(UTC) + timedelta(milliseconds=100)
    passes, wakeup = Passes(PassOutcome(due=soon)), Wakeup()
    loop = start(passes, wakeup)
    await passes.reach(2)  # nothing woke it: the due time did
    assert await settled(passes) == 2
    await stop(loop)


def test_wait_is_the_sooner_of_period_and_due_time_never_below_the_floor() -> None:
    def clock() -> datetime:
        return T0

    assert wait_seconds(IDLE, 7.0, clock) == 7.0
    assert wait_seconds(PassOutcome(due=T0 + timedelta(seconds=3)), 7.0, clock) == 3.0
    assert wait_seconds(PassOutcome(due=T0 + timedelta(seconds=30)), 7.0, clock) == 7.0
    overdue = PassOutcome(due=T0 - timedelta(seconds=30))
    assert wait_seconds(overdue, 7.0, clock) == MIN_DUE_WAIT


async def test_a_failing_pass_is_logged_and_the_loop_goes_on(
    caplog: pytest.LogCaptureFixture,
) -> None:
    passes, wakeup = Passes(RuntimeError("boom"), PassOutcome(again=True)), Wakeup()
    with caplog.at_level(logging.ERROR, logger="lumagate.engine.periodic"):
        loop = start(passes, wakeup)
        await passes.reach(1)
        assert await settled(passes) == 1  # a failed pass waits like an idle one
        wakeup.set()
        await passes.reach(3)
        await stop(loop)
    failures = [r for r in caplog.records if "test pass failed" in r.getMessage()]
    assert len(failures) == 1
    assert failures[0].exc_info is not None and "boom" in str(failures[0].exc_info[1])


@pytest.mark.parametrize("woken", [False, True])
async def test_cancel_while_waiting_stops_the_loop(woken: bool) -> None:
    passes, wakeup = Passes(), Wakeup()
    loop = start(passes, wakeup)
    await passes.reach(1)
    await settled(passes)
    if woken:  # a wake-up in the same loop turn as the cancel must not swallow it
        wakeup.set()
    await stop(loop)
    assert loop.cancelled()


async def test_cancel_during_a_pass_stops_the_loop_and_is_not_a_failure(
    caplog: pytest.LogCaptureFixture,
) -> None:
    entered, never = asyncio.Event(), asyncio.Event()

    async def slow_pass() -> PassOutcome:
        entered.set()
        await never.wait()
        return IDLE

    pass_fn: Callable[[], Awaitable[PassOutcome]] = slow_pass
    with caplog.at_level(logging.ERROR, logger="lumagate.engine.periodic"):
        loop = asyncio.create_task(run_periodically("test", pass_fn, Wakeup(), LONG))
        await entered.wait()
        await stop(loop)
    assert not [r for r in caplog.records if "pass failed" in r.getMessage()]
