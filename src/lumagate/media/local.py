"""The data-dir media backend: every key a file under one directory (the default backend).

Files are written to a temporary file beside their target and moved into place with
``os.replace``, so readers never see a partial file; directories are made 0700 and files 0600.
Every key resolves inside :attr:`LocalBackend.root` — a ``..`` or a symlink out of it is
:class:`~lumagate.media.keys.MediaNotFound` — because keys come from strangers' URLs.
Blocking file work runs in worker threads.
"""

from __future__ import annotations

import asyncio
import builtins
import contextlib
import os
import shutil
import stat
import tempfile
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO

from lumagate.media.backend import MediaObject
from lumagate.media.file_modes import PRIVATE_FILE, private_dir
from lumagate.media.keys import (
    SNIFF_BYTES,
    MediaNotFound,
    check_key,
    check_prefix,
    content_type_for,
)

CHUNK_BYTES = 256 * 1024


def _open_temp(path: Path) -> tuple[BinaryIO, str]:
    """A new temporary file beside ``path`` (its folders made private first), open for writing."""
    private_dir(path.parent)
    fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=path.suffix)
    return os.fdopen(fd, "wb"), tmp_name


class LocalBackend:
    """Media under ``root`` on this machine's disk."""

    kind = "local"

    def __init__(self, root: Path) -> None:
        self._root = Path(root).resolve()

    @property
    def root(self) -> Path:
        return self._root

    # -- keys and paths ---------------------------------------------------------------------
    def path_for(self, key: str) -> Path:
        """The resolved path of ``key``, guaranteed inside :attr:`root` (it may not exist yet)."""
        check_key(key)
        try:
            resolved = (self._root / key).resolve()
        except (OSError, RuntimeError) as exc:  # symlink loops, names too long
            raise MediaNotFound("invalid media key: cannot be resolved") from exc
        if resolved == self._root or not resolved.is_relative_to(self._root):
            raise MediaNotFound("invalid media key: outside the media directory")
        return resolved

    def dir_for(self, key_prefix: str) -> Path:
        """A directory for a producer, e.g. ``videos/<task id>``; created if missing."""
        path = self.path_for(key_prefix)
        if not path.is_dir():
            private_dir(path)
        return self.path_for(key_prefix)

    def key_for(self, path: Path) -> str:
        """The key of a path inside :attr:`root` — the inverse of :meth:`path_for`."""
        try:
            relative = Path(path).resolve().relative_to(self._root)
        except (ValueError, OSError, RuntimeError) as exc:
            raise MediaNotFound(f"{path} is outside the media directory") from exc
        return check_key(relative.as_posix())

    def local_path(self, key: str) -> Path | None:
        return self.path_for(key)

    # -- writing ----------------------------------------------------------------------------
    def write_bytes(self, key: str, data: bytes) -> None:
        """Write ``data`` at ``key`` atomically (temporary file, fsync, ``os.replace``)."""
        self._write(key, iter((data,)))

    def _write(self, key: str, chunks: Iterator[bytes]) -> None:
        path = self.path_for(key)
        private_dir(path.parent)
        self.path_for(key)  # re-check confinement now that the directories exist
        fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=path.suffix)
        try:
            with os.fdopen(fd, "wb") as handle:
                for chunk in chunks:
                    handle.write(chunk)
                handle.flush()
                os.fsync(handle.fileno())
            os.chmod(tmp_name, PRIVATE_FILE)
            os.replace(tmp_name, path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp_name)
            raise

    async def put_bytes(self, key: str, data: bytes, content_type: str) -> None:
        await asyncio.to_thread(self.write_bytes, key, data)

    async def put_stream(self, key: str, chunks: AsyncIterator[bytes], content_type: str) -> None:
        """Each chunk is written as it arrives (a half-copied file is a ``.tmp-`` file beside
        its target); three kinds of worker-thread hop, not more: open, each write, and one
        finish (fsync, mode, confinement check, rename), so the event loop never blocks on the
        disk and a small file costs few hand-offs."""
        path = self.path_for(key)
        handle, tmp_name = await asyncio.to_thread(_open_temp, path)
        try:
            with handle:
                async for chunk in chunks:
                    await asyncio.to_thread(handle.write, chunk)
                await asyncio.to_thread(self._finish, handle, tmp_name, key, path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp_name)
            raise

    def _finish(self, handle: BinaryIO, tmp_name: str, key: str, path: Path) -> None:
        handle.flush()
        os.fsync(handle.fileno())
        os.chmod(tmp_name, PRIVATE_FILE)
        self.path_for(key)  # re-check confinement before the file appears under its key
        os.replace(tmp_name, path)

    async def put_file(self, key: str, path: Path, content_type: str) -> None:
        def move() -> None:
            target = self.path_for(key)
            if Path(path).resolve() == target:
                return  # already in place (rendered straight into the media dir)
            private_dir(target.parent)
            self.path_for(key)
            os.chmod(path, PRIVATE_FILE)
            shutil.move(str(path), str(target))

        await asyncio.to_thread(move)

    # -- reading ----------------------------------------------------------------------------
    def stat_sync(self, key: str) -> MediaObject | None:
        path = self.path_for(key)
        try:
            info = path.stat()
            if not stat.S_ISREG(info.st_mode):
                return None
            with path.open("rb") as handle:
                head = handle.read(SNIFF_BYTES)
        except OSError:
            return None
        modified = datetime.fromtimestamp(info.st_mtime, UTC)
        return MediaObject(key, info.st_size, modified, content_type_for(path.name, head))

    async def stat(self, key: str) -> MediaObject | None:
        return await asyncio.to_thread(self.stat_sync, key)

    def read_sync(self, key: str) -> bytes:
        path = self.path_for(key)
        try:
            if not path.is_file():
                raise MediaNotFound(f"media file not found: {key}")
            return path.read_bytes()
        except FileNotFoundError as exc:
            raise MediaNotFound(f"media file not found: {key}") from exc

    async def read_bytes(self, key: str) -> bytes:
        return await asyncio.to_thread(self.read_sync, key)

    async def read_range(self, key: str, start: int, end: int) -> AsyncIterator[bytes]:
        path = self.path_for(key)
        try:
            handle = await asyncio.to_thread(path.open, "rb")
        except OSError as exc:
            raise MediaNotFound(f"media file not found: {key}") from exc
        try:
            await asyncio.to_thread(handle.seek, start)
            left = end - start
            while left > 0:
                chunk = await asyncio.to_thread(handle.read, min(CHUNK_BYTES, left))
                if not chunk:
                    break
                left -= len(chunk)
                yield chunk
        finally:
            handle.close()

    async def delete(self, key: str) -> bool:
        path = self.path_for(key)

        def remove() -> bool:
            try:
                if not path.is_file():
                    return False
                path.unlink()
            except FileNotFoundError:
                return False
            return True

        return await asyncio.to_thread(remove)

    async def list(self, prefix: str = "") -> AsyncIterator[MediaObject]:
        check_prefix(prefix)
        for key in await asyncio.to_thread(self._keys, prefix):
            try:
                found = await self.stat(key)
            except MediaNotFound:  # a symlink out of the media directory
                continue
            if found is not None:
                yield found

    def _keys(self, prefix: str) -> builtins.list[str]:
        folder = prefix.rstrip("/")
        start = self.path_for(folder) if folder else self._root
        keys: list[str] = []
        for directory, _, files in os.walk(start):  # os.walk does not follow symlinked dirs
            for name in files:
                if not name.startswith(".tmp-"):
                    keys.append(Path(directory, name).relative_to(self._root).as_posix())
        return sorted(keys)

    async def presigned_url(self, key: str, expires_seconds: float) -> str | None:
        return None

    async def sweep_partials(self, modified_before: datetime) -> int:
        """Remove the ``.tmp-`` files last written before ``modified_before``; how many.

        A write cut short by the process's death (``kill -9``, a lost machine) leaves its
        temporary file behind, which nothing else would ever remove. A write in progress
        touches its file with every chunk, so an old enough one is no write's any more.
        """
        cutoff = modified_before.timestamp()

        def sweep() -> int:
            removed = 0
            for directory, _, files in os.walk(self._root):
                for name in files:
                    if not name.startswith(".tmp-"):
                        continue
                    path = Path(directory, name)
                    with contextlib.suppress(FileNotFoundError):
                        if path.lstat().st_mtime < cutoff:
                            path.unlink()
                            removed += 1
            return removed

        return await asyncio.to_thread(sweep)
