"""Waiting on a condition with a deadline, never a fixed sleep standing in for it."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def wait_until(
    condition: Callable[[], T], what: str, timeout: float = 30.0, interval: float = 0.05
) -> T:
    """Call ``condition`` until it returns something truthy and return that; fail after
    ``timeout`` seconds saying ``what`` never happened."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {timeout} s (last: {value!r})")
        time.sleep(interval)


async def async_wait_until(
    condition: Callable[[], T], what: str, timeout: float = 30.0, interval: float = 0.01
) -> T:
    """:func:`wait_until` inside an event loop: sleeps without blocking it, so the tasks that
    make ``condition`` come true keep running."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {timeout} s (last: {value!r})")
        await asyncio.sleep(interval)
