"""A database already at the newest schema, copied for each test server instead of migrating.

Every ``lumagate serve`` a test starts on a new database used to run all the migrations first
(and import Alembic to do so): a good part of a server's start-up, paid again by every server
of the suite. The migration itself is what a test server least needs to repeat: it is tested
from an empty database by ``tests/unit/store/test_migrate.py``, the store tests (every
``database_url`` is new and migrated by the test) and the server tests that keep
``fresh_database`` on (the first-video acceptance test, the CLI tests). So each test process
migrates one template once, by running ``lumagate db upgrade`` like an operator would, and the
servers get a copy: a file copy on SQLite, ``CREATE DATABASE ... TEMPLATE`` on PostgreSQL.
A server then finds its schema current and starts without Alembic.
"""

from __future__ import annotations

import atexit
import os
import shutil
import subprocess
import sys
import tempfile
from functools import cache
from pathlib import Path

DATABASE_FILE = "lumagate.db"


def _upgrade(env: dict[str, str]) -> None:
    subprocess.run(
        [sys.executable, "-m", "lumagate.cli.main", "db", "upgrade"],
        env=env,
        capture_output=True,
        check=True,
        timeout=300,
    )


def _clean_env(data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LUMAGATE_")}
    env["LUMAGATE_DATA_DIR"] = str(data_dir)
    return env


@cache
def sqlite_template() -> Path:
    """A migrated SQLite file of this process (removed at exit)."""
    folder = Path(tempfile.mkdtemp(prefix="lumagate-schema-"))
    atexit.register(shutil.rmtree, folder, True)
    _upgrade(_clean_env(folder / "data"))
    template = folder / "data" / DATABASE_FILE
    assert template.is_file() and not template.with_name(DATABASE_FILE + "-wal").exists()
    return template


def seed_sqlite(data_dir: Path) -> None:
    """Give ``data_dir`` a migrated database, unless it already has one."""
    target = data_dir / DATABASE_FILE
    if target.exists():
        return
    data_dir.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(sqlite_template(), target)
    target.chmod(0o600)


def migrate_postgres(url: str) -> None:
    """Bring the PostgreSQL database at ``url`` (SQLAlchemy URL) to the newest schema."""
    folder = Path(tempfile.mkdtemp(prefix="lumagate-pg-schema-"))
    try:
        env = _clean_env(folder)
        env["LUMAGATE_DATABASE_URL"] = url
        _upgrade(env)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
