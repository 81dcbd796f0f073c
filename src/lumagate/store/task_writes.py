"""Task statements that run inside a caller's unit of work (``store/unit_of_work.py``).

Two jobs need several statements in one write transaction: storing a task (take its
idempotency key or find the earlier twin it names, insert with ``RETURNING``; the charge shares
the transaction) and a dispatch pass (count
each account's running tasks, walk the queue, claim, fail what no account can serve). Their
task statements live here; the reads and single-statement writes that open their own
transaction stay in ``tasks.py``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Select, bindparam, exists, func, or_, select, update

from lumagate.domain.mirroring import MirrorState
from lumagate.domain.numeric_ids import numeric_id
from lumagate.domain.states import TaskState
from lumagate.domain.task import Task
from lumagate.store.errors import IdempotencyKeyTaken, unique_violation_as
from lumagate.store.executes import Executes
from lumagate.store.schema import media_mirrors, tasks
from lumagate.store.task_rows import task_from_row
from lumagate.store.tasks import ACTIVE, NewTask


def running_query() -> Select[Any]:
    """Tasks holding a slot (submitting, submitted, processing) per account.

    A task whose upstream finished while its video is being kept (a pending mirror job) holds
    none: its generation no longer runs upstream, and what its copy may still ask of the
    account (a fresh link) is a read, which no concurrency limit counts. So the slot is free,
    and the next task submitted, the moment the completion is known, not after the copy.
    """
    kept_now = exists().where(
        media_mirrors.c.id == tasks.c.id, media_mirrors.c.state == MirrorState.PENDING.value
    )
    return (
        select(tasks.c.account_id, func.count())
        .where(tasks.c.state.in_(ACTIVE), tasks.c.account_id.is_not(None), ~kept_now)
        .group_by(tasks.c.account_id)
    )


# Built once: the values are parameters, so no statement is rebuilt (nor its cache key
# recomputed) per create; RETURNING gives the stored row without a second statement.
INSERT_TASK = tasks.insert().returning(*tasks.c)
KEY_HOLDER = select(tasks).where(
    tasks.c.tenant_id == bindparam("tenant_id"), tasks.c.idempotency_key == bindparam("key")
)


class TaskWrites:
    """The ``tasks`` statements of one unit of work."""

    def __init__(self, conn: Executes, *, is_sqlite: bool) -> None:
        self._conn = conn
        self._is_sqlite = is_sqlite

    # -- storing a task -------------------------------------------------------------------
    async def insert(self, new: NewTask, now: datetime) -> Task:
        """Insert a QUEUED task; :class:`IdempotencyKeyTaken` if its key names another task."""
        values = {
            "id": new.id,
            "tenant_id": new.tenant_id,
            "channel": new.channel.value,
            "priority": new.channel.priority,
            "dialect": new.dialect,
            "request": new.request.model_dump(mode="json"),
            "source_task_id": new.source_task_id,
            "state": TaskState.QUEUED.value,
            "account_id": new.pinned_account_id,
            "notify_url": new.notify_url,
            "idempotency_key": new.idempotency_key,
            "idempotency_fingerprint": new.idempotency_fingerprint,
            "numeric_id": numeric_id(new.id),
            "deadline_at": new.deadline_at,
            "created_at": now,
            "updated_at": now,
        }
        with unique_violation_as(IdempotencyKeyTaken, "the idempotency key names another task"):
            result = await self._conn.execute(INSERT_TASK, values)
            row = result.mappings().one()
        return task_from_row(row)

    async def take_idempotency_key(
        self, tenant_id: str, key: str, since: datetime
    ) -> tuple[Task, str | None] | None:
        """The task ``key`` names if made since ``since`` (with its request's fingerprint), else
        None with ``key`` free for a new task: one read of the tenant's key (the unique index
        holds at most one task per key), and an UPDATE only when an older task still holds it."""
        params = {"tenant_id": tenant_id, "key": key}
        row = (await self._conn.execute(KEY_HOLDER, params)).mappings().first()
        if row is None:
            return None
        task = task_from_row(row)
        if task.created_at >= since:
            return task, row["idempotency_fingerprint"]
        await self._conn.execute(
            update(tasks).where(tasks.c.id == task.id).values(idempotency_key=None)
        )
        return None

    # -- a dispatch pass ------------------------------------------------------------------
    async def running_by_account(self) -> dict[str, int]:
        rows = (await self._conn.execute(running_query())).all()
        return {str(account): int(count) for account, count in rows}

    async def queued_candidates(self, now: datetime, limit: int) -> list[Task]:
        """Dispatchable queued tasks, pro > vip > default then oldest (SKIP LOCKED on PG)."""
        query = (
            select(tasks)
            .where(
                tasks.c.state == TaskState.QUEUED.value,
                or_(tasks.c.not_before.is_(None), tasks.c.not_before <= now),
            )
            .order_by(tasks.c.priority.desc(), tasks.c.created_at, tasks.c.id)
            .limit(limit)
        )
        if not self._is_sqlite:
            query = query.with_for_update(skip_locked=True)
        return [task_from_row(r) for r in (await self._conn.execute(query)).mappings().all()]

    async def claim(
        self, task: Task, account_id: str, owner: str, lease_until: datetime, now: datetime
    ) -> bool:
        """QUEUED -> SUBMITTING on ``account_id`` with a lease; False if someone else moved it."""
        return await self._leave_queued(
            task,
            state=TaskState.SUBMITTING.value,
            account_id=account_id,
            lease_owner=owner,
            lease_expires_at=lease_until,
            attempts=tasks.c.attempts + 1,
            updated_at=now,
        )

    async def fail_queued(self, task: Task, reason: str, now: datetime) -> bool:
        """QUEUED -> FAILED (no account can serve it); False if someone else moved it."""
        return await self._leave_queued(
            task,
            state=TaskState.FAILED.value,
            updated_at=now,
            finished_at=now,
            failure_reason=reason,
        )

    async def _leave_queued(self, task: Task, **values: Any) -> bool:
        """One conditional update of a task still queued; False if someone else moved it."""
        result = await self._conn.execute(
            update(tasks)
            .where(tasks.c.id == task.id, tasks.c.state == TaskState.QUEUED.value)
            .values(**values)
        )
        return result.rowcount > 0
