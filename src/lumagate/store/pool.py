"""Account-pool queries the upstream providers, the upkeep loop and the accounts CLI need.

Kept apart from ``accounts.py`` and ``tasks.py`` (the core repositories) because these are the
questions of running a pool of real upstream accounts: which upstream ids some task already
holds (so a reconciler never adopts another task's generation), account settings written by
providers (capacity, session state), and moving the polls of one account's tasks.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select, update

from lumagate.store.database import Database
from lumagate.store.schema import accounts, tasks
from lumagate.store.task_polls import FOLLOWED
from lumagate.store.task_writes import running_query


class PoolStore:
    """Questions and writes of running a pool of upstream accounts (see the module doc)."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def upstream_ids_taken(self, account_id: str, upstream_ids: Sequence[str]) -> set[str]:
        """Which of ``upstream_ids`` a task of ``account_id`` already records as its own."""
        if not upstream_ids:
            return set()
        query = select(tasks.c.upstream_id).where(
            tasks.c.account_id == account_id, tasks.c.upstream_id.in_(list(upstream_ids))
        )
        async with self.db.read() as conn:
            return {str(row[0]) for row in (await conn.execute(query)).all()}

    async def update_settings(
        self, account_id: str, changes: Mapping[str, Any], now: datetime
    ) -> bool:
        """Merge ``changes`` into the account's settings (a value of None removes the key)."""
        async with self.db.write() as conn:
            row = (
                await conn.execute(select(accounts.c.settings).where(accounts.c.id == account_id))
            ).first()
            if row is None:
                return False
            merged = dict(row[0] or {})
            for key, value in changes.items():
                if value is None:
                    merged.pop(key, None)
                else:
                    merged[key] = value
            await conn.execute(
                update(accounts)
                .where(accounts.c.id == account_id)
                .values(settings=merged, updated_at=now)
            )
        return True

    async def defer_polls(self, task_ids: Sequence[str], until: datetime) -> None:
        """Hold the next poll of followed tasks until ``until`` (their account is unreachable)."""
        if not task_ids:
            return
        async with self.db.write() as conn:
            await conn.execute(
                update(tasks)
                .where(tasks.c.id.in_(list(task_ids)), tasks.c.state.in_(FOLLOWED))
                .values(next_poll_at=until)
            )

    async def poll_account_now(self, account_id: str, now: datetime) -> int:
        """Make every followed task of an account due now (its session was renewed)."""
        return await self.db.changed(
            update(tasks)
            .where(tasks.c.account_id == account_id, tasks.c.state.in_(FOLLOWED))
            .values(next_poll_at=now)
        )

    async def running_by_account(self) -> dict[str, int]:
        """Tasks holding a slot (submitting, submitted, processing) per account."""
        async with self.db.read() as conn:
            return {str(a): int(n) for a, n in (await conn.execute(running_query())).all()}
