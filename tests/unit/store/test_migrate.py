"""Migrations: the head read from the file names is Alembic's head, and a current schema is
left alone without loading Alembic."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.script import ScriptDirectory

from lumagate.store import migrate
from lumagate.store.database import Database


def test_the_file_name_head_is_alembics_head() -> None:
    script = ScriptDirectory.from_config(migrate.alembic_config())
    assert migrate.head_revision() == script.get_current_head()


def test_every_migration_file_is_named_after_its_revision() -> None:
    script = ScriptDirectory.from_config(migrate.alembic_config())
    for revision in script.walk_revisions():
        assert revision.path is not None
        assert Path(revision.path).name.startswith(f"{revision.revision}_"), revision.path


async def test_upgrade_migrates_a_new_database_then_leaves_a_current_one_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'm.db'}")
    try:
        assert await migrate.current_revision(database) is None
        await migrate.upgrade(database)
        assert await migrate.current_revision(database) == migrate.head_revision()

        def no_alembic() -> None:
            raise AssertionError("Alembic was used on a current schema")

        monkeypatch.setattr(migrate, "alembic_config", no_alembic)
        await migrate.upgrade(database)
        assert await migrate.current_revision(database) == migrate.head_revision()
    finally:
        await database.dispose()


async def test_a_schema_behind_the_code_is_brought_to_head(tmp_path: Path) -> None:
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'm.db'}")
    try:
        await migrate.upgrade(database, "0004")
        assert await migrate.current_revision(database) == "0004"
        await migrate.upgrade(database)
        assert await migrate.current_revision(database) == migrate.head_revision()
    finally:
        await database.dispose()
