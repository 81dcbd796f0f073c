"""Pixel limits of the images the gateway accepts, read from the file header before decoding.

A 13000x13000 PNG of one colour is under 0.5 MB on the wire and 500 MB decoded: the byte limit
of an upload says nothing about its cost. Every image therefore has its pixel size read from its
header (Pillow's ``Image.open`` parses headers lazily and decodes nothing) and is refused when a
side is over :data:`MAX_IMAGE_SIDE` or the area over :data:`MAX_IMAGE_PIXELS` — 8192 pixels a
side and 40 megapixels, far above any video frame the gateway makes (4K is 3840x2160). At that
limit one decoded image costs at most 160 MB (RGBA), which bounds the renderer's memory per
image; the renderer also shrinks an image to the frame before any further copy.
"""

from __future__ import annotations

import io
import warnings

from lumagate.domain import messages as msg
from lumagate.domain.messages import MessageError

MAX_IMAGE_SIDE = 8192
MAX_IMAGE_PIXELS = 40_000_000


class ImageTooLarge(MessageError):
    """The image's pixel size is over the limits; ``str(exc)`` is fit for the client."""


class UnreadableImage(ValueError):
    """The bytes have no image header Pillow can read."""


def pixel_size(data: bytes) -> tuple[int, int]:
    """Width and height from the header of ``data``, without decoding the pixels."""
    from PIL import Image  # Pillow loads with the first image, not with the server (~2 MiB)

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as image:
                width, height = image.size
    except Image.DecompressionBombError as exc:
        raise ImageTooLarge(msg.IMAGE_TOO_LARGE_TO_PROCESS(detail=exc)) from None
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        raise UnreadableImage(f"image header cannot be read: {exc}") from None
    return int(width), int(height)


def check_pixel_size(width: int, height: int) -> None:
    """Raise :class:`ImageTooLarge` when ``width`` x ``height`` is over the documented limits."""
    if width > MAX_IMAGE_SIDE or height > MAX_IMAGE_SIDE or width * height > MAX_IMAGE_PIXELS:
        raise ImageTooLarge(
            msg.IMAGE_PIXELS(
                width=width,
                height=height,
                side=MAX_IMAGE_SIDE,
                megapixels=MAX_IMAGE_PIXELS // 1_000_000,
            )
        )


def check_image_bytes(data: bytes) -> tuple[int, int]:
    """The pixel size of ``data`` after checking it against the limits (header only)."""
    width, height = pixel_size(data)
    check_pixel_size(width, height)
    return width, height
