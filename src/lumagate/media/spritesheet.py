"""A spritesheet of a video: frames taken at even intervals, tiled into one JPEG.

OpenAI's ``GET /v1/videos/{id}/content?variant=spritesheet`` returns such an image (a preview
strip players show while scrubbing). Any MP4 the gateway stores can give one, whatever the
upstream that rendered it, so it is made on first request from the stored video (PyAV decodes,
Pillow tiles) and kept beside it; later requests read the file.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from pathlib import Path

import av
from PIL import Image

COLUMNS = 5
ROWS = 5
TILE_WIDTH = 256  # each tile's width; its height follows the video's aspect ratio
FILE_NAME = "spritesheet.jpg"


def spritesheet_path(video: Path) -> Path:
    return video.with_name(FILE_NAME)


def _frame_count(video: Path) -> int:
    with av.open(str(video), mode="r") as container:
        if not container.streams.video:
            raise ValueError(f"{video.name} has no video stream")
        stream = container.streams.video[0]
        return stream.frames or sum(1 for _ in container.demux(stream) if _.size)


def _frames(video: Path, count: int) -> list[Image.Image]:
    """``count`` frames spread evenly over the clip (fewer if it is shorter); only the chosen
    frames are kept in memory."""
    total = _frame_count(video)
    if total <= count:
        wanted = set(range(total))
    else:
        wanted = {round(i * (total - 1) / (count - 1)) for i in range(count)}
    picked: list[Image.Image] = []
    with av.open(str(video), mode="r") as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        for index, frame in enumerate(container.decode(stream)):
            if index in wanted:
                picked.append(Image.fromarray(frame.to_ndarray(format="rgb24"), mode="RGB"))
    if not picked:
        raise ValueError(f"{video.name} contains no decodable frames")
    return picked


def make_spritesheet(video: Path, target: Path | None = None) -> Path:
    """Write the spritesheet of ``video`` (``COLUMNS`` x ``ROWS`` tiles, left to right, top to
    bottom) and return its path; an existing one is returned as it is. A file that is not a
    decodable video raises ``ValueError``."""
    target = target or spritesheet_path(video)
    if target.is_file():
        return target
    try:
        frames = _frames(video, COLUMNS * ROWS)
    except av.FFmpegError as exc:
        raise ValueError(f"cannot decode {video.name}: {exc}") from exc
    width, height = frames[0].size
    tile = (TILE_WIDTH, max(2, round(TILE_WIDTH * height / width)))
    sheet = Image.new("RGB", (tile[0] * COLUMNS, tile[1] * ROWS), (0, 0, 0))
    for index, frame in enumerate(frames):
        small = frame.convert("RGB").resize(tile, Image.Resampling.BILINEAR)
        sheet.paste(small, ((index % COLUMNS) * tile[0], (index // COLUMNS) * tile[1]))
    partial = target.with_name(f".{target.name}.{uuid.uuid4().hex}.part")
    try:
        sheet.save(partial, format="JPEG", quality=85)
        os.replace(partial, target)
    finally:
        with contextlib.suppress(OSError):
            partial.unlink(missing_ok=True)
    return target
