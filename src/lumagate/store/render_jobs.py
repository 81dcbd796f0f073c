"""Sandbox render jobs shared by every replica (table ``render_jobs``, migration 0010).

A job is claimed with a lease the rendering replica renews; the claim is one conditional
UPDATE (the lease is gone or ran out, or on a single node held by a dead process), so two
replicas never both take a job, and a replica that died (``kill -9``) holds it no longer than
its lease: the next poll on any replica claims it and renders it once more.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import RowMapping, and_, or_, select, update
from sqlalchemy.exc import IntegrityError

from lumagate.domain.clock import ensure_utc, utcnow
from lumagate.domain.render_jobs import RenderJob, RenderState
from lumagate.store.database import Database
from lumagate.store.schema import render_jobs

UNFINISHED = [RenderState.WAITING.value, RenderState.RENDERING.value]


def _job(row: RowMapping) -> RenderJob:
    lease = row["lease_expires_at"]
    return RenderJob(
        id=row["id"],
        request=json.loads(row["request"]),
        source=row["source"],
        media_folder=row["media_folder"],
        state=RenderState(row["state"]),
        failure_reason=row["failure_reason"],
        owner=row["owner"],
        lease_expires_at=None if lease is None else ensure_utc(lease),
        renders=row["renders"],
    )


class RenderJobStore:
    """The sandbox's :class:`~lumagate.providers.sandbox.jobs.RenderJobs` over the database."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def record(
        self, job_id: str, request: dict[str, Any], source: str | None, media_folder: str
    ) -> RenderJob:
        now = utcnow()
        found = await self.get(job_id)
        if found is not None:
            return found
        try:
            async with self.db.write() as conn:
                await conn.execute(
                    render_jobs.insert().values(
                        id=job_id,
                        request=json.dumps(request),
                        source=source,
                        media_folder=media_folder,
                        state=RenderState.WAITING.value,
                        renders=0,
                        created_at=now,
                        updated_at=now,
                    )
                )
        except IntegrityError:  # another replica recorded it first: theirs stands
            pass
        stored = await self.get(job_id)
        assert stored is not None
        return stored

    async def get(self, job_id: str) -> RenderJob | None:
        async with self.db.read() as conn:
            row = (
                (await conn.execute(select(render_jobs).where(render_jobs.c.id == job_id)))
                .mappings()
                .first()
            )
        return None if row is None else _job(row)

    async def claim(
        self, job_id: str, owner: str, until: datetime, now: datetime, *, single_node: bool
    ) -> bool:
        free = or_(
            render_jobs.c.owner.is_(None),
            render_jobs.c.lease_expires_at.is_(None),
            render_jobs.c.lease_expires_at < now,
            render_jobs.c.owner == owner,
        )
        if single_node:  # one process per data dir: another owner is a process that died
            free = or_(free, render_jobs.c.owner != owner)
        claimed = await self.db.changed(
            update(render_jobs)
            .where(render_jobs.c.id == job_id, render_jobs.c.state.in_(UNFINISHED), free)
            .values(
                state=RenderState.RENDERING.value,
                owner=owner,
                lease_expires_at=until,
                updated_at=now,
            )
        )
        return claimed > 0

    async def renew(self, job_id: str, owner: str, until: datetime) -> bool:
        held = (render_jobs.c.owner == owner, render_jobs.c.state == RenderState.RENDERING.value)
        statement = update(render_jobs).where(render_jobs.c.id == job_id, *held)
        return (
            await self.db.changed(statement.values(lease_expires_at=until, updated_at=utcnow())) > 0
        )

    async def finish(self, job_id: str, failure_reason: str | None) -> None:
        state = RenderState.COMPLETED if failure_reason is None else RenderState.FAILED
        async with self.db.write() as conn:
            await conn.execute(
                update(render_jobs)
                .where(render_jobs.c.id == job_id, render_jobs.c.state.in_(UNFINISHED))
                .values(
                    state=state.value,
                    failure_reason=failure_reason,
                    owner=None,
                    lease_expires_at=None,
                    renders=render_jobs.c.renders + (0 if failure_reason else 1),
                    updated_at=utcnow(),
                )
            )

    async def release(self, job_id: str, owner: str) -> None:
        async with self.db.write() as conn:
            await conn.execute(
                update(render_jobs)
                .where(
                    and_(
                        render_jobs.c.id == job_id,
                        render_jobs.c.owner == owner,
                        render_jobs.c.state == RenderState.RENDERING.value,
                    )
                )
                .values(
                    state=RenderState.WAITING.value,
                    owner=None,
                    lease_expires_at=None,
                    updated_at=utcnow(),
                )
            )
