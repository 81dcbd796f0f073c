"""Schema migrations: Alembic, applied at start-up and by ``lumagate db upgrade``.

Migrations run on a connection of the gateway's own engine (inside its event loop), through
Alembic's connection-sharing recipe; see ``migrations/env.py``.

Alembic costs about a fifth of a second to import, and most start-ups (every ``lumagate keys``
command, a server restart) find the schema already current. So the newest revision is read from
the migration files' names (``NNNN_what.py`` holds revision ``NNNN``; a unit test checks that
this agrees with Alembic's own head) and the stored one from ``alembic_version`` with plain
SQLAlchemy; Alembic is imported only when there is something to apply.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Connection, inspect, text

from lumagate.store.database import Database

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
VERSIONS_DIR = MIGRATIONS_DIR / "versions"
VERSION_TABLE = "alembic_version"
_VERSION_FILE = re.compile(r"^(\d{4})_\w+\.py$")


def alembic_config() -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config


@cache
def head_revision() -> str:
    """The newest migration's revision, from the file names (no Alembic import)."""
    revisions = [
        match[1] for path in VERSIONS_DIR.iterdir() if (match := _VERSION_FILE.match(path.name))
    ]
    if not revisions:  # pragma: no cover - the package always ships migrations
        raise RuntimeError("no migrations found")
    return max(revisions)


async def upgrade(database: Database, revision: str = "head") -> None:
    """Bring the schema to ``revision``; a no-op when it is already there."""
    if revision == "head" and await current_revision(database) == head_revision():
        return  # current: Alembic is not even imported

    def _run(sync_conn: Connection) -> None:
        from alembic import command

        config = alembic_config()
        config.attributes["connection"] = sync_conn
        command.upgrade(config, revision)

    async with database.write() as conn:
        await conn.run_sync(_run)


def _stored_revision(sync_conn: Connection) -> str | None:
    if not inspect(sync_conn).has_table(VERSION_TABLE):
        return None
    rows = sync_conn.execute(text(f"SELECT version_num FROM {VERSION_TABLE}")).scalars().all()
    if len(rows) > 1:  # several heads: never the case for this linear history
        raise RuntimeError(f"{VERSION_TABLE} holds several revisions: {sorted(rows)}")
    return rows[0] if rows else None


async def current_revision(database: Database) -> str | None:
    """The revision stored in the database (``None``: never migrated)."""
    async with database.read() as conn:
        return await conn.run_sync(_stored_revision)
