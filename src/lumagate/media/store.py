"""The gateway's file store: content-addressed uploads and produced media, named by keys.

Every file the gateway keeps is named by a *key* — a relative, ``/``-separated path such as
``uploads/ab/<sha256>.png`` or ``videos/<folder>/video.mp4`` — and lives in a
:class:`~lumagate.media.backend.MediaBackend`: the data dir (:class:`LocalBackend`, the default)
or S3-compatible object storage (:class:`lumagate.media.s3.S3Backend`). Tasks store
``media:<key>`` references, never paths or URLs, so the storage and the public URL can both
move. Every key is checked (no ``..``, absolute paths or, locally, symlink escapes), because
keys reach this module from URLs typed by strangers.

:class:`MediaStore` implements :class:`lumagate.providers.base.MediaAccess`: providers read
assets (local or remote) through it and ask it for public links.
"""

from __future__ import annotations

import asyncio
import hashlib
import re
from collections.abc import AsyncIterator, Mapping
from pathlib import Path
from typing import Protocol
from urllib.parse import quote

from lumagate.domain import messages as msg
from lumagate.domain.fetching import FetchFailed, UrlFetcher, UrlRefused
from lumagate.domain.media_types import SUFFIX_TYPES
from lumagate.domain.messages import Text
from lumagate.domain.request import is_media_ref, media_key, media_ref
from lumagate.media.backend import MediaBackend, MediaObject
from lumagate.media.images import (
    DEFAULT_MAX_IMAGE_BYTES,
    IMAGE_SUFFIXES,
    ImageUrl,
    InvalidImage,
    check_pixels,
    classify_image_input,
    sniff_image_type,
)
from lumagate.media.keys import (
    MAX_KEY_LENGTH,
    SNIFF_BYTES,
    MediaError,
    MediaNotFound,
    MediaUnavailable,
    check_key,
    content_type_for,
    is_content_addressed,
)
from lumagate.media.local import LocalBackend

__all__ = [
    "MAX_KEY_LENGTH",
    "SNIFF_BYTES",
    "SUFFIX_TYPES",
    "LocalBackend",
    "MediaError",
    "MediaFetchError",
    "MediaNotFound",
    "MediaRefused",
    "MediaStore",
    "MediaUnavailable",
    "check_key",
    "content_type_for",
    "is_content_addressed",
]

UPLOADS_FOLDER = "uploads"
DEFAULT_PRESIGN_SECONDS = 3600.0

_SUFFIX_RE = re.compile(r"\.[A-Za-z0-9]{1,10}")


class MediaFetchError(MediaError):
    """A remote image could not be fetched or is not an acceptable image.

    ``reason`` says why in words a tenant may read (their host, an HTTP status, a size; never
    an address); :meth:`describe` names the request field the URL came from.
    """

    def __init__(self, reason: str) -> None:
        super().__init__(f"the image could not be fetched: {reason}")
        self.reason = reason

    def describe(self, field: str) -> Text:
        return msg.IMAGE_NOT_FETCHED(field=field, reason=self.reason)


