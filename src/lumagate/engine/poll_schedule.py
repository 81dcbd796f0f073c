"""The next polls of running tasks held in memory by the one engine that polls.

A claim written into each polled row (``next_poll_at`` pushed forward) keeps two replicas from
polling one task at once, but it is a write per poll even when the poll changes nothing
(issue 10: 2,000 rows in 65 s with 1k running). Only one engine polls instead (SQLite: one
process per data directory; PostgreSQL: the holder of the polling lease,
``engine/poll_lease.py``), so the schedule of unchanged tasks lives here and a poll that
changes nothing writes nothing.

The stored ``next_poll_at`` still rules whenever it moves: each entry remembers the stored value
it overrides, and an entry whose stored value has changed (a state change, a progress write, an
upstream callback's poke, a deferred poll) is dropped, so the stored schedule takes over again.
Nothing here is needed for safety: after a crash, or when the polling lease changes hands, the
schedule is empty and each running task is simply polled once (polls are reads); submissions
are guarded by their own leases.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime


class PollSchedule:
    """task id → (the stored ``next_poll_at`` it overrides, when to poll the task next)."""

    def __init__(self) -> None:
        self._next: dict[str, tuple[datetime | None, datetime]] = {}

    def __len__(self) -> int:
        return len(self._next)

    def due(self, stored: Iterable[tuple[str, datetime | None]], now: datetime) -> list[str]:
        """Of the followed tasks whose stored poll is due (``(id, next_poll_at)``), those due by
        this schedule too; entries for tasks not among them (or stored anew) are forgotten."""
        kept: dict[str, tuple[datetime | None, datetime]] = {}
        due: list[str] = []
        for task_id, stored_at in stored:
            entry = self._next.get(task_id)
            if entry is not None and entry[0] == stored_at:
                kept[task_id] = entry
                if entry[1] > now:
                    continue
            due.append(task_id)
        self._next = kept
        return due

    def hold(self, task_id: str, stored_at: datetime | None, until: datetime) -> None:
        """Poll ``task_id`` (whose stored ``next_poll_at`` is ``stored_at``) next at ``until``."""
        self._next[task_id] = (stored_at, until)

    def stored_at(self, task_id: str) -> datetime | None:
        entry = self._next.get(task_id)
        return None if entry is None else entry[0]

    def next_due(self) -> datetime | None:
        """The earliest poll this schedule holds (None if it holds none)."""
        return min((until for _, until in self._next.values()), default=None)
