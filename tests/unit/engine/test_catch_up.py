"""The catch-up sweep: every job runs each pass, a failing one is logged and skipped, the
settled counts add up, and a wake-up runs a pass before the period is over."""

from __future__ import annotations

import asyncio

import pytest

from lumagate.engine.catch_up import CatchUp
from tests.support.waiting import async_wait_until


async def test_a_pass_runs_every_job_and_adds_their_counts(
    caplog: pytest.LogCaptureFixture,
) -> None:
    ran: list[str] = []

    async def refunds() -> int:
        ran.append("refunds")
        return 2

    async def broken() -> int:
        ran.append("broken")
        raise RuntimeError("database gone")

    async def callbacks() -> int:
        ran.append("callbacks")
        return 0

    sweep = CatchUp([("refunds", refunds), ("broken", broken), ("callbacks", callbacks)])
    with caplog.at_level("INFO", logger="lumagate.engine.catch_up"):
        assert await sweep.run_once() == 2
    assert ran == ["refunds", "broken", "callbacks"]
    assert "catch-up job broken failed" in caplog.text
    assert "catch-up job refunds settled 2 item(s)" in caplog.text
    assert "callbacks settled" not in caplog.text


async def test_the_loop_sweeps_at_start_and_again_when_woken() -> None:
    passes: list[int] = []

    async def job() -> int:
        passes.append(1)
        return 0

    sweep = CatchUp([("job", job)], period=3600.0)
    loop = asyncio.create_task(sweep.run())
    try:
        await async_wait_until(lambda: len(passes) >= 1, "the first sweep", timeout=10)
        sweep.wakeup.set()
        await async_wait_until(lambda: len(passes) >= 2, "a woken sweep", timeout=10)
    finally:
        loop.cancel()
        with pytest.raises(asyncio.CancelledError):
            await loop