class MediaRefused(MediaFetchError):
    """A tenant's URL (or a redirect from it) names a target the SSRF guard refuses; decided
    before any connection to it."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.message = f"the image URL is not allowed: {reason}"

    def describe(self, field: str) -> Text:
        return msg.IMAGE_NOT_ALLOWED(field=field, reason=self.reason)


def _is_http_url(ref: str) -> bool:
    return ref[:8].lower().startswith(("http://", "https://"))


def _normalize_suffix(suffix: str) -> str:
    if not suffix:
        return ""
    if not suffix.startswith("."):
        suffix = "." + suffix
    if not _SUFFIX_RE.fullmatch(suffix):
        raise ValueError(f"invalid file suffix {suffix!r}")
    return suffix.lower()


class LinkSigning(Protocol):
    """Signs ``/files`` links and checks them (``security/link_signing.py``)."""

    def query(self, key: str) -> str: ...

    def valid(self, key: str, params: Mapping[str, str]) -> bool: ...


class MediaStore:
    """Media addressed by keys in a :class:`MediaBackend`, published under
    ``<public_base_url>/files/``.

    ``backend`` is a backend, or a directory for the local one (as before backends existed).
    Remote images (tenant URLs) are fetched only through ``fetcher``, in the server a
    :class:`~lumagate.security.guarded_fetch.GuardedFetcher` (the SSRF guard on every hop, a
    size cap, a timeout); without one, every remote URL is refused.
    With a ``signer``, links carry an expiring signature that ``/files`` checks
    (:meth:`link_valid`). With ``serve_by_redirect`` and a backend that presigns (S3),
    ``/files`` redirects to a URL of the object store valid for ``presign_seconds``.
    """

    def __init__(
        self,
        backend: MediaBackend | Path,
        public_base_url: str,
        fetcher: UrlFetcher | None = None,
        signer: LinkSigning | None = None,
        *,
        serve_by_redirect: bool = False,
        presign_seconds: float = DEFAULT_PRESIGN_SECONDS,
    ) -> None:
        self.serve_by_redirect = serve_by_redirect
        self.presign_seconds = presign_seconds
        self._backend: MediaBackend = (
            LocalBackend(backend) if isinstance(backend, Path) else backend
        )
        self._public_base_url = public_base_url.rstrip("/")
        self._fetcher = fetcher
        self._signer = signer

    @property
    def backend(self) -> MediaBackend:
        return self._backend

    @property
    def local(self) -> LocalBackend | None:
        """The local backend, when media live in the data dir; None with object storage."""
        return self._backend if isinstance(self._backend, LocalBackend) else None

    def _require_local(self) -> LocalBackend:
        if not isinstance(self._backend, LocalBackend):
            raise TypeError("this media store keeps no files on this machine's disk")
        return self._backend

    @property
    def root(self) -> Path:
        """The resolved media directory (local backend only)."""
        return self._require_local().root

    @property
    def public_base_url(self) -> str:
        return self._public_base_url

    # -- keys and paths (local backend) -----------------------------------------------------

    def path_for(self, key: str) -> Path:
        """The resolved path of ``key`` inside :attr:`root` (local backend only).

        Raises :class:`MediaNotFound` (a ``ValueError``) for malformed keys and for keys that
        resolve outside the root, e.g. through a symlink.
        """
        return self._require_local().path_for(key)

    def dir_for(self, key_prefix: str) -> Path:
        """A directory for a producer, e.g. ``videos/<task id>``; created if missing."""
        return self._require_local().dir_for(key_prefix)

    def key_for(self, path: Path) -> str:
        """The key of a path inside :attr:`root` — the inverse of :meth:`path_for`."""
        return self._require_local().key_for(path)

    # -- any backend ------------------------------------------------------------------------

    async def stat(self, key: str) -> MediaObject | None:
        """The stored object at ``key`` or None (also None for a malformed key)."""
        try:
            return await self._backend.stat(check_key(key))
        except MediaNotFound:
            return None

    async def exists(self, key: str) -> bool:
        return await self.stat(key) is not None

    async def put_stream(self, key: str, chunks: AsyncIterator[bytes], content_type: str) -> None:
        """Store a stream of bytes under ``key`` (see :meth:`MediaBackend.put_stream`)."""
        await self._backend.put_stream(check_key(key), chunks, content_type)

    async def put_file(self, key: str, path: Path, content_type: str | None = None) -> None:
        """Store (and consume) the local file ``path`` under ``key``."""
        kind = content_type or content_type_for(key)
        await self._backend.put_file(check_key(key), path, kind)

    async def presigned_url(self, key: str) -> str | None:
        """A direct URL of the object store for ``key``, or None if the backend has none."""
        return await self._backend.presigned_url(check_key(key), self.presign_seconds)

    async def delete(self, key: str) -> bool:
        return await self._backend.delete(check_key(key))

    def list(self, prefix: str = "") -> AsyncIterator[MediaObject]:
        return self._backend.list(prefix)

    # -- writing ----------------------------------------------------------------------------

    @staticmethod
    def content_key(data: bytes, folder: str, suffix: str) -> str:
        """``<folder>/<xx>/<sha256><suffix>``: where :meth:`save_bytes` keeps ``data``."""
        check_key(folder)
        suffix = _normalize_suffix(suffix)
        digest = hashlib.sha256(data).hexdigest()
        return check_key(f"{folder}/{digest[:2]}/{digest}{suffix}")

    def save_bytes(self, data: bytes, folder: str, suffix: str) -> str:
        """Store ``data`` as ``<folder>/<xx>/<sha256><suffix>`` and return that key (local
        backend, blocking; :meth:`asave_bytes` works with every backend).

        Content-addressed and idempotent: saving the same bytes again returns the same key
        without rewriting. Written to a temporary file in the target directory, then moved into
        place with ``os.replace``, so readers never see a partial file.
        """
        local = self._require_local()
        key = self.content_key(data, folder, suffix)
        found = local.stat_sync(key)
        if found is None or found.size != len(data):
            local.write_bytes(key, data)
        return key

    async def asave_bytes(self, data: bytes, folder: str, suffix: str) -> str:
        """:meth:`save_bytes` for any backend, without blocking the event loop."""
        if isinstance(self._backend, LocalBackend):
            return await asyncio.to_thread(self.save_bytes, data, folder, suffix)
        key = self.content_key(data, folder, suffix)
        found = await self._backend.stat(key)
        if found is None or found.size != len(data):
            kind = sniff_image_type(data[:SNIFF_BYTES]) or content_type_for(key)
            await self._backend.put_bytes(key, data, kind)
        return key

    async def store_image_input(
        self, value: object, max_bytes: int = DEFAULT_MAX_IMAGE_BYTES, *, host_urls: bool = False
    ) -> str | None:
        """Turn a client's image field into an asset reference.

        Absent → None; an http(s) URL → checked by the SSRF guard (:class:`MediaRefused` before
        any connection) and returned unchanged, or with ``host_urls`` fetched and saved under
        ``uploads/`` (:class:`MediaFetchError`); a data URI → saved under ``uploads/``. Both
        stored forms are ``media:<key>``. Raises :class:`lumagate.media.images.InvalidImage`
        for anything else.
        """
        image = classify_image_input(value, max_bytes)
        if image is None:
            return None
        if isinstance(image, ImageUrl):
            await self.check_remote(image.url)
            if not host_urls:
                return image.url
            data, content_type = await self._fetch_image(image.url, max_bytes)
            key = await self.asave_bytes(data, UPLOADS_FOLDER, IMAGE_SUFFIXES[content_type])
            return media_ref(key)
        key = await self.asave_bytes(image.data, UPLOADS_FOLDER, image.suffix)
        return media_ref(key)

    async def check_remote(self, url: str) -> None:
        """Refuse (:class:`MediaRefused`) a URL the SSRF guard forbids; connects to nothing."""
        if self._fetcher is None:
            raise MediaRefused("this gateway fetches no remote images")
        try:
            await self._fetcher.precheck(url)
        except UrlRefused as exc:
            raise MediaRefused(exc.reason) from None

    # -- MediaAccess ------------------------------------------------------------------------

    def public_url(self, ref: str) -> str:
        """``media:<key>`` → ``<public_base_url>/files/<key>``; http(s) URLs are unchanged."""
        if is_media_ref(ref):
            key = check_key(media_key(ref))
            quoted = "/".join(quote(segment, safe="") for segment in key.split("/"))
            url = f"{self._public_base_url}/files/{quoted}"
            return url if self._signer is None else f"{url}?{self._signer.query(key)}"
        if _is_http_url(ref):
            return ref
        raise ValueError(f"not a media reference or http(s) URL: {ref[:100]!r}")

    def link_valid(self, key: str, params: Mapping[str, str]) -> bool:
        """Whether a ``/files/<key>`` request may be served: always, unless links are signed."""
        return self._signer is None or self._signer.valid(key, params)

    async def read(self, ref: str) -> tuple[bytes, str]:
        """The bytes and content type of a ``media:`` key or of an image at an http(s) URL.

        Raises :class:`MediaNotFound` for missing or invalid keys, :class:`MediaRefused` for a
        URL the SSRF guard forbids and :class:`MediaFetchError` when the fetch fails or its
        bytes are not an acceptable image.
        """
        if is_media_ref(ref):
            key = check_key(media_key(ref))
            data = await self._backend.read_bytes(key)
            return data, content_type_for(key, data[:SNIFF_BYTES])
        if _is_http_url(ref):
            return await self._fetch_image(ref, None)
        raise MediaNotFound(f"not a media reference or http(s) URL: {ref[:100]!r}")

    async def _fetch_image(self, url: str, max_bytes: int | None) -> tuple[bytes, str]:
        if self._fetcher is None:
            raise MediaRefused("this gateway fetches no remote images")
        try:
            fetched = await self._fetcher.fetch(url)
        except UrlRefused as exc:
            raise MediaRefused(exc.reason) from None
        except FetchFailed as exc:
            raise MediaFetchError(exc.reason) from None
        data = fetched.data
        if max_bytes is not None and len(data) > max_bytes:
            raise MediaFetchError(f"the file at {fetched.host} is larger than the image limit")
        content_type = sniff_image_type(data[:SNIFF_BYTES])
        if content_type is None:
            raise MediaFetchError(f"the file at {fetched.host} is not a PNG, JPEG, WebP or GIF")
        try:
            await asyncio.to_thread(check_pixels, data)
        except InvalidImage as exc:
            raise MediaFetchError(f"the file at {fetched.host}: {exc.message}") from None
        return data, content_type
