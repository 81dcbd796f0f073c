"""A huge-but-tiny PNG: 13000x13000 RGB is ~500 MB decoded, ~0.5 MB on disk.

Written with zlib directly so the test process never holds the decoded pixels either. Every
row is the same, so the pixels are compressed in blocks of rows, each ended by a full flush
(which resets the compressor): the compressed bytes of one such block are the same wherever it
stands in the stream, so one block is compressed and repeated, and only the stream's checksum
sees all ~500 MB. Compressing every row instead took ~3.5 s of CPU per image.
"""

from __future__ import annotations

import functools
import struct
import zlib

_BLOCK_BYTES = 1 << 20  # uncompressed bytes of rows per repeated block


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


@functools.cache
def flat_png(width: int, height: int, rgb: tuple[int, int, int] = (30, 120, 200)) -> bytes:
    """An 8-bit RGB PNG of one colour (a valid file any decoder reads whole)."""
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", _pixels_stream(b"\x00" + bytes(rgb) * width, height))  # filter 0
        + _chunk(b"IEND", b"")
    )


def _pixels_stream(row: bytes, height: int) -> bytes:
    """The zlib stream of ``row`` repeated ``height`` times."""
    rows_per_block = max(1, _BLOCK_BYTES // len(row))
    blocks, rest = divmod(height, rows_per_block)
    block = row * rows_per_block
    packer = zlib.compressobj(9)
    stream = bytearray(packer.compress(b""))  # the zlib header comes with the first output
    checksum = 1
    if blocks:
        first = packer.compress(block) + packer.flush(zlib.Z_FULL_FLUSH)
        repeated = packer.compress(block) + packer.flush(zlib.Z_FULL_FLUSH)
        stream += first + repeated * (blocks - 1)
        for _ in range(blocks):
            checksum = zlib.adler32(block, checksum)
    tail = packer.compress(row * rest) + packer.flush()
    checksum = zlib.adler32(row * rest, checksum)
    # The packer saw only two blocks, so its trailer (the Adler-32 of what it saw) is replaced.
    return bytes(stream + tail[:-4] + struct.pack(">I", checksum))
