"""Media retention: remove media older than ``LUMAGATE_MEDIA_RETENTION_DAYS`` and say so.

One sweep (``lumagate media gc``, or the background loop every
``LUMAGATE_MEDIA_RETENTION_SWEEP_SECONDS``) does two things:

1. every object in the media store last modified before the cutoff (now minus the retention)
   is deleted — videos, thumbnails, last frames and uploads alike, whichever backend;
2. every completed task that finished before the cutoff and has a ``media:`` file that is now
   gone is stamped: its ``media`` cleared, ``media_removed_at`` set and ``failure_reason`` set
   to :data:`~lumagate.domain.task.MEDIA_REMOVED_REASON`, so every dialect answers
   ``video: null`` with that reason instead of a dead link.

Deletes are idempotent and the stamp is conditional, so replicas may sweep at the same time and
a sweep cut short is finished by the next one. With ``dry_run`` nothing is changed and the
report says what would be.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol

from lumagate.domain.clock import utcnow
from lumagate.domain.request import is_media_ref, media_key
from lumagate.domain.task import MEDIA_REMOVED_REASON, TaskMedia
from lumagate.engine.periodic import IDLE, PassOutcome, run_periodically
from lumagate.engine.signals import Wakeup
from lumagate.media.backend import MediaObject
from lumagate.store.media_retention import RetentionCandidate

log = logging.getLogger(__name__)

PAGE = 500


class RetentionRows(Protocol):
    """The task rows a sweep reads and stamps (``MediaRetentionStore``)."""

    async def candidates(
        self, finished_before: datetime, after_id: str = "", limit: int = 500
    ) -> list[RetentionCandidate]:
        """Completed tasks finished before the cutoff that still keep gateway media, by id."""
        ...

    async def mark_removed(self, task_id: str, reason: str, now: datetime) -> bool:
        """Clear the task's media and say why; False if it was stamped meanwhile."""
        ...


class SweptMedia(Protocol):
    """The media store calls a sweep makes (``MediaStore``'s, any backend)."""

    def list(self, prefix: str = "") -> AsyncIterator[MediaObject]: ...

    async def delete(self, key: str) -> bool: ...

    async def exists(self, key: str) -> bool: ...


@dataclass
class RetentionReport:
    """What one sweep removed (or, in a dry run, would remove)."""

    cutoff: datetime
    removed_keys: list[str] = field(default_factory=list)
    kept_objects: int = 0
    removed_bytes: int = 0
    tasks: list[str] = field(default_factory=list)


def media_keys(media: TaskMedia) -> set[str]:
    """The keys of a task's files kept by the gateway (``media:`` references)."""
    refs = (media.video, media.download, media.video_raw, media.thumbnail, media.last_frame)
    return {media_key(ref) for ref in refs if ref is not None and is_media_ref(ref)}


class MediaRetention:
    """Sweeps ``media`` and stamps the tasks of ``store`` whose media it removed."""

    def __init__(
        self,
        store: RetentionRows,
        media: SweptMedia,
        retention_days: float,
        *,
        now: Callable[[], datetime] = utcnow,
    ) -> None:
        self.store = store
        self.media = media
        self.retention = timedelta(days=retention_days)
        self.now = now
        self.wakeup = Wakeup()

    async def run(self, period: float) -> None:
        """The background sweep: once at start, then every ``period`` seconds."""
        await run_periodically("media-retention", self._pass, self.wakeup, period)

    async def _pass(self) -> PassOutcome:
        report = await self.sweep()
        if report.removed_keys or report.tasks:
            log.info(
                "media retention removed %d files and stamped %d tasks",
                len(report.removed_keys),
                len(report.tasks),
            )
        return IDLE

    async def sweep(self, *, dry_run: bool = False) -> RetentionReport:
        now = self.now()
        report = RetentionReport(cutoff=now - self.retention)
        removed = await self._remove_objects(report, dry_run)
        await self._stamp_tasks(report, removed, now, dry_run)
        return report

    async def _remove_objects(self, report: RetentionReport, dry_run: bool) -> set[str]:
        old = []
        async for item in self.media.list(""):
            if item.modified < report.cutoff:
                old.append(item)
            else:
                report.kept_objects += 1
        for item in old:
            if dry_run or await self.media.delete(item.key):
                report.removed_keys.append(item.key)
                report.removed_bytes += item.size
        return {item.key for item in old}

    async def _stamp_tasks(
        self, report: RetentionReport, removed: set[str], now: datetime, dry_run: bool
    ) -> None:
        after = ""
        while True:
            page = await self.store.candidates(report.cutoff, after, PAGE)
            for candidate in page:
                if not await self._lost(media_keys(candidate.media), removed):
                    continue
                if dry_run or await self.store.mark_removed(
                    candidate.task_id, MEDIA_REMOVED_REASON, now
                ):
                    report.tasks.append(candidate.task_id)
            if len(page) < PAGE:
                return
            after = page[-1].task_id

    async def _lost(self, keys: set[str], removed: set[str]) -> bool:
        if keys & removed:
            return True
        for key in keys:
            if not await self.media.exists(key):
                return True
        return False
