"""The gateway's file store: content-addressed uploads and produced media under one directory.

Everything the gateway keeps on disk lives under ``root`` and is named by a *key* — a relative,
``/``-separated path such as ``uploads/ab/<sha256>.png`` or ``videos/<task id>/video.mp4``. Tasks
store ``media:<key>`` references, never paths or URLs, so the media directory and the public URL
can both move. Every key is confined to ``root`` (no ``..``, absolute paths or symlink escapes),
because keys reach this module from URLs typed by strangers.

:class:`MediaStore` implements :class:`lumagate.providers.base.MediaAccess`: providers read
assets (local or remote) through it and ask it for public links.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import re
import tempfile
from collections.abc import AsyncIterator, Mapping
from pathlib import Path
from typing import BinaryIO, Protocol
from urllib.parse import quote

from lumagate.domain.fetching import FetchFailed, UrlFetcher, UrlRefused
from lumagate.domain.request import is_media_ref, media_key, media_ref
from lumagate.media.file_modes import PRIVATE_FILE, private_dir
from lumagate.media.images import (
    DEFAULT_MAX_IMAGE_BYTES,
    IMAGE_SUFFIXES,
    ImageUrl,
    InvalidImage,
    check_pixels,
    classify_image_input,
    sniff_image_type,
)

UPLOADS_FOLDER = "uploads"
MAX_KEY_LENGTH = 1024
SNIFF_BYTES = 16

SUFFIX_TYPES: dict[str, str] = {
    ".mp4": "video/mp4",
    ".webm": "video/webm",
    ".mov": "video/quicktime",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".png": "image/png",
    ".webp": "image/webp",
    ".gif": "image/gif",
    ".json": "application/json",
}

_SUFFIX_RE = re.compile(r"\.[A-Za-z0-9]{1,10}")
_DIGEST_NAME_RE = re.compile(r"([0-9a-f]{64})(\.[A-Za-z0-9]{1,10})?")


class MediaError(Exception):
    """Base of the media store's errors; ``message`` can be shown to users."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class MediaNotFound(MediaError, ValueError):
    """A key or reference that names no file inside the store: malformed, escaping, or missing."""


class MediaFetchError(MediaError):
    """A remote image could not be fetched or is not an acceptable image.

    ``reason`` says why in words a tenant may read (their host, an HTTP status, a size; never
    an address); :meth:`describe` names the request field the URL came from.
    """

    def __init__(self, reason: str) -> None:
        super().__init__(f"the image could not be fetched: {reason}")
        self.reason = reason

    def describe(self, field: str) -> str:
        return f"the image at {field} could not be fetched: {self.reason}"


