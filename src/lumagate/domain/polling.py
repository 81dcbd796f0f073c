"""When to poll a running task next: on a shared grid, so an account's tasks come due together.

Providers refresh all due tasks of an account with one list call. If every task kept its own
phase (``now + interval`` from whenever it last changed), the tasks of one account would come
due at scattered instants and each instant would cost a call. Rounding every next poll onto a
grid of the interval (epoch-aligned) makes them due at the same instants, so one call per
account per interval follows them all. A task never waits more than one interval, and never
less than a quarter of one.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta


def next_poll_at(now: datetime, seconds: float) -> datetime:
    """The first grid instant at most ``seconds`` after ``now`` (and ≥ ``seconds / 4``)."""
    if seconds <= 0:
        return now
    start = now.timestamp()
    instant = math.floor((start + seconds) / seconds) * seconds
    if instant - start < seconds / 4:
        instant += seconds
    return datetime.fromtimestamp(instant, UTC)


@dataclass(frozen=True)
class PollPlan:
    """When the refresher polls a running task next, given how long tasks recently took.

    A task not expected to finish soon is not polled at the short cadence: its next poll is
    put near its expected end (``started + expected_seconds``), a margin early when polling is
    how we learn of the end, a margin late when the upstream calls back (``interval`` longer
    than ``cadence``: the fallback poll should find the callback already applied). With no
    recent run time, a called-back task's fallback poll backs off with its age (half of it, at
    most ten intervals). Near and past the expected end the plain grid of ``interval`` holds.

    ``claimed_until`` is when the refresher's claim already made the task due again: a next
    poll earlier than that is simply the claim's (no write); only a later one is stored.
    """

    claimed_until: datetime
    cadence: float
    expected_seconds: float | None = None

    def next_poll(self, now: datetime, interval: float, started: datetime | None) -> datetime:
        grid = next_poll_at(now, interval)
        if started is None:
            return grid
        called_back = interval > self.cadence
        if self.expected_seconds is None:
            if not called_back:
                return grid
            age = max(0.0, (now - started).total_seconds())
            return max(grid, now + timedelta(seconds=min(age / 2, 10 * interval)))
        margin = max(2 * self.cadence, 0.1 * self.expected_seconds)
        offset = self.expected_seconds + (margin if called_back else -margin)
        return max(grid, started + timedelta(seconds=offset))

    def needs_write(self, wanted: datetime) -> bool:
        """Whether ``wanted`` is enough later than the claim's own due time to store it."""
        return (wanted - self.claimed_until).total_seconds() > self.cadence
