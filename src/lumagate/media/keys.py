"""Media keys and their rules, shared by every media backend and the media store.

A *key* is a relative, ``/``-separated name such as ``uploads/ab/<sha256>.png`` or
``videos/<folder>/video.mp4``. Keys reach the gateway from URLs typed by strangers, so every
backend checks them with :func:`check_key` before touching storage (the local backend also
refuses symlink escapes). The errors live here so backends and the store raise the same ones.
"""

from __future__ import annotations

import re

from lumagate.domain.media_types import type_by_suffix
from lumagate.media.images import sniff_image_type

MAX_KEY_LENGTH = 1024
SNIFF_BYTES = 16


_DIGEST_NAME_RE = re.compile(r"([0-9a-f]{64})(\.[A-Za-z0-9]{1,10})?")


class MediaError(Exception):
    """Base of the media store's errors; ``message`` can be shown to users."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class MediaNotFound(MediaError, ValueError):
    """A key or reference that names no file inside the store: malformed, escaping, or missing."""


class MediaUnavailable(MediaError):
    """The media backend could not be reached or refused the operation (not a missing key)."""


def content_type_for(name: str, head: bytes = b"") -> str:
    """The content type of a file: sniffed from its first bytes if an image, else by suffix."""
    sniffed = sniff_image_type(head)
    if sniffed is not None:
        return sniffed
    return type_by_suffix(name)


def check_key(key: str) -> str:
    """Return ``key`` if it is a well-formed relative key; raise :class:`MediaNotFound` if not.

    Purely syntactic: no absolute paths, empty, ``.`` or ``..`` segments, backslashes, control
    characters (NUL included) or keys over 1024 characters. Symlinks are checked by the local
    backend's ``path_for``.
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


def check_prefix(prefix: str) -> str:
    """A listing prefix: empty (everything) or a key, optionally ending in ``/``."""
    if prefix == "":
        return prefix
    check_key(prefix.rstrip("/"))
    return prefix


def is_content_addressed(key: str) -> bool:
    """True for keys written by ``MediaStore.save_bytes`` (``<folder>/<xx>/<sha256><sfx>``).

    Such files never change, so they may be cached forever.
    """
    parts = key.split("/")
    if len(parts) < 3:
        return False
    match = _DIGEST_NAME_RE.fullmatch(parts[-1])
    return match is not None and parts[-2] == match.group(1)[:2]