class MediaRefused(MediaFetchError):
    """A tenant's URL (or a redirect from it) names a target the SSRF guard refuses; decided
    before any connection to it."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.message = f"the image URL is not allowed: {reason}"

    def describe(self, field: str) -> str:
        return f"the image at {field} is not allowed: {self.reason}"


def content_type_for(name: str, head: bytes = b"") -> str:
    """The content type of a file: sniffed from its first bytes if an image, else by suffix."""
    sniffed = sniff_image_type(head)
    if sniffed is not None:
        return sniffed
    return SUFFIX_TYPES.get(os.path.splitext(name)[1].lower(), "application/octet-stream")


def check_key(key: str) -> str:
    """Return ``key`` if it is a well-formed relative key; raise :class:`MediaNotFound` if not.

    Purely syntactic: no absolute paths, empty, ``.`` or ``..`` segments, backslashes, control
    characters (NUL included) or keys over 1024 characters. Symlinks are checked by
    :meth:`MediaStore.path_for`.
    """
    if not key or len(key) > MAX_KEY_LENGTH:
        raise MediaNotFound("invalid media key: empty or too long")
    if "\\" in key or any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in key):
        raise MediaNotFound("invalid media key: backslash or control character")
    if key.startswith("/"):
        raise MediaNotFound("invalid media key: absolute path")
    if any(segment in ("", ".", "..") for segment in key.split("/")):
        raise MediaNotFound("invalid media key: empty, '.' or '..' segment")
    return key


def is_content_addressed(key: str) -> bool:
    """True for keys written by :meth:`MediaStore.save_bytes` (``<folder>/<xx>/<sha256><sfx>``).

    Such files never change, so they may be cached forever.
    """
    parts = key.split("/")
    if len(parts) < 3:
        return False
    match = _DIGEST_NAME_RE.fullmatch(parts[-1])
    return match is not None and parts[-2] == match.group(1)[:2]


def _sync_and_close(handle: BinaryIO) -> None:
    handle.flush()
    os.fsync(handle.fileno())
    handle.close()


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
    """Files under ``root`` addressed by keys, published under ``<public_base_url>/files/``.

    Remote images (tenant URLs) are fetched only through ``fetcher``, in the server a
    :class:`~lumagate.security.guarded_fetch.GuardedFetcher` (the SSRF guard on every hop, a
    size cap, a timeout); without one, every remote URL is refused.
    Directories are made 0700 and files 0600. With a ``signer``, links carry an
    expiring signature that ``/files`` checks (:meth:`link_valid`).
    """

    def __init__(
        self,
        root: Path,
        public_base_url: str,
        fetcher: UrlFetcher | None = None,
        signer: LinkSigning | None = None,
    ) -> None:
        self._root = Path(root).resolve()
        self._public_base_url = public_base_url.rstrip("/")
        self._fetcher = fetcher
        self._signer = signer

    @property
    def root(self) -> Path:
        """The resolved media directory."""
        return self._root

    @property
    def public_base_url(self) -> str:
        return self._public_base_url

    # -- keys and paths ---------------------------------------------------------------------

    def path_for(self, key: str) -> Path:
        """The resolved path of ``key``, guaranteed inside :attr:`root` (it may not exist yet).

        Raises :class:`MediaNotFound` (a ``ValueError``) for malformed keys and for keys that
        resolve outside the root, e.g. through a symlink.
        """
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

    # -- writing ----------------------------------------------------------------------------

    def save_bytes(self, data: bytes, folder: str, suffix: str) -> str:
        """Store ``data`` as ``<folder>/<xx>/<sha256><suffix>`` and return that key.

        Content-addressed and idempotent: saving the same bytes again returns the same key
        without rewriting. Written to a temporary file in the target directory, then moved into
        place with ``os.replace``, so readers never see a partial file.
        """
        check_key(folder)
        suffix = _normalize_suffix(suffix)
        digest = hashlib.sha256(data).hexdigest()
        key = f"{folder}/{digest[:2]}/{digest}{suffix}"
        path = self.path_for(key)
        with contextlib.suppress(OSError):
            if path.is_file() and path.stat().st_size == len(data):
                return key
        private_dir(path.parent)
        self.path_for(key)  # re-check confinement now that the directories exist
        fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=suffix)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.chmod(tmp_name, PRIVATE_FILE)
            os.replace(tmp_name, path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp_name)
            raise
        return key

    async def put_stream(self, key: str, chunks: AsyncIterator[bytes], content_type: str) -> None:
        """Store the bytes of ``chunks`` under ``key``, replacing what was there.

        Written as it arrives to a temporary file beside the target (0600, in 0700
        directories), synced, then renamed into place: readers see the old file or the whole
        new one, never a part, and a copy cut short leaves only a ``.tmp-`` file. The local
        store serves by the key's suffix, so ``content_type`` is not kept here (the S3 store
        keeps it).
        """
        del content_type
        path = self.path_for(key)
        await asyncio.to_thread(private_dir, path.parent)
        self.path_for(key)  # re-check confinement now that the directories exist
        fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=path.suffix)
        handle = os.fdopen(fd, "wb")
        try:
            async for chunk in chunks:
                await asyncio.to_thread(handle.write, chunk)
            await asyncio.to_thread(_sync_and_close, handle)
            os.chmod(tmp_name, PRIVATE_FILE)
            os.replace(tmp_name, path)
        except BaseException:
            handle.close()
            with contextlib.suppress(OSError):
                os.unlink(tmp_name)
            raise

    async def asave_bytes(self, data: bytes, folder: str, suffix: str) -> str:
        """:meth:`save_bytes` in a worker thread."""
        return await asyncio.to_thread(self.save_bytes, data, folder, suffix)

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
            return await asyncio.to_thread(self._read_local, media_key(ref))
        if _is_http_url(ref):
            return await self._fetch_image(ref, None)
        raise MediaNotFound(f"not a media reference or http(s) URL: {ref[:100]!r}")

    def _read_local(self, key: str) -> tuple[bytes, str]:
        path = self.path_for(key)
        try:
            if not path.is_file():
                raise MediaNotFound(f"media file not found: {key}")
            data = path.read_bytes()
        except FileNotFoundError as exc:
            raise MediaNotFound(f"media file not found: {key}") from exc
        return data, content_type_for(path.name, data[:SNIFF_BYTES])

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
