"""What a key's limits are checked against, read inside the create's unit of work.

:meth:`KeyQuotas.lock_key` takes the key's row lock (PostgreSQL ``SELECT ... FOR UPDATE``; on
SQLite the single ``BEGIN IMMEDIATE`` writer already serializes), so creates of one key are
counted one after another on every replica: the counts below cannot be raced past.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select

from lumagate.domain.clock import ensure_utc
from lumagate.domain.states import TERMINAL_STATES
from lumagate.domain.tenant import ApiKey
from lumagate.store.executes import Executes
from lumagate.store.rows import key_from_row
from lumagate.store.schema import api_keys, tasks

_FINISHED = [s.value for s in TERMINAL_STATES]


class KeyQuotas:
    """The limit reads of one unit of work: the key's row lock and its recent creates."""

    def __init__(self, conn: Executes) -> None:
        self._conn = conn

    async def lock_key(self, key_id: str) -> ApiKey | None:
        """The key as stored now, row-locked until the unit of work ends; None if it is gone."""
        query = select(api_keys).where(api_keys.c.id == key_id).with_for_update()
        row = (await self._conn.execute(query)).mappings().first()
        return None if row is None else key_from_row(row)

    async def creates_since(self, tenant_id: str, since: datetime) -> int:
        query = (
            select(func.count())
            .select_from(tasks)
            .where(tasks.c.tenant_id == tenant_id, tasks.c.created_at >= since)
        )
        return int((await self._conn.execute(query)).scalar_one())

    async def nth_create_since(
        self, tenant_id: str, since: datetime, index: int
    ) -> datetime | None:
        """Creation time of the ``index``-th (0-based, oldest first) create since ``since``."""
        query = (
            select(tasks.c.created_at)
            .where(tasks.c.tenant_id == tenant_id, tasks.c.created_at >= since)
            .order_by(tasks.c.created_at)
            .offset(max(0, index))
            .limit(1)
        )
        value = (await self._conn.execute(query)).scalar_one_or_none()
        return None if value is None else ensure_utc(value)

    async def unfinished(self, tenant_id: str, *, up_to: int | None = None) -> int:
        """Tasks of the tenant that have not ended (queued ones included: they will run),
        counted no further than ``up_to`` when given: a running limit asks only whether it is
        reached, so a key with a deep queue costs the limit's index entries, not its queue's."""
        unfinished = select(tasks.c.id).where(
            tasks.c.tenant_id == tenant_id, tasks.c.state.not_in(_FINISHED)
        )
        if up_to is not None:
            unfinished = unfinished.limit(up_to)
        query = select(func.count()).select_from(unfinished.subquery())
        return int((await self._conn.execute(query)).scalar_one())
