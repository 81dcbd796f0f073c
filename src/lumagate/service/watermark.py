"""Where a catch-up sweep starts reading: just before the previous sweep of this process began.

A sweep repairs effects that a crash swallowed (a refund, a callback delivery) by finding the
tasks that should have them. Reading every finished task each minute costs more as history
grows; after the first sweep of a process (which looks at everything, since whatever a crash
lost happened before it), only tasks finished since the last sweep began can be new. The margin
covers a task event still in flight when that sweep read, and clocks of replicas that differ a
little.
"""

from __future__ import annotations

from datetime import datetime, timedelta

DEFAULT_MARGIN = timedelta(minutes=5)


class Watermark:
    """The lower bound of ``finished_at`` the next sweep needs (None: no sweep ran yet)."""

    def __init__(self, margin: timedelta = DEFAULT_MARGIN) -> None:
        self.margin = margin
        self._since: datetime | None = None

    @property
    def since(self) -> datetime | None:
        return self._since

    def swept(self, started: datetime) -> None:
        """A sweep that began at ``started`` finished without error."""
        self._since = started - self.margin
