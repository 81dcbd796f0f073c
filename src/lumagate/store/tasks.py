"""Task persistence: creating, reading and moving tasks through their states.

Every state change is a conditional UPDATE (``WHERE state = <expected>``), so two replicas or
two loops racing on one task cannot both move it; the loser sees no row changed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from lumagate.domain.channels import Channel
from lumagate.domain.clock import ensure_utc
from lumagate.domain.request import GenerationRequest
from lumagate.domain.states import ACTIVE_UPSTREAM_STATES, TaskState, check_transition
from lumagate.domain.task import Task, TaskMedia
from lumagate.store.database import Database
from lumagate.store.schema import tasks
from lumagate.store.task_ends import TaskEnds
from lumagate.store.task_pages import TaskPageQuery, keyset_page
from lumagate.store.task_polls import FOLLOWED, TaskPolls
from lumagate.store.task_rows import media_to_json, task_from_row

ACTIVE = [s.value for s in ACTIVE_UPSTREAM_STATES]


async def transition_on(
    conn: AsyncConnection, task: Task, target: TaskState, now: datetime, **values: Any
) -> Task | None:
    """``TaskStore.transition`` within the caller's write transaction (a mirror job's end
    completes its task in the same one); None, and nothing written, if the task moved."""
    check_transition(task.state, target)
    if isinstance(values.get("media"), TaskMedia):
        values["media"] = media_to_json(values["media"])
    values.setdefault("updated_at", now)
    if target == TaskState.PROCESSING and task.started_at is None:
        values.setdefault("started_at", now)
    if target.is_terminal:
        values.setdefault("finished_at", now)
        values.setdefault("lease_owner", None)
        values.setdefault("next_poll_at", None)
        if target == TaskState.COMPLETED:
            values.setdefault("progress", 100)
    if target != TaskState.SUBMITTING and task.state == TaskState.SUBMITTING:
        values.setdefault("lease_owner", None)
        values.setdefault("lease_expires_at", None)
    result = await conn.execute(
        update(tasks)
        .where(tasks.c.id == task.id, tasks.c.state == task.state.value)
        .values(state=target.value, **values)
    )
    if result.rowcount == 0:
        return None
    row = (await conn.execute(select(tasks).where(tasks.c.id == task.id))).mappings().one()
    return task_from_row(row)


@dataclass(frozen=True)
class NewTask:
    id: str
    tenant_id: str
    channel: Channel
    dialect: str
    request: GenerationRequest
    notify_url: str | None = None
    idempotency_key: str | None = None
    idempotency_fingerprint: str | None = None
    pinned_account_id: str | None = None
    source_task_id: str | None = None
    deadline_at: datetime | None = None


def idempotent_query(tenant_id: str, key: str, since: datetime) -> Select[Any]:
    """The tenant's task named by idempotency ``key`` and created since ``since``."""
    return select(tasks).where(
        tasks.c.tenant_id == tenant_id,
        tasks.c.idempotency_key == key,
        tasks.c.created_at >= since,
    )


