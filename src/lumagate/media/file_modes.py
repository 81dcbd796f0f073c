"""Owner-only modes for what the gateway keeps on disk, whatever the process umask.

The data directory holds the database (hook tokens, prompts, notify URLs), ``secret.key``,
``admin.key`` and the media. A umask of 022 would make all of it readable by every local user,
so directories are made 0700 and files 0600 explicitly (``chmod`` after creating, because
``mkdir``/``open`` modes are filtered through the umask). SQLite creates its ``-wal`` and
``-shm`` files with the mode of the database file, so creating that file 0600 first covers them.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

PRIVATE_DIR = 0o700
PRIVATE_FILE = 0o600


def private_dir(path: Path) -> Path:
    """Create ``path`` and its missing parents, each made 0700; ``path`` is made 0700 even if
    it existed (parents that existed are left as they are)."""
    missing = [p for p in (path, *path.parents) if not p.exists()]
    for directory in reversed(missing):
        with contextlib.suppress(FileExistsError):  # made meanwhile by a concurrent writer
            directory.mkdir(mode=PRIVATE_DIR)
        os.chmod(directory, PRIVATE_DIR)
    os.chmod(path, PRIVATE_DIR)
    return path


def private_file(path: Path) -> Path:
    """Create ``path`` empty if missing (without truncating it) and make it 0600."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, PRIVATE_FILE)
    os.close(fd)
    os.chmod(path, PRIVATE_FILE)
    return path


def tighten_existing(paths: list[Path]) -> None:
    """Make the files of ``paths`` that exist 0600 (files made before this rule held)."""
    for path in paths:
        with contextlib.suppress(FileNotFoundError):
            os.chmod(path, PRIVATE_FILE)


def private_database_file(database_file: Path) -> None:
    """An SQLite database file 0600 before SQLite opens it; existing WAL files tightened."""
    private_file(database_file)
    tighten_existing([Path(f"{database_file}-wal"), Path(f"{database_file}-shm")])


def secure_data_dir(data_dir: Path) -> None:
    """The data dir and its media folder 0700; the secret files in it 0600."""
    private_dir(data_dir)
    private_dir(data_dir / "media")
    tighten_existing([data_dir / "secret.key", data_dir / "admin.key", data_dir / "lumagate.lock"])
