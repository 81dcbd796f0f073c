"""Keyset pages of one tenant's tasks: lists that stay stable while new tasks arrive.

A page continues after a cursor task by its ``(created_at, id)``, never by counting rows from
the top, so a task created between two page reads neither repeats an item nor hides one. Each
page is one walk of ``ix_tasks_tenant_created`` that stops after ``limit + 1`` rows (the extra
row only says whether more follow): no count and no sort of the tenant's history. An
``offset`` is still applied after the cursor for clients that page by offset (the Go ``/luma``
clients, the official and luma-mock lists through ``TaskStore.list_for_tenant``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, and_, select, tuple_

from lumagate.domain.states import TaskState
from lumagate.domain.task import Task
from lumagate.store.database import Database
from lumagate.store.schema import tasks
from lumagate.store.task_rows import task_from_row


@dataclass(frozen=True)
class TaskPageQuery:
    """Which page: the tenant, its size, where it continues, which states, which order."""

    tenant_id: str
    limit: int
    offset: int = 0
    after: str | None = None  # the id of the last task of the previous page
    states: tuple[TaskState, ...] = ()  # empty: every state
    oldest_first: bool = False


def _beyond(created_at: datetime, task_id: str, oldest_first: bool) -> ColumnElement[bool]:
    """Rows strictly after the cursor ``(created_at, task_id)`` in the page's order: a row-value
    comparison, which both databases answer as a range of the index."""
    key = tuple_(tasks.c.created_at, tasks.c.id)
    return key > (created_at, task_id) if oldest_first else key < (created_at, task_id)


async def keyset_page(db: Database, query: TaskPageQuery) -> tuple[list[Task], bool]:
    """The page ``query`` names and whether more follow. A cursor that is not one of the
    tenant's tasks gives an empty page (a hidden one still works: it has a place in the order).
    """
    where: ColumnElement[bool] = and_(
        tasks.c.tenant_id == query.tenant_id, tasks.c.hidden.is_(False)
    )
    if query.states:
        where = and_(where, tasks.c.state.in_([s.value for s in query.states]))
    async with db.read() as conn:
        if query.after is not None:
            cursor = (
                await conn.execute(
                    select(tasks.c.created_at, tasks.c.tenant_id).where(tasks.c.id == query.after)
                )
            ).first()
            if cursor is None or cursor.tenant_id != query.tenant_id:
                return [], False
            where = and_(where, _beyond(cursor.created_at, query.after, query.oldest_first))
        order = (
            (tasks.c.created_at.asc(), tasks.c.id.asc())
            if query.oldest_first
            else (tasks.c.created_at.desc(), tasks.c.id.desc())
        )
        statement = (
            select(tasks).where(where).order_by(*order).offset(query.offset).limit(query.limit + 1)
        )
        rows = (await conn.execute(statement)).mappings().all()
    return [task_from_row(r) for r in rows[: query.limit]], len(rows) > query.limit
