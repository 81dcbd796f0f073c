"""Images for start and end frames: a URL passes as is; a path or bytes becomes a data URI.

The gateway validates the bytes again (``media/images.py``); the sniffing here only picks the
media type of the data URI and refuses what the gateway would refuse anyway, before sending it.
"""

from __future__ import annotations

import base64
from pathlib import Path

from lumagate.client.errors import ValidationError

ImageInput = str | Path | bytes
"""An ``http(s)://`` URL, a ``data:image/...`` URI, a file path (``str`` or ``Path``) or bytes."""

_SIGNATURES = (
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
)


def media_type(data: bytes) -> str:
    """The image type of ``data`` by its first bytes (PNG, JPEG, WebP, GIF)."""
    for signature, kind in _SIGNATURES:
        if data.startswith(signature):
            return kind
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    raise ValidationError("the image is not a PNG, JPEG, WebP or GIF", code="invalid_image")


def data_uri(data: bytes) -> str:
    return f"data:{media_type(data)};base64,{base64.b64encode(data).decode('ascii')}"


def is_remote(value: str) -> bool:
    return value.startswith(("http://", "https://", "data:"))


def image_bytes(image: ImageInput) -> bytes:
    """The bytes of a path or bytes input (a URL has none here)."""
    if isinstance(image, bytes):
        return image
    path = Path(image)
    try:
        return path.read_bytes()
    except OSError as error:
        raise ValidationError(
            f"cannot read the image {path}: {error.strerror}", code="invalid_image"
        ) from None


def image_reference(image: ImageInput | None) -> str | None:
    """What goes into ``image_url`` / ``image_end_url``: the URL, or a data URI of the bytes."""
    if image is None:
        return None
    if isinstance(image, str) and is_remote(image):
        return image
    return data_uri(image_bytes(image))
