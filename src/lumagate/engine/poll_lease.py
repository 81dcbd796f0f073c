"""The polling lease: which one replica of a PostgreSQL set follows the running tasks.

Two refreshers must never poll one task at once, and a claim written into each polled row
(``next_poll_at`` pushed out) cost two writes per running task per minute while nothing
changed (issue 10). Instead one replica holds this lease (a row in ``engine_leases``, the
database's clock) and keeps the next polls in memory, as a single SQLite engine does
(``engine/poll_schedule.py``); the others poll nothing and try to take the lease as it runs
out. Its cost is one statement per replica every third of ``LUMAGATE_LEASE_SECONDS``, however
many tasks run.

The holder trusts the lease only for ``seconds`` after it *sent* the take that granted it
(measured on its monotonic clock), which ends before the database's expiry: a holder paused
past that (a stopped VM, a long GC) stops polling when it wakes, before its next pass, unless a
renewal shows the lease still its own. Only a pause in the middle of a pass can let it finish
one batch of reads beside the new holder: polls are reads and every state change is
conditional, so that costs a duplicate read, never a duplicate change. A new term (the lease
taken after someone else held it, or after it ran out) starts with an empty schedule: every
running task is polled once, as after a restart.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Callable
from datetime import datetime
from typing import Protocol

from lumagate.engine.periodic import IDLE, PassOutcome, run_periodically
from lumagate.engine.signals import Wakeup

log = logging.getLogger(__name__)

POLLING = "polling"


class Leases(Protocol):
    """The lease statements (``store/engine_leases.EngineLeases``)."""

    async def take(self, name: str, owner: str, seconds: float) -> datetime | None: ...

    async def release(self, name: str, owner: str) -> bool: ...


class PollLease:
    """This replica's view of the polling lease: taken, renewed and given up through the store."""

    def __init__(
        self,
        leases: Leases,
        owner: str,
        seconds: float,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.leases = leases
        self.owner = owner
        self.seconds = seconds
        self._clock = clock
        self._lock = asyncio.Lock()
        self._held_until = -math.inf  # monotonic: when this replica stops trusting the lease
        self._next_try = -math.inf
        self._term: datetime | None = None  # the start of the term this replica holds
        self.terms = 0  # how many terms this replica began (each one: an empty schedule)

    @property
    def renew_every(self) -> float:
        return max(0.1, self.seconds / 3)

    def held(self) -> bool:
        return self._clock() < self._held_until

    async def keep(self) -> bool:
        """Take or renew the lease if a try is due (every third of it); whether this replica
        may poll now. A failed statement leaves the lease trusted until its local end."""
        async with self._lock:
            sent = self._clock()
            if sent < self._next_try:
                return self.held()
            try:
                term = await self.leases.take(POLLING, self.owner, self.seconds)
            except Exception:
                log.warning("renewing the polling lease failed", exc_info=True)
                self._next_try = sent + min(1.0, self.renew_every)
                return self.held()
            self._next_try = sent + self.renew_every
            self._record(term, sent)
            return self.held()

    def _record(self, term: datetime | None, sent: float) -> None:
        if term is None:
            if self._term is not None:
                log.warning("replica %s lost the polling lease", self.owner)
            self._term, self._held_until = None, -math.inf
            return
        if term != self._term or not self.held():
            # A new term, or ours again after it ran out here: the schedule starts empty.
            self.terms += 1
            log.info("replica %s holds the polling lease (term %d)", self.owner, self.terms)
        self._term, self._held_until = term, sent + self.seconds

    async def run(self, woken: Wakeup) -> None:
        """Keep the lease every third of it, beside the refresher (whose passes may be slow)."""
        await run_periodically(
            "poll-lease", lambda: self.keep_and_wake(woken), Wakeup(), self.renew_every
        )

    async def keep_and_wake(self, woken: Wakeup) -> PassOutcome:
        """One pass of :meth:`run`: :meth:`keep`, and wake the refresher (``woken``) when a
        term begins, so a takeover polls at once."""
        before = self.terms
        await self.keep()
        if self.terms != before:
            woken.set()
        return IDLE

    async def release(self) -> None:
        """Give the lease up (a clean stop), so another replica takes it over at once."""
        async with self._lock:
            if self._term is None:
                return
            self._term, self._held_until = None, -math.inf
            try:
                await self.leases.release(POLLING, self.owner)
            except Exception:  # it runs out by itself
                log.warning("giving up the polling lease failed", exc_info=True)
