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
from pathlib import Path
from urllib.parse import quote

import httpx

from lumagate.domain.request import is_media_ref, media_key, media_ref
from lumagate.media.images import (
    DEFAULT_MAX_IMAGE_BYTES,
    ImageUrl,
    classify_image_input,
    format_size,
    sniff_image_type,
)

UPLOADS_FOLDER = "uploads"
DEFAULT_MAX_FETCH_BYTES = 20 * 1024 * 1024
DEFAULT_FETCH_TIMEOUT = 30.0
MAX_REDIRECTS = 3
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
    """A remote asset could not be fetched: network error, bad status, too large, too slow."""


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


def _is_http_url(ref: str) -> bool:
    return ref[:8].lower().startswith(("http://", "https://"))


def _short(url: str) -> str:
    return url if len(url) <= 120 else url[:117] + "..."


def _normalize_suffix(suffix: str) -> str:
    if not suffix:
        return ""
    if not suffix.startswith("."):
        suffix = "." + suffix
    if not _SUFFIX_RE.fullmatch(suffix):
        raise ValueError(f"invalid file suffix {suffix!r}")
    return suffix.lower()


class MediaStore:
    """Files under ``root`` addressed by keys, published under ``<public_base_url>/files/``.

    ``http_client`` is used for fetching http(s) assets; without one a short-lived client is
    made per fetch. Remote fetches follow at most 3 redirects, take at most ``fetch_timeout``
    seconds in total and at most ``max_fetch_bytes`` bytes.
    """

    def __init__(
        self,
        root: Path,
        public_base_url: str,
        http_client: httpx.AsyncClient | None = None,
        max_fetch_bytes: int = DEFAULT_MAX_FETCH_BYTES,
        fetch_timeout: float = DEFAULT_FETCH_TIMEOUT,
    ) -> None:
        self._root = Path(root).resolve()
        self._public_base_url = public_base_url.rstrip("/")
        self._http = http_client
        self._max_fetch_bytes = max_fetch_bytes
        self._fetch_timeout = fetch_timeout

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
        path.mkdir(parents=True, exist_ok=True)
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
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path_for(key)  # re-check confinement now that the directories exist
        fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=suffix)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.chmod(tmp_name, 0o644)
            os.replace(tmp_name, path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp_name)
            raise
        return key

    async def asave_bytes(self, data: bytes, folder: str, suffix: str) -> str:
        """:meth:`save_bytes` in a worker thread."""
        return await asyncio.to_thread(self.save_bytes, data, folder, suffix)

    async def store_image_input(
        self, value: object, max_bytes: int = DEFAULT_MAX_IMAGE_BYTES
    ) -> str | None:
        """Turn a client's image field into an asset reference.

        Absent → None; an http(s) URL → the URL unchanged; a data URI → saved under
        ``uploads/`` and returned as ``media:<key>``. Raises
        :class:`lumagate.media.images.InvalidImage` for anything else.
        """
        image = classify_image_input(value, max_bytes)
        if image is None:
            return None
        if isinstance(image, ImageUrl):
            return image.url
        key = await self.asave_bytes(image.data, UPLOADS_FOLDER, image.suffix)
        return media_ref(key)

    # -- MediaAccess ------------------------------------------------------------------------

    def public_url(self, ref: str) -> str:
        """``media:<key>`` → ``<public_base_url>/files/<key>``; http(s) URLs are unchanged."""
        if is_media_ref(ref):
            key = check_key(media_key(ref))
            quoted = "/".join(quote(segment, safe="") for segment in key.split("/"))
            return f"{self._public_base_url}/files/{quoted}"
        if _is_http_url(ref):
            return ref
        raise ValueError(f"not a media reference or http(s) URL: {ref[:100]!r}")

    async def read(self, ref: str) -> tuple[bytes, str]:
        """The bytes and content type of a ``media:`` key or an http(s) URL.

        Raises :class:`MediaNotFound` for missing or invalid keys and :class:`MediaFetchError`
        when a remote fetch fails.
        """
        if is_media_ref(ref):
            return await asyncio.to_thread(self._read_local, media_key(ref))
        if _is_http_url(ref):
            return await self._fetch(ref)
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

    async def _fetch(self, url: str) -> tuple[bytes, str]:
        try:
            async with asyncio.timeout(self._fetch_timeout):
                if self._http is not None:
                    return await self._fetch_with(self._http, url)
                async with httpx.AsyncClient(timeout=self._fetch_timeout) as client:
                    return await self._fetch_with(client, url)
        except TimeoutError as exc:
            raise MediaFetchError(
                f"fetching {_short(url)} timed out after {self._fetch_timeout:g} s"
            ) from exc
        except (httpx.HTTPError, httpx.InvalidURL) as exc:
            detail = str(exc) or type(exc).__name__
            raise MediaFetchError(f"fetching {_short(url)} failed: {detail}") from exc

    async def _fetch_with(self, client: httpx.AsyncClient, url: str) -> tuple[bytes, str]:
        request = client.build_request("GET", url, timeout=self._fetch_timeout)
        for _ in range(MAX_REDIRECTS + 1):
            response = await client.send(request, stream=True, follow_redirects=False)
            try:
                if response.next_request is not None:
                    request = response.next_request
                    if request.url.scheme not in ("http", "https"):
                        raise MediaFetchError(
                            f"fetching {_short(url)} failed: redirect to a non-http(s) URL"
                        )
                    continue
                if not response.is_success:
                    raise MediaFetchError(
                        f"fetching {_short(url)} failed: HTTP {response.status_code}"
                    )
                return await self._read_body(response, url)
            finally:
                await response.aclose()
        raise MediaFetchError(f"fetching {_short(url)} failed: more than {MAX_REDIRECTS} redirects")

    async def _read_body(self, response: httpx.Response, url: str) -> tuple[bytes, str]:
        limit = self._max_fetch_bytes
        too_large = MediaFetchError(
            f"fetching {_short(url)} failed: larger than {format_size(limit)}"
        )
        declared = response.headers.get("content-length")
        if declared is not None and declared.strip().isdigit() and int(declared) > limit:
            raise too_large
        body = bytearray()
        async for chunk in response.aiter_bytes():
            body.extend(chunk)
            if len(body) > limit:
                raise too_large
        data = bytes(body)
        sniffed = sniff_image_type(data[:SNIFF_BYTES])
        if sniffed is not None:
            return data, sniffed
        header_type = response.headers.get("content-type", "").split(";")[0].strip().lower()
        return data, header_type or "application/octet-stream"
