"""The catch-up sweep: effects that a task event should have caused but a crash swallowed.

Refunds and callback deliveries are made by listeners on task events, which run just after the
state change commits. A process killed in between would lose them, so this loop repeats the
work from the store: at start-up and then periodically. Both jobs are idempotent (unique
indexes), so running them beside the listeners, or on several replicas, is safe.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence

from lumagate.engine.periodic import IDLE, PassOutcome, run_periodically
from lumagate.engine.signals import Wakeup

log = logging.getLogger(__name__)

CatchUpJob = Callable[[], Awaitable[int]]
DEFAULT_PERIOD_SECONDS = 60.0


class CatchUp:
    def __init__(
        self, jobs: Sequence[tuple[str, CatchUpJob]], period: float = DEFAULT_PERIOD_SECONDS
    ) -> None:
        self.jobs = list(jobs)
        self.period = period
        self.wakeup = Wakeup()

    async def run_once(self) -> int:
        done = 0
        for name, job in self.jobs:
            try:
                count = await job()
            except Exception:
                log.exception("catch-up job %s failed", name)
                continue
            if count:
                log.info("catch-up job %s settled %d item(s)", name, count)
            done += count
        return done

    async def run(self) -> None:
        await run_periodically("catch-up", self._pass, self.wakeup, self.period)

    async def _pass(self) -> PassOutcome:
        await self.run_once()
        return IDLE
