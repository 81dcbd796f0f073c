"""The huge-but-tiny PNG the image-size tests send (tests/support/big_png.py) is a valid file:
its pixel stream inflates, checksum included, to every row, and a decoder reads it whole."""

from __future__ import annotations

import io
import struct
import zlib

import pytest
from PIL import Image

from tests.support.big_png import flat_png


def _idat(png: bytes) -> bytes:
    at = 8
    while at < len(png):
        (length,) = struct.unpack(">I", png[at : at + 4])
        kind, data = png[at + 4 : at + 8], png[at + 8 : at + 8 + length]
        if kind == b"IDAT":
            return data
        at += 12 + length
    raise AssertionError("no IDAT chunk")


# 1000 wide: 349 rows a block, so 1000 rows are two blocks and a rest; 40 rows are a rest alone;
# 3000 rows are eight blocks (the repeated one seven times) and a rest.
@pytest.mark.parametrize(("width", "height"), [(1000, 1000), (1000, 40), (1000, 3000), (7, 1)])
def test_the_pixel_stream_inflates_to_every_row_with_its_checksum(width: int, height: int) -> None:
    row = b"\x00" + bytes((30, 120, 200)) * width
    assert zlib.decompress(_idat(flat_png(width, height))) == row * height  # checks Adler-32


def test_a_decoder_reads_it_whole() -> None:
    image = Image.open(io.BytesIO(flat_png(1000, 1000, (9, 8, 7))))
    image.load()
    assert image.size == (1000, 1000) and image.mode == "RGB"
    assert image.getextrema() == ((9, 9), (8, 8), (7, 7))
