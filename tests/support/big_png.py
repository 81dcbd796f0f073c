"""A huge-but-tiny PNG built row by row: 13000x13000 RGB is ~500 MB decoded, ~0.5 MB on disk.

Written with zlib directly so the test process never holds the decoded pixels either.
"""

from __future__ import annotations

import struct
import zlib


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def flat_png(width: int, height: int, rgb: tuple[int, int, int] = (30, 120, 200)) -> bytes:
    """An 8-bit RGB PNG of one colour, compressed as it is generated."""
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    row = b"\x00" + bytes(rgb) * width  # filter type 0, then the pixels
    packer = zlib.compressobj(9)
    compressed = bytearray()
    for _ in range(height):
        compressed += packer.compress(row)
    compressed += packer.flush()
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", bytes(compressed))
        + _chunk(b"IEND", b"")
    )
