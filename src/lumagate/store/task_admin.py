"""Task reads across tenants, for the /admin API only (tenant-facing reads live in tasks.py,
where every query is scoped to the caller)."""

from __future__ import annotations

from sqlalchemy import and_, func, select

from lumagate.domain.task import Task
from lumagate.store.database import Database
from lumagate.store.rows import task_from_row
from lumagate.store.schema import tasks


async def list_any_tenant(
    db: Database,
    *,
    tenant_id: str | None,
    state: str | None,
    offset: int,
    limit: int,
) -> tuple[list[Task], int]:
    conditions = []
    if tenant_id is not None:
        conditions.append(tasks.c.tenant_id == tenant_id)
    if state is not None:
        conditions.append(tasks.c.state == state)
    where = and_(True, *conditions)
    async with db.read() as conn:
        total = (
            await conn.execute(select(func.count()).select_from(tasks).where(where))
        ).scalar_one()
        rows = (
            (
                await conn.execute(
                    select(tasks)
                    .where(where)
                    .order_by(tasks.c.created_at.desc(), tasks.c.id.desc())
                    .offset(offset)
                    .limit(limit)
                )
            )
            .mappings()
            .all()
        )
    return [task_from_row(r) for r in rows], int(total)
