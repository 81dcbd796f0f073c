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
from datetime import UTC, datetime


def next_poll_at(now: datetime, seconds: float) -> datetime:
    """The first grid instant at most ``seconds`` after ``now`` (and ≥ ``seconds / 4``)."""
    if seconds <= 0:
        return now
    start = now.timestamp()
    instant = math.floor((start + seconds) / seconds) * seconds
    if instant - start < seconds / 4:
        instant += seconds
    return datetime.fromtimestamp(instant, UTC)
