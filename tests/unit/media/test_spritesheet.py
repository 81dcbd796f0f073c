"""The spritesheet: 25 frames of the clip, evenly spaced, tiled left to right, top to bottom."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest
from PIL import Image

from lumagate.media.spritesheet import COLUMNS, ROWS, TILE_WIDTH, make_spritesheet

FRAMES = 49


def grey_clip(path: Path, frames: int = FRAMES) -> Path:
    """A 64x36 clip whose frame i is grey level 5 * i (so each tile says which frame it is)."""
    with av.open(str(path), mode="w", format="mp4") as out:
        stream = out.add_stream("libx264", rate=24)
        stream.width, stream.height, stream.pix_fmt = 64, 36, "yuv420p"
        stream.options = {"preset": "ultrafast", "crf": "1"}
        for i in range(frames):
            grey = np.full((36, 64, 3), 5 * i, dtype=np.uint8)
            frame = av.VideoFrame.from_ndarray(grey, format="rgb24").reformat(format="yuv420p")
            frame.pts, frame.time_base = i, Fraction(1, 24)
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
    return path


def _tile_grey(sheet: Image.Image, index: int, tile: tuple[int, int]) -> float:
    x, y = (index % COLUMNS) * tile[0], (index // COLUMNS) * tile[1]
    box = (x + 8, y + 8, x + tile[0] - 8, y + tile[1] - 8)
    return float(np.asarray(sheet.crop(box).convert("L")).mean())


def test_frames_are_evenly_spaced_in_reading_order(tmp_path: Path) -> None:
    video = grey_clip(tmp_path / "video.mp4")
    path = make_spritesheet(video)
    assert path == tmp_path / "spritesheet.jpg"
    with Image.open(path) as sheet:
        assert sheet.format == "JPEG"
        tile = (TILE_WIDTH, TILE_WIDTH * 36 // 64)
        assert sheet.size == (tile[0] * COLUMNS, tile[1] * ROWS)
        greys = [_tile_grey(sheet, i, tile) for i in range(COLUMNS * ROWS)]
    # 49 frames, 25 tiles: every second frame, so tile i shows frame 2i (grey 10 i).
    assert greys == pytest.approx([10.0 * i for i in range(COLUMNS * ROWS)], abs=4)
    mtime = path.stat().st_mtime_ns
    assert make_spritesheet(video) == path and path.stat().st_mtime_ns == mtime  # kept


def test_a_short_clip_fills_the_first_tiles(tmp_path: Path) -> None:
    path = make_spritesheet(grey_clip(tmp_path / "video.mp4", frames=3))
    with Image.open(path) as sheet:
        tile = (TILE_WIDTH, TILE_WIDTH * 36 // 64)
        greys = [_tile_grey(sheet, i, tile) for i in range(4)]
    assert greys == pytest.approx([0, 5, 10, 0], abs=4)  # then black


def test_a_file_that_is_no_video_is_a_value_error(tmp_path: Path) -> None:
    bad = tmp_path / "video.mp4"
    bad.write_bytes(b"not a video at all")
    with pytest.raises(ValueError, match=r"video\.mp4"):
        make_spritesheet(bad)
    assert not (tmp_path / "spritesheet.jpg").exists()
    assert [p.name for p in tmp_path.iterdir()] == ["video.mp4"]  # no partial file left
