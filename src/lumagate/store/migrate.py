"""Schema migrations: Alembic, applied at start-up and by ``lumagate db upgrade``.

Migrations run on a connection of the gateway's own engine (inside its event loop), through
Alembic's connection-sharing recipe; see ``migrations/env.py``.

Alembic (with Mako and its autogenerate machinery: ~0.2 s and ~15 MiB) is imported only when
a migration has to run. The head revision is read from the version files' ``revision`` and
``down_revision`` assignments, and the database's revision from ``alembic_version``, so a start
on a current schema and every ``/readyz`` probe cost one SELECT and no Alembic.
"""

from __future__ import annotations

import ast
import functools
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Connection, text
from sqlalchemy.exc import DBAPIError

from lumagate.store.database import Database

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
MIGRATION_LOCK = 0x6C756D61  # "luma": the advisory lock held while migrating PostgreSQL


def alembic_config() -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config


@functools.cache
def head_revision() -> str:
    """The one head of the version files; Alembic decides when they are not a plain chain."""
    links = _version_links()
    heads = set(links) - {down for down in links.values() if down is not None}
    if links and len(heads) == 1:
        return heads.pop()
    from alembic.script import ScriptDirectory  # several heads or an odd file: Alembic says

    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if head is None:  # pragma: no cover - the package always ships migrations
        raise RuntimeError("no migrations found")
    return head


def _version_links() -> dict[str, str | None]:
    """revision → down_revision of each version file, as plain string constants."""
    links: dict[str, str | None] = {}
    for path in sorted((MIGRATIONS_DIR / "versions").glob("*.py")):
        values: dict[str, object] = {}
        for node in ast.parse(path.read_text()).body:
            if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant):
                for target in node.targets:
                    if isinstance(target, ast.Name):
                        values[target.id] = node.value.value
        revision, down = values.get("revision"), values.get("down_revision")
        if isinstance(revision, str) and (down is None or isinstance(down, str)):
            links[revision] = down
        elif path.name != "__init__.py":
            return {}  # not a plain chain of string constants: let Alembic read it
    return links


async def upgrade(database: Database, revision: str = "head") -> None:
    """Bring the schema to ``revision``; a no-op when it is already there."""
    target = head_revision() if revision == "head" else revision
    if await current_revision(database) == target:
        return

    def _run(sync_conn: Connection) -> None:
        from alembic import command

        config = alembic_config()
        config.attributes["connection"] = sync_conn
        command.upgrade(config, revision)

    async with database.write() as conn:
        if not database.is_sqlite:  # replicas starting together migrate one after the other
            await conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
        await conn.run_sync(_run)


async def current_revision(database: Database) -> str | None:
    """The schema's revision (``alembic_version``), None before the first migration."""
    try:
        async with database.read_one() as conn:
            rows = (await conn.execute(text("SELECT version_num FROM alembic_version"))).all()
    except DBAPIError as error:
        if "alembic_version" in str(error.orig):  # no such table: never migrated
            return None
        raise  # the database does not answer: that is not "no revision"
    return str(rows[0][0]) if len(rows) == 1 else None
