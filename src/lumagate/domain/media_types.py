"""The content type of a media file by its suffix: one table for the media store and mirroring.

Mirroring plans a copy's content type before any byte is fetched (``domain/mirroring.py``),
and the media store serves a stored file by its name (``media/keys.py``); both read this table,
so a copied video and a served one are labelled alike.
"""

from __future__ import annotations

import os

OCTET_STREAM = "application/octet-stream"

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


def type_by_suffix(name: str) -> str:
    """The content type of the file (or key) ``name`` by its suffix."""
    return SUFFIX_TYPES.get(os.path.splitext(name)[1].lower(), OCTET_STREAM)
