"""Engine leases: a job that one replica of a set runs at a time (table ``engine_leases``).

The polling lease lives here (``engine/poll_lease.py``): its holder follows every running task
with the poll schedule in memory, so unchanged tasks cost no write (issue 10). Every time in a
statement is the database's own clock (``now()``), never a replica's, so replicas with skewed
clocks agree on when a lease ran out. A take is one conditional upsert: it succeeds when the row
is absent, ours, or expired; ``taken_at`` changes only when the owner does, so the holder can
tell a renewal of its term from a new term after someone else held the lease. PostgreSQL only:
on SQLite one engine runs per data directory and holds no lease, which is why the PostgreSQL
dialect's ``insert`` (SQLAlchemy's whole PostgreSQL dialect package: ~0.1 s of a SQLite
gateway's start-up) is imported by the first take, not with this module.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import case, func, select, update

from lumagate.domain.clock import ensure_utc
from lumagate.store.database import Database
from lumagate.store.schema import engine_leases


class EngineLeases:
    """Take, renew and give up named leases in the shared database (PostgreSQL)."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def take(self, name: str, owner: str, seconds: float) -> datetime | None:
        """Take or renew ``name`` for ``seconds`` by the database's clock; the start of
        ``owner``'s term (unchanged by renewals), or None while another replica holds it."""
        from sqlalchemy.dialects.postgresql import insert  # PostgreSQL only: see the module doc

        now = func.now()
        values = insert(engine_leases).values(
            name=name, owner=owner, taken_at=now, expires_at=now + timedelta(seconds=seconds)
        )
        table = engine_leases.c
        statement = values.on_conflict_do_update(
            index_elements=[table.name],
            set_={
                "owner": values.excluded.owner,
                "expires_at": values.excluded.expires_at,
                "taken_at": case(
                    (table.owner == values.excluded.owner, table.taken_at),
                    else_=values.excluded.taken_at,
                ),
            },
            where=(table.owner == values.excluded.owner) | (table.expires_at <= now),
        ).returning(table.taken_at)
        async with self.db.write() as conn:
            taken_at = (await conn.execute(statement)).scalar_one_or_none()
        return None if taken_at is None else ensure_utc(taken_at)

    async def release(self, name: str, owner: str) -> bool:
        """Give ``name`` up at once if ``owner`` holds it (a clean stop): the next take by any
        replica succeeds without waiting for the lease to run out."""
        statement = (
            update(engine_leases)
            .where(engine_leases.c.name == name, engine_leases.c.owner == owner)
            .values(expires_at=func.now())
        )
        return await self.db.changed(statement) > 0

    async def holder(self, name: str) -> str | None:
        """Who holds ``name`` now (None: nobody, or the lease ran out)."""
        query = select(engine_leases.c.owner).where(
            engine_leases.c.name == name, engine_leases.c.expires_at > func.now()
        )
        async with self.db.read_one() as conn:
            owner = (await conn.execute(query)).scalar_one_or_none()
        return None if owner is None else str(owner)
