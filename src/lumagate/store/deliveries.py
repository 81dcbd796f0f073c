"""Callback deliveries: stored before the first attempt, claimed when due, every attempt logged.

One delivery per (task, event), enforced by a unique index, so the engine's listener and the
catch-up sweep can both try to create it and only one row exists. Due deliveries are claimed the
way the refresher claims polls: push ``next_attempt_at`` out by a hold (``FOR UPDATE SKIP LOCKED``
on PostgreSQL) so replicas share the work; a process that dies mid-attempt leaves the delivery
due again once the hold passes, and it is retried with the same id.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import RowMapping, and_, exists, func, select, update
from sqlalchemy.exc import IntegrityError

from lumagate.domain.clock import ensure_utc
from lumagate.domain.states import TERMINAL_STATES
from lumagate.store.claims import claim_due as claim_due_rows
from lumagate.store.database import Database
from lumagate.store.rows import from_row
from lumagate.store.schema import deliveries, delivery_attempts, tasks


class DeliveryState(StrEnum):
    PENDING = "pending"
    DELIVERED = "delivered"
    REFUSED = "refused"  # the SSRF guard said no: never retried
    FAILED = "failed"  # gave up after the retry window


@dataclass(frozen=True)
class Delivery:
    id: str
    task_id: str
    tenant_id: str
    event: str
    url: str
    body: str
    state: DeliveryState
    attempts: int
    next_attempt_at: datetime | None
    last_status: int | None
    last_error: str | None
    created_at: datetime
    updated_at: datetime
    delivered_at: datetime | None


@dataclass(frozen=True)
class AttemptRecord:
    attempt: int
    started_at: datetime
    duration_ms: int
    outcome: str  # delivered, http_error, network_error, refused, unresolvable, expired
    status_code: int | None = None
    error: str | None = None


def _delivery(row: RowMapping) -> Delivery:
    return from_row(Delivery, row, state=DeliveryState(row["state"]), attempts=int(row["attempts"]))


def _attempt(row: RowMapping) -> AttemptRecord:
    return from_row(AttemptRecord, row, attempt=int(row["attempt"]))


class DeliveryStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def create(
        self, *, task_id: str, tenant_id: str, event: str, url: str, body: str, now: datetime
    ) -> Delivery | None:
        """Store a delivery due now; None when this task's ``event`` already has one."""
        delivery_id = str(uuid.uuid4())
        try:
            async with self.db.write() as conn:
                await conn.execute(
                    deliveries.insert().values(
                        id=delivery_id,
                        task_id=task_id,
                        tenant_id=tenant_id,
                        event=event,
                        url=url,
                        body=body,
                        state=DeliveryState.PENDING.value,
                        attempts=0,
                        next_attempt_at=now,
                        created_at=now,
                        updated_at=now,
                    )
                )
                row = (
                    (await conn.execute(select(deliveries).where(deliveries.c.id == delivery_id)))
                    .mappings()
                    .one()
                )
        except IntegrityError:
            return None
        return _delivery(row)

    async def claim_due(self, now: datetime, hold: timedelta, limit: int) -> list[Delivery]:
        rows = await claim_due_rows(
            self.db,
            deliveries,
            due=deliveries.c.next_attempt_at,
            eligible=and_(
                deliveries.c.state == DeliveryState.PENDING.value,
                deliveries.c.next_attempt_at <= now,
            ),
            now=now,
            hold=hold,
            limit=limit,
        )
        return [_delivery(r) for r in rows]

    async def record_attempt(
        self,
        delivery: Delivery,
        attempt: AttemptRecord,
        *,
        state: DeliveryState,
        next_attempt_at: datetime | None,
        now: datetime,
    ) -> bool:
        """Log ``attempt`` and move the delivery on; False if another replica recorded first."""
        values: dict[str, object] = {
            "state": state.value,
            "attempts": attempt.attempt,
            "next_attempt_at": next_attempt_at,
            "last_status": attempt.status_code,
            "last_error": attempt.error,
            "updated_at": now,
        }
        if state == DeliveryState.DELIVERED:
            values["delivered_at"] = now
        async with self.db.write() as conn:
            result = await conn.execute(
                update(deliveries)
                .where(
                    deliveries.c.id == delivery.id,
                    deliveries.c.state == DeliveryState.PENDING.value,
                    deliveries.c.attempts == delivery.attempts,
                )
                .values(**values)
            )
            if result.rowcount == 0:
                return False
            await conn.execute(
                delivery_attempts.insert().values(
                    delivery_id=delivery.id,
                    attempt=attempt.attempt,
                    started_at=attempt.started_at,
                    duration_ms=attempt.duration_ms,
                    outcome=attempt.outcome,
                    status_code=attempt.status_code,
                    error=attempt.error,
                )
            )
        return True

    async def for_task(self, task_id: str) -> list[tuple[Delivery, list[AttemptRecord]]]:
        async with self.db.read() as conn:
            rows = (
                (
                    await conn.execute(
                        select(deliveries)
                        .where(deliveries.c.task_id == task_id)
                        .order_by(deliveries.c.created_at, deliveries.c.id)
                    )
                )
                .mappings()
                .all()
            )
            ids = [r["id"] for r in rows]
            attempt_rows = (
                (
                    await conn.execute(
                        select(delivery_attempts)
                        .where(delivery_attempts.c.delivery_id.in_(ids))
                        .order_by(delivery_attempts.c.delivery_id, delivery_attempts.c.attempt)
                    )
                )
                .mappings()
                .all()
                if ids
                else []
            )
        by_delivery: dict[str, list[AttemptRecord]] = {i: [] for i in ids}
        for row in attempt_rows:
            by_delivery[row["delivery_id"]].append(_attempt(row))
        return [(_delivery(r), by_delivery[r["id"]]) for r in rows]

    async def next_due(self) -> datetime | None:
        async with self.db.read() as conn:
            value = (
                await conn.execute(
                    select(func.min(deliveries.c.next_attempt_at)).where(
                        deliveries.c.state == DeliveryState.PENDING.value
                    )
                )
            ).scalar_one()
        return None if value is None else ensure_utc(value)

    async def missing_final(self, since: datetime, limit: int = 200) -> list[str]:
        """Ids of tasks with a hook that ended since ``since`` but have no delivery for it.

        A process that died between a task's final state change and storing its delivery
        leaves such a task behind; the catch-up sweep creates the delivery then.
        """
        query = (
            select(tasks.c.id)
            .where(
                tasks.c.notify_url.is_not(None),
                tasks.c.state.in_([s.value for s in TERMINAL_STATES]),
                tasks.c.finished_at >= since,
                ~exists().where(
                    and_(deliveries.c.task_id == tasks.c.id, deliveries.c.event == tasks.c.state)
                ),
            )
            .limit(limit)
        )
        async with self.db.read() as conn:
            return [str(r[0]) for r in (await conn.execute(query)).all()]
