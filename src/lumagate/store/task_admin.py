"""Task reads across tenants, for the /admin API only (tenant-facing reads live in tasks.py,
where every query is scoped to the caller)."""

from __future__ import annotations

from sqlalchemy import and_

from lumagate.domain.task import Task
from lumagate.store.database import Database
from lumagate.store.schema import tasks
from lumagate.store.tasks import page_of_tasks


async def list_any_tenant(
    db: Database,
    *,
    tenant_id: str | None,
    state: str | None,
    offset: int,
    limit: int,
) -> tuple[list[Task], int, bool]:
    """A page across tenants, its total (counted a bounded way) and whether it is capped."""
    conditions = []
    if tenant_id is not None:
        conditions.append(tasks.c.tenant_id == tenant_id)
    if state is not None:
        conditions.append(tasks.c.state == state)
    return await page_of_tasks(db, and_(True, *conditions), offset=offset, limit=limit)
