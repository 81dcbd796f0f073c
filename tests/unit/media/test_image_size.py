"""Pixel limits are read from the header: a huge image is refused without being decoded."""

from __future__ import annotations

import base64
import io
import resource

import pytest
from PIL import Image

from lumagate.media.image_size import (
    MAX_IMAGE_PIXELS,
    MAX_IMAGE_SIDE,
    ImageTooLarge,
    UnreadableImage,
    check_image_bytes,
    check_pixel_size,
    pixel_size,
)
from lumagate.media.images import InvalidImage, decode_data_uri
from tests.support.big_png import flat_png


def _encoded(size: tuple[int, int], fmt: str) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (10, 20, 30)).save(buffer, format=fmt)
    return buffer.getvalue()


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "WEBP", "GIF"])
def test_pixel_size_of_every_accepted_format(fmt: str) -> None:
    assert pixel_size(_encoded((321, 123), fmt)) == (321, 123)


@pytest.mark.parametrize(
    ("width", "height", "ok"),
    [
        (MAX_IMAGE_SIDE, 4000, True),
        (MAX_IMAGE_SIDE + 1, 10, False),
        (10, MAX_IMAGE_SIDE + 1, False),
        (8000, 5000, True),  # exactly 40 MP
        (8000, 5001, False),
    ],
)
def test_limits(width: int, height: int, ok: bool) -> None:
    assert width * height <= MAX_IMAGE_PIXELS or not ok
    if ok:
        check_pixel_size(width, height)
    else:
        with pytest.raises(ImageTooLarge, match="limit is 8192 pixels a side and 40 megapixels"):
            check_pixel_size(width, height)


def test_a_13000_square_png_is_refused_from_its_header_alone() -> None:
    data = flat_png(13000, 13000)
    assert len(data) < 1024 * 1024
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with pytest.raises(ImageTooLarge, match="13000x13000"):
        check_image_bytes(data)
    grown_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
    assert grown_kb < 50 * 1024  # decoding would take ~500 MB


def test_a_data_uri_over_the_limit_is_an_invalid_image() -> None:
    uri = "data:image/png;base64," + base64.b64encode(flat_png(9000, 10)).decode()
    with pytest.raises(InvalidImage, match="9000x10 pixels"):
        decode_data_uri(uri, 10 * 1024 * 1024)


def test_bytes_without_a_readable_header() -> None:
    with pytest.raises(UnreadableImage):
        pixel_size(b"\x89PNG\r\n\x1a\n" + b"\x00" * 40)
