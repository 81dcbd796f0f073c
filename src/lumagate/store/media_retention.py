"""The ``tasks`` rows the media retention sweep reads and stamps (``engine/retention.py``).

Candidates are completed tasks that finished before the cutoff, still have media, were not
stamped yet, and keep at least one of their files in the gateway's media store (a ``media:``
reference in the ``media`` JSON; pass-through upstream links are not the gateway's to remove).
Stamping is conditional, so two replicas sweeping at once stamp a task once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Text, cast, select, update

from lumagate.domain.states import TaskState
from lumagate.domain.task import TaskMedia
from lumagate.store.database import Database
from lumagate.store.schema import tasks
from lumagate.store.task_rows import media_from_json


@dataclass(frozen=True)
class RetentionCandidate:
    task_id: str
    media: TaskMedia


class MediaRetentionStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def candidates(
        self, finished_before: datetime, after_id: str = "", limit: int = 500
    ) -> list[RetentionCandidate]:
        """Up to ``limit`` candidates with ids above ``after_id``, in id order."""
        query = (
            select(tasks.c.id, tasks.c.media)
            .where(
                tasks.c.state == TaskState.COMPLETED.value,
                tasks.c.finished_at < finished_before,
                tasks.c.media_removed_at.is_(None),
                tasks.c.media.is_not(None),
                cast(tasks.c.media, Text).like('%"media:%'),
                tasks.c.id > after_id,
            )
            .order_by(tasks.c.id)
            .limit(limit)
        )
        async with self.db.read() as conn:
            rows = (await conn.execute(query)).all()
        found = []
        for task_id, media in rows:
            parsed = media_from_json(media)
            if parsed is not None:
                found.append(RetentionCandidate(task_id, parsed))
        return found

    async def mark_removed(self, task_id: str, reason: str, now: datetime) -> bool:
        """Clear the task's media and say why; False if it was stamped meanwhile."""
        statement = (
            update(tasks)
            .where(tasks.c.id == task_id, tasks.c.media_removed_at.is_(None))
            .values(media=None, media_removed_at=now, failure_reason=reason, updated_at=now)
        )
        return bool(await self.db.changed(statement))
