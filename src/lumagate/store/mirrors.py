"""Mirror jobs: the durable copies of finished upstream videos into the media store.

One row per task (its id is the task's), created before the task is held back from
``completed``, so a crash at any point leaves a job to finish. Due jobs are claimed like
callback deliveries: one write transaction takes a batch (``FOR UPDATE SKIP LOCKED`` on
PostgreSQL), names the claiming replica in ``lease_owner`` and pushes ``next_attempt_at`` out by
a hold, which the copier renews while it works. Every later write is conditional on the owner,
so a replica that lost its hold (it stalled past it) cannot record over the new owner.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import RowMapping, func, or_, select, update
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from lumagate.domain.clock import ensure_utc
from lumagate.domain.mirroring import MirrorJob, MirrorState
from lumagate.domain.states import TaskState
from lumagate.domain.task import Task, TaskMedia
from lumagate.store.database import Database
from lumagate.store.schema import media_mirrors, tasks
from lumagate.store.task_rows import media_from_json, media_to_json
from lumagate.store.tasks import transition_on


def _job(row: RowMapping) -> MirrorJob:
    source = media_from_json(row["source"])
    assert source is not None, "a mirror job always has its source links"
    due = row["next_attempt_at"]
    return MirrorJob(
        task_id=row["id"],
        account_id=row["account_id"],
        upstream_id=row["upstream_id"],
        source=source,
        prefix=row["prefix"],
        state=MirrorState(row["state"]),
        copied=dict(row["copied"] or {}),
        attempts=int(row["attempts"]),
        last_error=row["last_error"],
        next_attempt_at=None if due is None else ensure_utc(due),
    )


class MirrorStore:
    """SQL of the ``media_mirrors`` table (see the module docstring)."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def enqueue_and_hold(
        self,
        job: MirrorJob,
        task: Task,
        now: datetime,
        hold: Mapping[str, Any],
        *,
        owner: str | None = None,
        held_until: datetime | None = None,
    ) -> tuple[bool, Task | None]:
        """Store ``job`` and hold ``task`` back from ``completed`` in one write transaction
        (``hold``: the task's values while its video is kept), so the completion costs one
        commit and a crash leaves either both or neither (then the task is still followed and
        its completion learnt again). The job is due now, or already held by ``owner`` until
        ``held_until`` (the replica that stores it runs it at once).

        Returns whether the job was stored (False: the task had one already, kept as it is)
        and the task as held (None: it moved meanwhile, and nothing of it was written)."""
        values = {
            "id": job.task_id,
            "account_id": job.account_id,
            "upstream_id": job.upstream_id,
            "source": media_to_json(job.source),
            "copied": dict(job.copied),
            "prefix": job.prefix,
            "state": MirrorState.PENDING.value,
            "attempts": 0,
            "lease_owner": owner,
            "next_attempt_at": now if owner is None or held_until is None else held_until,
            "created_at": now,
            "updated_at": now,
        }
        if self.db.is_sqlite:
            insert: Any = sqlite_insert(media_mirrors).values(**values)
        else:  # imported here: a SQLite gateway never loads the PostgreSQL dialect package
            from sqlalchemy.dialects.postgresql import insert as pg_insert

            insert = pg_insert(media_mirrors).values(**values)
        async with self.db.write() as conn:
            stored = bool((await conn.execute(insert.on_conflict_do_nothing())).rowcount)
            held = await _hold_on(conn, task, now, hold)
        return stored, held

    async def get(self, task_id: str) -> MirrorJob | None:
        async with self.db.read() as conn:
            row = (
                (await conn.execute(select(media_mirrors).where(media_mirrors.c.id == task_id)))
                .mappings()
                .one_or_none()
            )
        return None if row is None else _job(row)

    async def claim_due(
        self, owner: str, now: datetime, hold: timedelta, limit: int
    ) -> list[MirrorJob]:
        """Pending jobs whose due time has come, now held by ``owner`` until ``now + hold``."""
        due = media_mirrors.c.next_attempt_at
        eligible = (media_mirrors.c.state == MirrorState.PENDING.value) & or_(
            due.is_(None), due <= now
        )
        async with self.db.write() as conn:
            query = select(media_mirrors).where(eligible).order_by(due).limit(limit)
            if not self.db.is_sqlite:
                query = query.with_for_update(skip_locked=True)
            rows = (await conn.execute(query)).mappings().all()
            if rows:
                await conn.execute(
                    update(media_mirrors)
                    .where(media_mirrors.c.id.in_([row["id"] for row in rows]))
                    .values(lease_owner=owner, next_attempt_at=now + hold, updated_at=now)
                )
        return [_job(row) for row in rows]

    async def release_all_held(self, now: datetime) -> int:
        """Single node, at start-up: every hold belongs to a dead process; all pending jobs are
        due now."""
        return await self.db.changed(
            update(media_mirrors)
            .where(media_mirrors.c.state == MirrorState.PENDING.value)
            .values(next_attempt_at=now, lease_owner=None)
        )

    async def _owned_update(self, task_id: str, owner: str, **values: Any) -> bool:
        changed = await self.db.changed(
            update(media_mirrors)
            .where(
                media_mirrors.c.id == task_id,
                media_mirrors.c.lease_owner == owner,
                media_mirrors.c.state == MirrorState.PENDING.value,
            )
            .values(**values)
        )
        return bool(changed)

    async def renew(self, task_id: str, owner: str, until: datetime) -> bool:
        """Extend ``owner``'s hold; False if the job is no longer theirs."""
        return await self._owned_update(task_id, owner, next_attempt_at=until)

    async def record_copied(
        self, task_id: str, owner: str, copied: Mapping[str, str], now: datetime
    ) -> bool:
        """Remember which files are kept (so a restart never copies them again)."""
        return await self._owned_update(task_id, owner, copied=dict(copied), updated_at=now)

    async def record_source(
        self, task_id: str, owner: str, source: TaskMedia, now: datetime
    ) -> bool:
        """Replace the upstream links with fresh ones (the old ones expired)."""
        return await self._owned_update(
            task_id, owner, source=media_to_json(source), updated_at=now
        )

    async def retry_later(
        self, task_id: str, owner: str, *, attempts: int, due: datetime, error: str, now: datetime
    ) -> bool:
        """Count a failed attempt and release the job until ``due``."""
        return await self._owned_update(
            task_id,
            owner,
            attempts=attempts,
            next_attempt_at=due,
            last_error=error,
            lease_owner=None,
            updated_at=now,
        )

    async def complete(
        self, task: Task, media: TaskMedia, copied: Mapping[str, str], now: datetime
    ) -> Task | None:
        """The job's end in one write transaction: ``task`` completed with the kept ``media``
        and the job closed done with ``copied`` (its last file is recorded here, not before).
        None, and nothing written, if the task moved meanwhile (a cancel, a deadline)."""
        async with self.db.write() as conn:
            changed = await transition_on(
                conn, task, TaskState.COMPLETED, now, media=media, progress=100
            )
            if changed is None:
                return None
            await conn.execute(
                update(media_mirrors)
                .where(media_mirrors.c.id == task.id)
                .values(
                    state=MirrorState.DONE.value,
                    copied=dict(copied),
                    last_error=None,
                    lease_owner=None,
                    next_attempt_at=None,
                    updated_at=now,
                )
            )
        return changed

    async def finish(
        self, task_id: str, state: MirrorState, now: datetime, error: str | None = None
    ) -> None:
        """Close the job (done or failed), whoever holds it: the task decided already."""
        async with self.db.write() as conn:
            await conn.execute(
                update(media_mirrors)
                .where(media_mirrors.c.id == task_id)
                .values(
                    state=state.value,
                    last_error=error,
                    lease_owner=None,
                    next_attempt_at=None,
                    updated_at=now,
                )
            )

    async def next_due(self) -> datetime | None:
        async with self.db.read() as conn:
            value = (
                await conn.execute(
                    select(func.min(media_mirrors.c.next_attempt_at)).where(
                        media_mirrors.c.state == MirrorState.PENDING.value
                    )
                )
            ).scalar_one_or_none()
        return None if value is None else ensure_utc(value)


async def _hold_on(
    conn: AsyncConnection, task: Task, now: datetime, hold: Mapping[str, Any]
) -> Task | None:
    """Keep ``task`` in ``processing`` with ``hold``: a submitted task moves there with all of
    it; a processing one only takes its progress and next poll (what a poll would write)."""
    if task.state != TaskState.PROCESSING:
        return await transition_on(conn, task, TaskState.PROCESSING, now, **hold)
    progress = int(cast(int, hold["progress"]))
    result = await conn.execute(
        update(tasks)
        .where(tasks.c.id == task.id, tasks.c.state == task.state.value)
        .values(progress=progress, next_poll_at=hold["next_poll_at"], updated_at=now)
    )
    return replace(task, progress=progress, updated_at=now) if result.rowcount else None
