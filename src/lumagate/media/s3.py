"""The S3-compatible media backend (AWS S3, MinIO, R2, …), through obstore.

Chosen by ``LUMAGATE_MEDIA_URL=s3://bucket/prefix``; ``LUMAGATE_S3_ENDPOINT_URL`` names a
non-AWS endpoint (then addressing is path-style, as MinIO needs), ``LUMAGATE_S3_REGION`` the
region, and credentials come from the standard ``AWS_ACCESS_KEY_ID`` /
``AWS_SECRET_ACCESS_KEY`` (obstore reads them, and the rest of the standard AWS variables, from
the environment). Why obstore: docs/media.md. Keys are checked exactly as for the local backend;
an object store has no symlinks, so a checked key cannot leave the bucket's prefix.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import obstore
from obstore.exceptions import BaseError, NotFoundError
from obstore.store import S3Store

from lumagate.media.backend import MediaObject
from lumagate.media.keys import (
    MediaNotFound,
    MediaUnavailable,
    check_key,
    check_prefix,
    content_type_for,
)

if TYPE_CHECKING:
    from obstore.store import ClientConfig, RetryConfig

STREAM_CHUNK_BYTES = 256 * 1024
# A request path waits on these: a store that is down answers 503 within seconds, not minutes
# (obstore's defaults retry for up to 3 minutes). No total timeout: a long video streams.
CONNECT_TIMEOUT = timedelta(seconds=5)
MAX_RETRIES = 3
RETRY_TIMEOUT = timedelta(seconds=15)


def parse_media_url(url: str) -> tuple[str, str]:
    """``s3://bucket/some/prefix`` → ``("bucket", "some/prefix")``; ValueError otherwise."""
    parts = urlsplit(url)
    if parts.scheme != "s3" or not parts.netloc:
        raise ValueError(f"LUMAGATE_MEDIA_URL must be s3://bucket[/prefix], got {url!r}")
    prefix = parts.path.strip("/")
    if prefix:
        check_key(prefix)
    return parts.netloc, prefix


def _unavailable(exc: BaseException) -> MediaUnavailable:
    return MediaUnavailable(f"the media store failed: {type(exc).__name__}")


class S3Backend:
    """Objects in ``bucket`` under ``prefix``; see the module docstring for the settings."""

    kind = "s3"

    def __init__(
        self,
        bucket: str,
        prefix: str = "",
        *,
        endpoint_url: str | None = None,
        region: str | None = None,
        access_key_id: str | None = None,
        secret_access_key: str | None = None,
    ) -> None:
        config: dict[str, Any] = {}
        if endpoint_url:
            config["endpoint"] = endpoint_url
            config["virtual_hosted_style_request"] = False  # path-style, as MinIO needs
        if region:
            config["region"] = region
        if access_key_id and secret_access_key:
            config["access_key_id"] = access_key_id
            config["secret_access_key"] = secret_access_key
        client: ClientConfig = {"connect_timeout": CONNECT_TIMEOUT}
        if endpoint_url and endpoint_url.startswith("http://"):
            client["allow_http"] = True
        retry: RetryConfig = {"max_retries": MAX_RETRIES, "retry_timeout": RETRY_TIMEOUT}
        self.bucket = bucket
        self.prefix = prefix
        self._store = S3Store(
            bucket, prefix=prefix or None, client_options=client, retry_config=retry, **config
        )

    @classmethod
    def from_url(cls, url: str, **options: Any) -> S3Backend:
        bucket, prefix = parse_media_url(url)
        return cls(bucket, prefix, **options)

    def local_path(self, key: str) -> Path | None:
        return None

    async def put_stream(self, key: str, chunks: AsyncIterator[bytes], content_type: str) -> None:
        await self._put(key, chunks, content_type)

    async def put_bytes(self, key: str, data: bytes, content_type: str) -> None:
        await self._put(key, data, content_type)

    async def put_file(self, key: str, path: Path, content_type: str) -> None:
        await self._put(key, Path(path), content_type)
        await asyncio.to_thread(Path(path).unlink, missing_ok=True)

    async def _put(
        self, key: str, payload: AsyncIterator[bytes] | bytes | Path, content_type: str
    ) -> None:
        check_key(key)
        try:
            await obstore.put_async(
                self._store, key, payload, attributes={"Content-Type": content_type}
            )
        except BaseError as exc:
            raise _unavailable(exc) from exc

    async def stat(self, key: str) -> MediaObject | None:
        check_key(key)
        try:
            meta = await obstore.head_async(self._store, key)
        except (NotFoundError, FileNotFoundError):
            return None
        except BaseError as exc:
            raise _unavailable(exc) from exc
        return MediaObject(key, meta["size"], meta["last_modified"], content_type_for(key))

    async def read_bytes(self, key: str) -> bytes:
        check_key(key)
        try:
            result = await obstore.get_async(self._store, key)
            return bytes(await result.bytes_async())
        except (NotFoundError, FileNotFoundError) as exc:
            raise MediaNotFound(f"media file not found: {key}") from exc
        except BaseError as exc:
            raise _unavailable(exc) from exc

    async def read_range(self, key: str, start: int, end: int) -> AsyncIterator[bytes]:
        check_key(key)
        if end <= start:
            return
        try:
            result = await obstore.get_async(self._store, key, options={"range": (start, end)})
            async for chunk in result.stream(min_chunk_size=STREAM_CHUNK_BYTES):
                yield bytes(chunk)
        except (NotFoundError, FileNotFoundError) as exc:
            raise MediaNotFound(f"media file not found: {key}") from exc
        except BaseError as exc:
            raise _unavailable(exc) from exc

    async def delete(self, key: str) -> bool:
        if await self.stat(key) is None:
            return False
        try:
            await obstore.delete_async(self._store, key)
        except (NotFoundError, FileNotFoundError):
            return False
        except BaseError as exc:
            raise _unavailable(exc) from exc
        return True

    async def list(self, prefix: str = "") -> AsyncIterator[MediaObject]:
        check_prefix(prefix)
        folder = prefix.rstrip("/") or None
        try:
            async for batch in obstore.list(self._store, prefix=folder, chunk_size=500):
                for meta in batch:
                    key = meta["path"]
                    kind = content_type_for(key)
                    yield MediaObject(key, meta["size"], meta["last_modified"], kind)
        except BaseError as exc:
            raise _unavailable(exc) from exc

    async def presigned_url(self, key: str, expires_seconds: float) -> str | None:
        check_key(key)
        try:
            return await obstore.sign_async(
                self._store, "GET", key, timedelta(seconds=expires_seconds)
            )
        except BaseError as exc:
            raise _unavailable(exc) from exc
