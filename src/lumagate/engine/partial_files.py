"""The partial-file sweep: removes the temporary files that writes cut short left behind.

The local media backend writes each file beside its target as ``.tmp-…`` and renames it into
place, so readers never see a partial file; but a process killed mid-write leaves that
temporary file for good. Once at start and then every ``period``, this loop removes those not
written for ``stale_after`` (an hour: far longer than any write's pause between two chunks,
since every upstream read has its own timeout), so a crash costs disk only for a while.
Object storage has no such files (an upload is whole or absent), so only a local media store
gets this loop.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Protocol

from lumagate.domain.clock import utcnow
from lumagate.engine.periodic import IDLE, PassOutcome, run_periodically
from lumagate.engine.signals import Wakeup

log = logging.getLogger(__name__)

STALE_AFTER = timedelta(hours=1)
SWEEP_PERIOD_SECONDS = 3600.0


class PartialFiles(Protocol):
    """Where partial files are (``LocalBackend``)."""

    async def sweep_partials(self, modified_before: datetime) -> int:
        """Remove the partial files last written before ``modified_before``; how many."""
        ...


class PartialFileSweep:
    """Removes the stale partial files of one local media directory."""

    def __init__(
        self,
        files: PartialFiles,
        *,
        stale_after: timedelta = STALE_AFTER,
        now: Callable[[], datetime] = utcnow,
    ) -> None:
        self.files = files
        self.stale_after = stale_after
        self.now = now
        self.wakeup = Wakeup()

    async def run(self, period: float = SWEEP_PERIOD_SECONDS) -> None:
        await run_periodically("partial-files", self.sweep_once, self.wakeup, period)

    async def sweep_once(self) -> PassOutcome:
        removed = await self.files.sweep_partials(self.now() - self.stale_after)
        if removed:
            log.info("removed %d partial media files left by interrupted writes", removed)
        return IDLE
