"""The one loop every engine worker runs: a pass, then a wait for a wake-up or the next due time.

Dispatcher, refresher, reconciler, upkeep, catch-up sweep and callback sender differ only in
their pass; :func:`run_periodically` is the loop around it, so each worker keeps only what it
does and they all behave alike:

- a pass that raises is logged and the loop goes on (one bad pass never stops a worker);
- a pass that reports more work (``PassOutcome.again``) is followed by the next pass at once;
- otherwise the loop waits on the worker's :class:`~lumagate.engine.signals.Wakeup` until it is
  woken, until the pass's ``due`` time (at least ``MIN_DUE_WAIT`` away, so a due time in the past
  cannot spin the loop), or for the worker's ``period``, whichever comes first;
- cancelling the asyncio task (``Engine.stop``) ends the loop at once, while it waits or during
  a pass; the cancellation is never swallowed, and every write a pass makes is conditional, so
  a pass cut short leaves nothing a later pass cannot finish.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime

from lumagate.domain.clock import utcnow
from lumagate.engine.signals import Wakeup

log = logging.getLogger(__name__)

MIN_DUE_WAIT = 0.05


@dataclass(frozen=True)
class PassOutcome:
    """What one pass says about the next: run again at once, or when work is next due."""

    again: bool = False
    due: datetime | None = None


IDLE = PassOutcome()

Pass = Callable[[], Awaitable[PassOutcome]]


def wait_seconds(
    outcome: PassOutcome, period: float, now: Callable[[], datetime] = utcnow
) -> float:
    """How long the loop waits after ``outcome`` when nothing wakes it."""
    if outcome.due is None:
        return period
    return max(MIN_DUE_WAIT, min(period, (outcome.due - now()).total_seconds()))


async def run_periodically(
    name: str,
    run_pass: Pass,
    wakeup: Wakeup,
    period: float,
    *,
    now: Callable[[], datetime] = utcnow,
) -> None:
    """Run ``run_pass`` until cancelled (see the module docstring for the rules)."""
    while True:
        try:
            outcome = await run_pass()
        except Exception:
            log.exception("%s pass failed", name)
            outcome = IDLE
        if outcome.again:
            continue
        await wakeup.wait(wait_seconds(outcome, period, now))
