"""Fast set-up of large states: tasks cloned from a real row by direct inserts, fresh PostgreSQL
databases, and a write counter on the tasks table.

Seeding 100k tasks over HTTP would take longer than the whole bench; cloning a row the gateway
itself wrote (so every column is one the gateway produces) with batched inserts through the
store's own table definition takes seconds.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import asyncpg
from sqlalchemy import func, select, text

from lumagate.domain.clock import utcnow
from lumagate.store.database import Database
from lumagate.store.schema import tasks

PG_ADMIN_URL = os.environ.get(
    "LUMAGATE_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)
BATCH = 2000


def clone_tasks(
    database_url: str,
    template_id: str,
    count: int,
    *,
    state: str | None = None,
    spread: timedelta = timedelta(days=30),
    upstream_ids: Sequence[str] = (),
    **overrides: Any,
) -> list[str]:
    """Insert ``count`` copies of task ``template_id``, created over the ``spread`` before now;
    copy ``i`` gets ``upstream_ids[i]`` when those are given."""
    if upstream_ids:
        count = len(upstream_ids)
    return asyncio.run(
        _clone(database_url, template_id, count, state, spread, overrides, upstream_ids)
    )


async def _clone(
    url: str,
    template_id: str,
    count: int,
    state: str | None,
    spread: timedelta,
    overrides: dict[str, Any],
    upstream_ids: Sequence[str],
) -> list[str]:
    db = Database(url)
    try:
        async with db.read() as conn:
            row = dict(
                (await conn.execute(select(tasks).where(tasks.c.id == template_id)))
                .mappings()
                .one()
            )
        now = utcnow()
        ids: list[str] = []
        for start in range(0, count, BATCH):
            rows = [
                _copy(row, now - spread * (1 - (start + i) / count), state, overrides)
                for i in range(min(BATCH, count - start))
            ]
            if upstream_ids:
                for i, copy in enumerate(rows):
                    copy["upstream_id"] = upstream_ids[start + i]
            async with db.write() as conn:
                await conn.execute(tasks.insert(), rows)
            ids += [r["id"] for r in rows]
        if not db.is_sqlite:
            async with db.write() as conn:
                await conn.execute(text("ANALYZE tasks"))
        return ids
    finally:
        await db.dispose()


def _copy(
    row: dict[str, Any], created: datetime, state: str | None, overrides: dict[str, Any]
) -> dict[str, Any]:
    copy = dict(row)
    copy.update(id=str(uuid.uuid4()), created_at=created, updated_at=created, idempotency_key=None)
    if state is not None:
        copy["state"] = state
    if copy.get("submitted_at") is not None:
        copy["submitted_at"] = created + timedelta(seconds=2)
    if copy.get("started_at") is not None:
        copy["started_at"] = created + timedelta(seconds=3)
    if copy.get("finished_at") is not None:
        copy["finished_at"] = created + timedelta(seconds=60)
    copy.update(overrides)
    return copy


def count_tasks(database_url: str, state: str) -> int:
    async def count() -> int:
        db = Database(database_url)
        try:
            async with db.read() as conn:
                query = select(func.count()).select_from(tasks).where(tasks.c.state == state)
                return int((await conn.execute(query)).scalar_one())
        finally:
            await db.dispose()

    return asyncio.run(count())


# -- counting writes -------------------------------------------------------------------------
_COUNTER_DDL = [
    "CREATE TABLE IF NOT EXISTS bench_writes (kind TEXT PRIMARY KEY, n INTEGER NOT NULL)",
    "INSERT OR IGNORE INTO bench_writes VALUES ('update', 0), ('insert', 0)",
    "CREATE TRIGGER IF NOT EXISTS bench_count_update AFTER UPDATE ON tasks "
    "BEGIN UPDATE bench_writes SET n = n + 1 WHERE kind = 'update'; END",
    "CREATE TRIGGER IF NOT EXISTS bench_count_insert AFTER INSERT ON tasks "
    "BEGIN UPDATE bench_writes SET n = n + 1 WHERE kind = 'insert'; END",
]
# PostgreSQL: the same counts, and the polling lease's rows apart (kind 'lease').
_PG_COUNTER_DDL = [
    "CREATE TABLE IF NOT EXISTS bench_writes (kind TEXT PRIMARY KEY, n BIGINT NOT NULL)",
    "INSERT INTO bench_writes VALUES ('update', 0), ('insert', 0), ('lease', 0) "
    "ON CONFLICT DO NOTHING",
    "CREATE OR REPLACE FUNCTION bench_count_write() RETURNS trigger LANGUAGE plpgsql AS $$ "
    "BEGIN UPDATE bench_writes SET n = n + 1 WHERE kind = CASE WHEN TG_TABLE_NAME = "
    "'engine_leases' THEN 'lease' ELSE lower(TG_OP) END; RETURN NULL; END $$",
    "CREATE OR REPLACE TRIGGER bench_count_tasks AFTER INSERT OR UPDATE ON tasks "
    "FOR EACH ROW EXECUTE FUNCTION bench_count_write()",
    "CREATE OR REPLACE TRIGGER bench_count_leases AFTER INSERT OR UPDATE ON engine_leases "
    "FOR EACH ROW EXECUTE FUNCTION bench_count_write()",
]


@dataclass(frozen=True)
class Writes:
    """Rows written so far: to ``tasks``, and to ``engine_leases`` (PostgreSQL only)."""

    tasks: int
    leases: int


def install_write_counter(database_url: str) -> None:
    """Count every row the gateway writes to ``tasks`` (and, on PostgreSQL, to the lease
    table) with triggers; bench databases only."""

    async def install() -> None:
        db = Database(database_url)
        try:
            async with db.write() as conn:
                for statement in _COUNTER_DDL if db.is_sqlite else _PG_COUNTER_DDL:
                    await conn.execute(text(statement))
        finally:
            await db.dispose()

    asyncio.run(install())


def writes_so_far(database_url: str) -> Writes:
    async def read() -> Writes:
        db = Database(database_url)
        try:
            async with db.read() as conn:
                rows = await conn.execute(text("SELECT kind, n FROM bench_writes"))
                counts = {str(kind): int(n) for kind, n in rows}
        finally:
            await db.dispose()
        lease = counts.pop("lease", 0)
        return Writes(tasks=sum(counts.values()), leases=lease)

    return asyncio.run(read())


# -- PostgreSQL ------------------------------------------------------------------------------
async def _pg_admin(statement: str) -> None:
    conn = await asyncpg.connect(PG_ADMIN_URL, timeout=5)
    try:
        await conn.execute(statement)
    finally:
        await conn.close()


@contextmanager
def postgres_database() -> Iterator[str]:
    """A fresh PostgreSQL database for one gateway (its SQLAlchemy URL), dropped afterwards."""
    name = f"lumagate_bench_{uuid.uuid4().hex[:10]}"
    asyncio.run(_pg_admin(f'CREATE DATABASE "{name}"'))
    base = PG_ADMIN_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://", 1)
    try:
        yield f"{base}/{name}"
    finally:
        asyncio.run(_pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
