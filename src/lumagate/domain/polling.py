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

    Polled (no upstream callback): a task is first read a margin before its expected end
    (``started + expected_seconds``; the margin is two ``interval`` or 10 % of the run time,
    whichever is longer), then on the grid of ``interval`` until a margin past that end; past
    that, or with no recent run time at all, the wait backs off with how long the task has
    overrun (or run): half of it, at least one ``interval``, at most ten. The early first read
    keeps the estimate honest: a task's end is recorded when a poll finds it (and its video is
    kept), so aiming at the end itself would record every end late and push the next estimate
    later still. A lone
    2-minute task so costs about a dozen reads (a client polling a pass-through proxy every 5 s
    costs 24), and tasks of one account still come due on the same grid instants.

    Called back (``interval`` longer than ``cadence``: the upstream says when it ends), the
    fallback poll is put a margin after the expected end, so it finds the callback already
    applied; with no recent run time it backs off with the task's age (half of it, at most ten
    intervals).
    """

    cadence: float
    expected_seconds: float | None = None

    def next_poll(self, now: datetime, interval: float, started: datetime | None) -> datetime:
        grid = next_poll_at(now, interval)
        if started is None:
            return grid
        age = max(0.0, (now - started).total_seconds())
        expected = self.expected_seconds
        if interval > self.cadence:  # called back
            if expected is None:
                return max(grid, now + timedelta(seconds=min(age / 2, 10 * interval)))
            margin = max(2 * self.cadence, 0.1 * expected)
            return max(grid, started + timedelta(seconds=expected + margin))
        overrun = age
        if expected is not None:
            margin = max(2 * interval, 0.1 * expected)
            if age < expected - margin:
                return max(grid, on_grid(started + timedelta(seconds=expected - margin), interval))
            if age < expected + margin:
                return grid
            overrun = age - expected - margin
        wait = min(max(interval, BACKOFF_SHARE * overrun), BACKOFF_INTERVALS * interval)
        return (
            grid
            if wait <= interval
            else max(grid, on_grid(now + timedelta(seconds=wait), interval))
        )