class TaskStore:
    """Reads and writes of the ``tasks`` table that open their own transaction.

    Statements that must share a caller's transaction (storing a task with its charge, a
    dispatch pass) are :class:`~lumagate.store.task_writes.TaskWrites`, reached through a
    :class:`~lumagate.store.unit_of_work.UnitOfWork`.
    """

    def __init__(self, db: Database) -> None:
        self.db = db
        self.ends = TaskEnds(db)  # deadlines and upstream cancels (``store/task_ends.py``)
        self.polls = TaskPolls(db)  # reads of the in-memory poll schedule (``store/task_polls``)

    # -- creation -----------------------------------------------------------------------
    async def find_idempotent(
        self, tenant_id: str, key: str, since: datetime
    ) -> tuple[Task, str | None] | None:
        """The task ``key`` names for the tenant, if made since ``since`` (outside a create),
        with the fingerprint of the request that made it."""
        async with self.db.read() as conn:
            row = (await conn.execute(idempotent_query(tenant_id, key, since))).mappings().first()
        return None if row is None else (task_from_row(row), row["idempotency_fingerprint"])

    # -- reads --------------------------------------------------------------------------
    async def get(self, task_id: str, tenant_id: str | None = None) -> Task | None:
        """One task; with ``tenant_id`` only if it belongs to that tenant (else None).

        Read by primary key alone and checked afterwards, so no planner picks a tenant index."""
        query = select(tasks).where(tasks.c.id == task_id)
        async with self.db.read_one() as conn:
            row = (await conn.execute(query)).mappings().first()
        if row is None or (
            tenant_id is not None and (row["tenant_id"] != tenant_id or row["hidden"])
        ):
            return None
        return task_from_row(row)

    async def find_by_number(self, number: int, tenant_id: str) -> Task | None:
        """The tenant's visible task whose ``numeric_id`` is ``number`` (oldest first should two
        ever share one: 53-bit hashes of the ids, see domain/numeric_ids.py)."""
        query = (
            select(tasks)
            .where(
                tasks.c.tenant_id == tenant_id,
                tasks.c.numeric_id == number,
                tasks.c.hidden.is_(False),
            )
            .order_by(tasks.c.created_at, tasks.c.id)
            .limit(1)
        )
        async with self.db.read() as conn:
            row = (await conn.execute(query)).mappings().first()
        return None if row is None else task_from_row(row)

    async def get_many(self, task_ids: Sequence[str], tenant_id: str) -> list[Task]:
        if not task_ids:
            return []
        # By primary key only: with the tenant in the WHERE clause the planners may walk the
        # tenant's whole history instead; ownership is checked on the rows found.
        query = select(tasks).where(tasks.c.id.in_(list(dict.fromkeys(task_ids))))
        async with self.db.read_one() as conn:
            rows = (await conn.execute(query)).mappings().all()
        by_id = {
            row["id"]: task_from_row(row)
            for row in rows
            if row["tenant_id"] == tenant_id and not row["hidden"]
        }
        return [by_id[i] for i in dict.fromkeys(task_ids) if i in by_id]

    async def list_for_tenant(
        self, tenant_id: str, *, offset: int, limit: int, before: str | None = None
    ) -> tuple[list[Task], bool]:
        """A page of the tenant's tasks, newest first, and whether more follow.

        ``before`` (a task id, the last of the previous page) continues by keyset; an
        ``offset`` still works, and both are a walk of ``ix_tasks_tenant_created`` that stops
        after the page: no count and no sort of the tenant's history.
        """
        query = TaskPageQuery(tenant_id=tenant_id, limit=limit, offset=offset, after=before)
        return await keyset_page(self.db, query)

    async def creates_since(self, tenant_id: str, since: datetime) -> tuple[int, datetime | None]:
        """How many tasks the tenant created since ``since`` (hidden ones too, as the rate
        limit counts them) and when the newest of them was created."""
        query = select(func.count(), func.max(tasks.c.created_at)).where(
            tasks.c.tenant_id == tenant_id, tasks.c.created_at >= since
        )
        async with self.db.read() as conn:
            count, newest = (await conn.execute(query)).one()
        return int(count), None if newest is None else ensure_utc(newest)

    async def page(self, query: TaskPageQuery) -> tuple[list[Task], bool]:
        """A keyset page of one tenant's tasks and whether more follow (``store/task_pages``)."""
        return await keyset_page(self.db, query)

    async def hide(self, task_id: str, tenant_id: str, now: datetime) -> bool:
        async with self.db.write() as conn:
            result = await conn.execute(
                update(tasks)
                .where(
                    tasks.c.id == task_id, tasks.c.tenant_id == tenant_id, tasks.c.hidden.is_(False)
                )
                .values(hidden=True, updated_at=now)
            )
        return result.rowcount > 0

    async def count_by_state(self) -> dict[str, int]:
        async with self.db.read() as conn:
            rows = (
                await conn.execute(select(tasks.c.state, func.count()).group_by(tasks.c.state))
            ).all()
        return {str(state): int(count) for state, count in rows}

    async def queue_position(self, task: Task) -> int:
        """How many queued tasks will be dispatched before this one."""
        query = (
            select(func.count())
            .select_from(tasks)
            .where(
                tasks.c.state == TaskState.QUEUED.value,
                or_(
                    tasks.c.priority > task.channel.priority,
                    and_(
                        tasks.c.priority == task.channel.priority,
                        tasks.c.created_at < task.created_at,
                    ),
                ),
            )
        )
        async with self.db.read() as conn:
            return int((await conn.execute(query)).scalar_one())

    async def queued_order(self) -> list[tuple[int, datetime]]:
        """``(priority, created_at)`` of every queued task in dispatch order (an index walk of
        ``ix_tasks_dispatch``'s queued range): the wait estimator's snapshot."""
        query = (
            select(tasks.c.priority, tasks.c.created_at)
            .where(tasks.c.state == TaskState.QUEUED.value)
            .order_by(tasks.c.priority.desc(), tasks.c.created_at, tasks.c.id)
        )
        async with self.db.read_one() as conn:
            rows = (await conn.execute(query)).all()
        return [(int(priority), ensure_utc(created)) for priority, created in rows]

    async def recent_run_seconds(self, sample: int = 50) -> float | None:
        """Mean submit-to-finish time of the ``sample`` most recent completed tasks.

        A rolling window read off ``ix_tasks_finished`` backwards: ``sample`` index entries
        whatever the history holds (no scan or sort of the completed rows)."""
        query = (
            select(tasks.c.submitted_at, tasks.c.finished_at)
            .where(tasks.c.state == TaskState.COMPLETED.value, tasks.c.submitted_at.is_not(None))
            .order_by(tasks.c.finished_at.desc())
            .limit(sample)
        )
        async with self.db.read() as conn:
            rows = (await conn.execute(query)).all()
        spans = [(f - s).total_seconds() for s, f in rows if s is not None and f is not None]
        return sum(spans) / len(spans) if spans else None

    # -- leases -------------------------------------------------------------------------
    async def extend_lease(self, task_id: str, owner: str, until: datetime) -> None:
        async with self.db.write() as conn:
            await conn.execute(
                update(tasks)
                .where(
                    tasks.c.id == task_id,
                    tasks.c.lease_owner == owner,
                    tasks.c.state == TaskState.SUBMITTING.value,
                )
                .values(lease_expires_at=until)
            )

    async def stale_submissions(self, now: datetime, *, foreign_of: str | None) -> list[Task]:
        """SUBMITTING tasks whose lease ran out (or, single-node, held by a dead process)."""
        condition = tasks.c.lease_expires_at < now
        if foreign_of is not None:
            condition = or_(
                condition, tasks.c.lease_owner != foreign_of, tasks.c.lease_owner.is_(None)
            )
        query = select(tasks).where(tasks.c.state == TaskState.SUBMITTING.value, condition)
        async with self.db.read() as conn:
            return [task_from_row(r) for r in (await conn.execute(query)).mappings().all()]

    async def take_over_lease(
        self, task: Task, owner: str, until: datetime, now: datetime, *, single_node: bool
    ) -> bool:
        """Adopt a stale submission for reconciliation; False if another replica got it."""
        stale = or_(tasks.c.lease_owner.is_(None), tasks.c.lease_expires_at < now)
        if single_node:
            stale = or_(stale, tasks.c.lease_owner != owner)
        async with self.db.write() as conn:
            result = await conn.execute(
                update(tasks)
                .where(tasks.c.id == task.id, tasks.c.state == TaskState.SUBMITTING.value, stale)
                .values(lease_owner=owner, lease_expires_at=until, updated_at=now)
            )
        return result.rowcount > 0

    # -- transitions --------------------------------------------------------------------
    async def transition(
        self, task: Task, target: TaskState, now: datetime, **values: Any
    ) -> Task | None:
        """Move ``task`` from its current state to ``target``; None if it moved meanwhile."""
        async with self.db.write() as conn:
            return await transition_on(conn, task, target, now, **values)

    async def set_progress(
        self, task: Task, progress: int, now: datetime, next_poll_at: datetime
    ) -> None:
        async with self.db.write() as conn:
            await conn.execute(
                update(tasks)
                .where(tasks.c.id == task.id, tasks.c.state == task.state.value)
                .values(progress=progress, next_poll_at=next_poll_at, updated_at=now)
            )

    # -- refresh ------------------------------------------------------------------------
    async def poll_soon(self, account_id: str, upstream_id: str, now: datetime) -> int:
        """Make a followed task due now (an upstream callback or a finished local render)."""
        async with self.db.write() as conn:
            result = await conn.execute(
                update(tasks)
                .where(
                    tasks.c.account_id == account_id,
                    tasks.c.upstream_id == upstream_id,
                    tasks.c.state.in_(FOLLOWED),
                )
                .values(next_poll_at=now)
            )
        return result.rowcount

    async def next_poll_due(self, after: datetime | None = None) -> datetime | None:
        """The earliest stored next poll of a followed task (only those later than ``after``:
        the in-memory schedule holds the earlier ones)."""
        query = select(func.min(tasks.c.next_poll_at)).where(tasks.c.state.in_(FOLLOWED))
        if after is not None:
            query = query.where(tasks.c.next_poll_at > after)
        async with self.db.read() as conn:
            value = (await conn.execute(query)).scalar_one()
        return None if value is None else ensure_utc(value)

    async def by_upstream(self, account_id: str, upstream_id: str) -> Task | None:
        async with self.db.read() as conn:
            row = (
                (
                    await conn.execute(
                        select(tasks).where(
                            tasks.c.account_id == account_id, tasks.c.upstream_id == upstream_id
                        )
                    )
                )
                .mappings()
                .first()
            )
        return None if row is None else task_from_row(row)


COUNT_AHEAD = 10_000  # a list's total is counted this far past the page, no further


async def page_of_tasks(
    db: Database, where: ColumnElement[bool], *, offset: int, limit: int
) -> tuple[list[Task], int, bool]:
    """One page of tasks matching ``where``, newest first, the total and whether it is capped.

    The total is counted over at most ``offset + limit + COUNT_AHEAD`` matching index entries
    (a COUNT of a LIMITed subquery), never the whole history: past that the list answers that
    many and ``capped`` True ("at least")."""
    bound = offset + limit + COUNT_AHEAD
    matching = select(tasks.c.id).where(where).limit(bound + 1).subquery()
    async with db.read() as conn:
        total = int((await conn.execute(select(func.count()).select_from(matching))).scalar_one())
        query = (
            select(tasks)
            .where(where)
            .order_by(tasks.c.created_at.desc(), tasks.c.id.desc())
            .offset(offset)
            .limit(limit)
        )
        rows = (await conn.execute(query)).mappings().all()
    return [task_from_row(r) for r in rows], min(total, bound), total > bound
