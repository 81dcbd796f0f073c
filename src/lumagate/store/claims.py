"""Claiming due rows of a work table: the one queue-claim statement the loops share.

The callback sender (deliveries due an attempt) and the upstream-cancel loop (ended tasks whose
generation is still to cancel) take a batch of rows whose due time has come and push that time
forward by a hold, in one write transaction, so no other loop or replica takes the same rows
meanwhile (``SKIP LOCKED`` on PostgreSQL; SQLite's single writer serializes the claim). The
refresher no longer claims this way: a claim is a write per polled row even when nothing
changed, so its claims are held in memory by the one engine that polls (the polling lease on
PostgreSQL, ``engine/poll_lease.py``).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import Column, ColumnElement, RowMapping, Table, select, update

from lumagate.store.database import Database


async def claim_due(
    db: Database,
    table: Table,
    *,
    due: Column[datetime],
    eligible: ColumnElement[bool],
    now: datetime,
    hold: timedelta,
    limit: int,
) -> Sequence[RowMapping]:
    """Rows matching ``eligible``, oldest ``due`` first; their ``due`` becomes ``now + hold``."""
    async with db.write() as conn:
        query = select(table).where(eligible).order_by(due).limit(limit)
        if not db.is_sqlite:
            query = query.with_for_update(skip_locked=True)
        rows = (await conn.execute(query)).mappings().all()
        if rows:
            await conn.execute(
                update(table)
                .where(table.c.id.in_([row["id"] for row in rows]))
                .values({due.name: now + hold})
            )
    return rows
