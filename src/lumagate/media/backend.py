"""What the media store needs from storage: the :class:`MediaBackend` protocol.

Two backends implement it: :class:`lumagate.media.local.LocalBackend` (the data dir, the
default) and :class:`lumagate.media.s3.S3Backend` (S3-compatible object storage, chosen by
``LUMAGATE_MEDIA_URL=s3://bucket/prefix``). Everything above this protocol — keys, ``media:``
references, link signing, serving, retention — is the same for both, so a replica with S3
serves every media URL whichever replica wrote it. Keys are checked by every method
(:func:`lumagate.media.keys.check_key`); a missing key is
:class:`~lumagate.media.keys.MediaNotFound`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Protocol


@dataclass(frozen=True)
class MediaObject:
    """One stored object: its key, size in bytes, last modification and content type."""

    key: str
    size: int
    modified: datetime
    content_type: str


class MediaBackend(Protocol):
    """Where media bytes live. ``kind`` is ``"local"`` or ``"s3"``."""

    kind: str

    async def put_stream(self, key: str, chunks: AsyncIterator[bytes], content_type: str) -> None:
        """Store the bytes ``chunks`` yields under ``key``; readers never see a partial object."""
        ...

    async def put_bytes(self, key: str, data: bytes, content_type: str) -> None:
        """Store ``data`` under ``key`` (replacing what was there)."""
        ...

    async def put_file(self, key: str, path: Path, content_type: str) -> None:
        """Store the local file ``path`` under ``key``; the file may be moved (it is consumed)."""
        ...

    async def stat(self, key: str) -> MediaObject | None:
        """The object at ``key``, or None if there is none."""
        ...

    async def read_bytes(self, key: str) -> bytes:
        """The whole object; :class:`MediaNotFound` if missing."""
        ...

    def read_range(self, key: str, start: int, end: int) -> AsyncIterator[bytes]:
        """Bytes ``start`` (inclusive) to ``end`` (exclusive) of the object, in chunks."""
        ...

    async def delete(self, key: str) -> bool:
        """Remove the object; False if there was none."""
        ...

    def list(self, prefix: str = "") -> AsyncIterator[MediaObject]:
        """Every object in the folder ``prefix`` and below (``videos`` or ``videos/``; "" = all)."""
        ...

    async def presigned_url(self, key: str, expires_seconds: float) -> str | None:
        """A URL the object store serves directly for a while, or None (local backend)."""
        ...

    def local_path(self, key: str) -> Path | None:
        """The file of ``key`` on this machine's disk (local backend), else None."""
        ...
