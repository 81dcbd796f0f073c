"""Owner-only modes whatever the umask."""

from __future__ import annotations

import os
import sqlite3
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from lumagate.media.file_modes import (
    private_database_file,
    private_dir,
    private_file,
    secure_data_dir,
)


@pytest.fixture(autouse=True)
def open_umask() -> Iterator[None]:
    previous = os.umask(0)
    try:
        yield
    finally:
        os.umask(previous)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_private_dir_makes_every_new_level_0700(tmp_path: Path) -> None:
    (tmp_path / "open").mkdir(mode=0o777)
    made = private_dir(tmp_path / "open" / "a" / "b" / "c")
    assert [_mode(p) for p in (made, made.parent, made.parent.parent)] == [0o700] * 3
    assert _mode(tmp_path / "open") == 0o777  # an existing parent is not ours to change


def test_private_file_keeps_content_and_tightens(tmp_path: Path) -> None:
    path = tmp_path / "f"
    path.write_text("keep")
    path.chmod(0o666)
    private_file(path)
    assert _mode(path) == 0o600 and path.read_text() == "keep"


def test_sqlite_wal_files_follow_the_database_file(tmp_path: Path) -> None:
    database = tmp_path / "x.db"
    private_database_file(database)
    connection = sqlite3.connect(database)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("CREATE TABLE t (v)")
    connection.execute("INSERT INTO t VALUES (1)")
    connection.commit()
    try:
        for name in ("x.db", "x.db-wal", "x.db-shm"):
            assert _mode(tmp_path / name) == 0o600, name
    finally:
        connection.close()


def test_secure_data_dir_tightens_what_an_older_version_left_open(tmp_path: Path) -> None:
    data = tmp_path / "data"
    (data / "media").mkdir(parents=True, mode=0o755)
    for name in ("secret.key", "admin.key"):
        (data / name).write_text("s")
        (data / name).chmod(0o644)
    secure_data_dir(data)
    assert _mode(data) == _mode(data / "media") == 0o700
    assert _mode(data / "secret.key") == _mode(data / "admin.key") == 0o600
