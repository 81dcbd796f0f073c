"""Validation of the images clients send: an http(s) URL or a base64 ``data:image/...`` URI.

This module does no I/O. It exists so every dialect accepts and rejects the same inputs with the
same messages, and so that a declared content type is never trusted: the bytes of a data URI must
look like a supported image (PNG, JPEG, WebP, GIF) by their magic numbers, and their header's
pixel size must be within the limits of :mod:`lumagate.media.image_size`.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from urllib.parse import urlsplit

from lumagate.domain import messages as msg
from lumagate.domain.messages import MessageError, Text
from lumagate.media.image_size import ImageTooLarge, UnreadableImage, check_image_bytes

DEFAULT_MAX_IMAGE_BYTES = 10 * 1024 * 1024
MAX_URL_LENGTH = 2048

IMAGE_SUFFIXES: dict[str, str] = {
    "image/png": ".png",
    "image/jpeg": ".jpg",
    "image/webp": ".webp",
    "image/gif": ".gif",
}

_ACCEPTED = msg.IMAGE_ACCEPTED()


class InvalidImage(MessageError):
    """An image input the gateway refuses; ``str(exc)`` (``message``) is the English text fit
    for the client, ``text`` the catalogue entry to render in the client's language."""

    def __init__(self, text: Text) -> None:
        super().__init__(text)
        self.message = str(self)


@dataclass(frozen=True)
class ImageUrl:
    """An image someone else hosts; passed on as is."""

    url: str


@dataclass(frozen=True)
class ImageData:
    """Decoded image bytes and their sniffed content type."""

    data: bytes
    content_type: str

    @property
    def suffix(self) -> str:
        """The file suffix for :attr:`content_type`, e.g. ``.png``."""
        return IMAGE_SUFFIXES[self.content_type]


ImageInput = ImageUrl | ImageData


def sniff_image_type(data: bytes) -> str | None:
    """The content type of ``data`` judged by its magic bytes alone, or None if unsupported."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    if data.startswith((b"GIF87a", b"GIF89a")):
        return "image/gif"
    return None


def format_size(n_bytes: int) -> str:
    """``10485760`` → ``"10 MB"``; small limits in KB or bytes so messages stay readable."""
    mib = 1024 * 1024
    if n_bytes >= mib:
        return f"{n_bytes / mib:.4g} MB"
    if n_bytes >= 1024:
        return f"{n_bytes / 1024:.4g} KB"
    return f"{n_bytes} bytes"


def _too_large(max_bytes: int) -> InvalidImage:
    return InvalidImage(msg.IMAGE_LARGER_THAN(size=format_size(max_bytes)))


def decode_data_uri(uri: str, max_bytes: int) -> tuple[bytes, str]:
    """Decode ``data:image/<x>[;param=v];base64,<data>`` into bytes and their sniffed type.

    Raises :class:`InvalidImage` when the URI is of another form, the base64 is not strict
    (no whitespace, correct padding), the decoded size exceeds ``max_bytes``, or the bytes are
    not a PNG, JPEG, WebP or GIF whatever type the URI declares.
    """
    if uri[:5].lower() != "data:":
        raise InvalidImage(msg.IMAGE_MUST_BE(accepted=_ACCEPTED))
    header, comma, payload = uri[5:].partition(",")
    if not comma:
        raise InvalidImage(msg.DATA_URI_NO_COMMA(accepted=_ACCEPTED))
    params = [p.strip().lower() for p in header.split(";")]
    declared = params[0]
    if not declared.startswith("image/") or len(declared) == len("image/"):
        raise InvalidImage(msg.DATA_URI_TYPE(declared=repr(declared or "none")))
    if params[-1] != "base64":
        raise InvalidImage(msg.DATA_URI_BASE64())
    # Reject before decoding: 4 base64 characters carry 3 bytes.
    if (len(payload) // 4) * 3 - 2 > max_bytes:
        raise _too_large(max_bytes)
    try:
        data = base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise InvalidImage(msg.DATA_URI_BAD_BASE64()) from exc
    if len(data) > max_bytes:
        raise _too_large(max_bytes)
    if not data:
        raise InvalidImage(msg.DATA_URI_EMPTY())
    sniffed = sniff_image_type(data)
    if sniffed is None:
        raise InvalidImage(msg.DATA_URI_NOT_IMAGE(declared=declared))
    check_pixels(data)
    return data, sniffed


def check_pixels(data: bytes) -> None:
    """Refuse image bytes whose header is unreadable or whose pixel size is over the limits."""
    try:
        check_image_bytes(data)
    except ImageTooLarge as exc:
        raise InvalidImage(exc.text) from None
    except UnreadableImage:
        raise InvalidImage(msg.IMAGE_NOT_DECODABLE()) from None


def validate_image_url(url: str) -> str:
    """Return ``url`` if it is an absolute http(s) URL with a host, ≤ 2048 characters."""
    if len(url) > MAX_URL_LENGTH:
        raise InvalidImage(msg.IMAGE_URL_TOO_LONG(maximum=MAX_URL_LENGTH))
    if any(ch.isspace() or ord(ch) < 0x20 or ord(ch) == 0x7F for ch in url):
        raise InvalidImage(msg.IMAGE_URL_WHITESPACE())
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise InvalidImage(msg.IMAGE_URL_MALFORMED(detail=exc)) from exc
    if parts.scheme.lower() not in ("http", "https"):
        raise InvalidImage(msg.IMAGE_MUST_BE(accepted=_ACCEPTED))
    if not parts.hostname:
        raise InvalidImage(msg.IMAGE_URL_NO_HOST())
    if port == 0:
        raise InvalidImage(msg.IMAGE_URL_PORT())
    return url


def classify_image_input(
    value: object, max_bytes: int = DEFAULT_MAX_IMAGE_BYTES
) -> ImageInput | None:
    """Sort a client's image field into absent (None), a URL, or decoded data.

    ``None``, ``""`` and whitespace-only strings are absent. Strings starting with ``http://`` or
    ``https://`` (any case) must be valid URLs; ``data:`` strings are decoded with
    :func:`decode_data_uri`. Anything else — another type, another scheme, garbage — raises
    :class:`InvalidImage`.
    """
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidImage(msg.IMAGE_MUST_BE_STRING(accepted=_ACCEPTED))
    text = value.strip()
    if not text:
        return None
    lowered = text[:8].lower()
    if lowered.startswith(("http://", "https://")):
        return ImageUrl(validate_image_url(text))
    if lowered.startswith("data:"):
        data, content_type = decode_data_uri(text, max_bytes)
        return ImageData(data, content_type)
    raise InvalidImage(msg.IMAGE_MUST_BE(accepted=_ACCEPTED))
