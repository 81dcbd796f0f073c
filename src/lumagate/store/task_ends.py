"""Statements of a task's early end: the deadline sweep and the upstream cancels it leaves.

A task ends early when the tenant or the operator cancels it, or when its deadline passes.
Both are ordinary conditional transitions (``TaskStore.transition``); what is special lives
here:

- the unfinished tasks past their deadline, read off ``ix_tasks_deadline`` (state,
  deadline_at) in deadline order, so a pass reads what it returns, not the history;
- the upstream generations still to be cancelled: a cancelled or timed-out task whose upstream
  generation may still be running keeps ``next_poll_at`` set (the due time of its upstream
  cancel; ``ix_tasks_poll`` finds it), and the engine's cancel loop claims them as the
  refresher claims polls;
- a submission that the upstream accepted after its task had been cancelled: its upstream id is
  recorded on the ended task, so its generation is cancelled too and its result never shown.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, and_, select, update

from lumagate.domain.states import NON_TERMINAL_STATES, TaskState
from lumagate.domain.task import Task
from lumagate.store.claims import claim_due
from lumagate.store.database import Database
from lumagate.store.schema import tasks
from lumagate.store.task_rows import task_from_row

UNFINISHED = sorted(s.value for s in NON_TERMINAL_STATES)
ENDED_EARLY = [TaskState.CANCELLED.value, TaskState.FAILED.value]


async def claim_due_tasks(
    db: Database, eligible: ColumnElement[bool], *, now: datetime, hold: timedelta, limit: int
) -> list[Task]:
    """Tasks matching ``eligible``, their ``next_poll_at`` pushed out by ``hold``: the claim of a
    due upstream cancel (that one column holds the due time of a cancel and of a poll; polls
    are claimed in memory, ``engine/poll_schedule.py``)."""
    rows = await claim_due(
        db, tasks, due=tasks.c.next_poll_at, eligible=eligible, now=now, hold=hold, limit=limit
    )
    return [task_from_row(r) for r in rows]


class TaskEnds:
    """The deadline and upstream-cancel statements of the ``tasks`` table."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def past_deadline(self, now: datetime, limit: int) -> list[Task]:
        """Unfinished tasks whose deadline has passed, the earliest deadline first."""
        query = (
            select(tasks)
            .where(tasks.c.state.in_(UNFINISHED), tasks.c.deadline_at <= now)
            .order_by(tasks.c.deadline_at)
            .limit(limit)
        )
        async with self.db.read() as conn:
            return [task_from_row(r) for r in (await conn.execute(query)).mappings().all()]

    async def claim_upstream_cancels(
        self, now: datetime, hold: timedelta, limit: int = 100
    ) -> list[Task]:
        """Ended tasks whose upstream cancel is due; their next try moves ``hold`` away."""
        eligible = and_(
            tasks.c.state.in_(ENDED_EARLY),
            tasks.c.next_poll_at <= now,
            tasks.c.upstream_id.is_not(None),
        )
        return await claim_due_tasks(self.db, eligible, now=now, hold=hold, limit=limit)

    async def upstream_cancel_done(self, task_id: str) -> None:
        """Nothing more to cancel upstream for this task (done, or the upstream cannot)."""
        async with self.db.write() as conn:
            await conn.execute(
                update(tasks)
                .where(tasks.c.id == task_id, tasks.c.state.in_(ENDED_EARLY))
                .values(next_poll_at=None)
            )

    async def record_late_submission(
        self, task_id: str, upstream_id: str, now: datetime, server_id: str | None
    ) -> bool:
        """The upstream accepted a task that ended meanwhile: keep its id, cancel it now."""
        recorded = await self.db.changed(
            update(tasks)
            .where(
                tasks.c.id == task_id,
                tasks.c.state.in_(ENDED_EARLY),
                tasks.c.upstream_id.is_(None),
            )
            .values(
                upstream_id=upstream_id, submitted_at=now, next_poll_at=now, server_id=server_id
            )
        )
        return recorded > 0
