"""The reads behind the in-memory poll schedule: which followed tasks are due, with no write.

The one engine that polls (alone on SQLite; the holder of the polling lease on PostgreSQL)
keeps the next poll of unchanged tasks in memory (``engine/poll_schedule.py``) instead of
claiming rows by writing ``next_poll_at``; these statements give it the stored schedule to
filter and the due tasks by primary key.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import or_, select

from lumagate.domain.clock import ensure_utc
from lumagate.domain.states import TaskState
from lumagate.domain.task import Task
from lumagate.store.database import Database
from lumagate.store.schema import tasks
from lumagate.store.task_rows import task_from_row

FOLLOWED = [TaskState.SUBMITTED.value, TaskState.PROCESSING.value]


class TaskPolls:
    """Read-only statements of the refresher's in-memory schedule (``ix_tasks_poll``)."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def stale(self, now: datetime) -> list[tuple[str, datetime | None]]:
        """``(id, next_poll_at)`` of every followed task whose stored poll is due by ``now``."""
        query = select(tasks.c.id, tasks.c.next_poll_at).where(
            tasks.c.state.in_(FOLLOWED),
            or_(tasks.c.next_poll_at.is_(None), tasks.c.next_poll_at <= now),
        )
        async with self.db.read_one() as conn:
            rows = (await conn.execute(query)).all()
        return [(str(i), None if at is None else ensure_utc(at)) for i, at in rows]

    async def followed(self, task_ids: Sequence[str]) -> list[Task]:
        """The tasks of ``task_ids`` still followed (submitted or processing), by primary key."""
        if not task_ids:
            return []
        # By primary key only (the state is checked on the rows found): with the state in the
        # WHERE clause a planner may walk every running task's index entries instead.
        query = select(tasks).where(tasks.c.id.in_(list(task_ids)))
        async with self.db.read_one() as conn:
            rows = (await conn.execute(query)).mappings().all()
        return [task_from_row(r) for r in rows if r["state"] in FOLLOWED]
