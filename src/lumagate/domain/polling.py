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


def on_grid(instant: datetime, seconds: float) -> datetime:
    """The first grid instant of ``seconds`` at or after ``instant`` (tasks aimed at nearby
    times land on one instant, so one list call reads them together)."""
    if seconds <= 0:
        return instant
    return datetime.fromtimestamp(math.ceil(instant.timestamp() / seconds) * seconds, UTC)


BACKOFF_SHARE = 0.5  # an unfinished task waits half the time it has run (or overrun) ...
BACKOFF_INTERVALS = 10  # ... at most this many poll intervals


@dataclass(frozen=True)
class PollPlan:
    """When the refresher polls a running task next, given how long tasks recently took.

    Polled (no upstream callback): a task is first read at its expected end
    (``started + expected_seconds``, on the grid), not before; past that end, or with no recent
    run time, the wait backs off with how long the task has overrun (or run): half of it, at
    least one ``interval`` and at most ten. A lone 2-minute task so costs fewer reads than a
    client polling every 5 s through a pass-through proxy, and is found at most ten intervals
    late; tasks of one account still come due on the same grid instants.

    Called back (``interval`` longer than ``cadence``: the upstream says when it ends), the
    fallback poll is put a margin after the expected end, so it finds the callback already
    applied; with no recent run time it backs off with the task's age (half of it, at most ten
    intervals).

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
        age = max(0.0, (now - started).total_seconds())
        if interval > self.cadence:  # called back
            if self.expected_seconds is None:
                return max(grid, now + timedelta(seconds=min(age / 2, 10 * interval)))
            margin = max(2 * self.cadence, 0.1 * self.expected_seconds)
            return max(grid, started + timedelta(seconds=self.expected_seconds + margin))
        if self.expected_seconds is not None and age < self.expected_seconds:
            end = started + timedelta(seconds=self.expected_seconds)
            return max(grid, on_grid(end, interval))
        overrun = age if self.expected_seconds is None else age - self.expected_seconds
        wait = min(max(interval, BACKOFF_SHARE * overrun), BACKOFF_INTERVALS * interval)
        return max(grid, on_grid(now + timedelta(seconds=wait), interval))

    def needs_write(self, wanted: datetime) -> bool:
        """Whether ``wanted`` is enough later than the claim's own due time to store it."""
        return (wanted - self.claimed_until).total_seconds() > self.cadence
