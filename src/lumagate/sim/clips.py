"""Real, playable media for the sim's URLs: one tiny H.264 clip per aspect ratio, cached.

Gateways download, probe and re-serve what the upstream returns, so the sim's URLs must lead to
genuine MP4 and JPEG files. Rendering happens once per aspect ratio (in a worker thread, under a
lock) and is reused for every generation with that shape: cheap enough under load, and still
the right proportions. A watermarked variant stands in for the web app's ``video.url``.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np
from numpy.typing import NDArray
from PIL import Image

SHORT_SIDE = 320
FPS = 24
SECONDS = 2.0
RENDER_VERSION = "v1"

Frame = NDArray[np.uint8]


@dataclass(frozen=True)
class ClipFiles:
    """The files rendered for one aspect ratio."""

    video: Path
    watermarked: Path
    thumbnail: Path
    last_frame: Path

    def all(self) -> tuple[Path, ...]:
        return (self.video, self.watermarked, self.thumbnail, self.last_frame)


def render_size(aspect_ratio: str, short_side: int = SHORT_SIDE) -> tuple[int, int]:
    """Width and height (both even) with ``short_side`` on the shorter edge."""
    ratio_w, ratio_h = (int(part) for part in aspect_ratio.split(":"))
    long_side = max(2, round(short_side * max(ratio_w, ratio_h) / min(ratio_w, ratio_h) / 2) * 2)
    return (long_side, short_side) if ratio_w >= ratio_h else (short_side, long_side)


def _frames(width: int, height: int, count: int, watermark: bool) -> Iterator[Frame]:
    """A drifting colour field with a bouncing square: visibly moving, trivially compressible."""
    xs = np.linspace(0.0, 1.0, width, dtype=np.float32)[None, :]
    ys = np.linspace(0.0, 1.0, height, dtype=np.float32)[:, None]
    side = max(8, min(width, height) // 5)
    for index in range(count):
        t = index / max(1, count - 1)
        red = 0.5 + 0.5 * np.sin(2 * np.pi * (xs + t))
        green = 0.5 + 0.5 * np.sin(2 * np.pi * (ys + 0.5 * t))
        blue = np.full((height, width), 0.35 + 0.3 * t, dtype=np.float32)
        image = np.stack(np.broadcast_arrays(red, green, blue), axis=-1)
        frame = (np.clip(image, 0.0, 1.0) * 255).astype(np.uint8)
        left = int((width - side) * t)
        top = int((height - side) * abs(np.sin(np.pi * t)))
        frame[top : top + side, left : left + side] = (250, 250, 240)
        if watermark:
            mark_w, mark_h = max(8, width // 4), max(6, height // 10)
            frame[height - mark_h - 4 : height - 4, width - mark_w - 4 : width - 4] = 255
        yield frame


def _encode_mp4(path: Path, frames: Iterator[Frame], width: int, height: int) -> None:
    with av.open(str(path), mode="w", format="mp4") as container:
        stream = container.add_stream("libx264", rate=FPS)
        stream.width = width
        stream.height = height
        stream.pix_fmt = "yuv420p"
        stream.options = {"preset": "ultrafast", "crf": "30"}
        for frame in frames:
            for packet in stream.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)


def _write_jpeg(path: Path, frame: Frame) -> None:
    Image.fromarray(frame).save(path, format="JPEG", quality=85)


def render_clip_set(directory: Path, aspect_ratio: str) -> ClipFiles:
    """Render (or reuse from disk) the clip set for ``aspect_ratio``. Blocking: run in a thread."""
    directory.mkdir(parents=True, exist_ok=True)
    tag = f"{RENDER_VERSION}_{aspect_ratio.replace(':', 'x')}"
    files = ClipFiles(
        video=directory / f"{tag}.mp4",
        watermarked=directory / f"{tag}_wm.mp4",
        thumbnail=directory / f"{tag}_thumb.jpg",
        last_frame=directory / f"{tag}_last.jpg",
    )
    if all(path.is_file() for path in files.all()):
        return files
    width, height = render_size(aspect_ratio)
    count = round(FPS * SECONDS)
    pid = os.getpid()
    for target, watermark in ((files.video, False), (files.watermarked, True)):
        tmp = target.with_name(f".{target.stem}.{pid}.tmp.mp4")
        _encode_mp4(tmp, _frames(width, height, count, watermark), width, height)
        os.replace(tmp, target)
    frames = list(_frames(width, height, count, False))
    for target, frame in ((files.thumbnail, frames[0]), (files.last_frame, frames[-1])):
        tmp = target.with_name(f".{target.stem}.{pid}.tmp.jpg")
        _write_jpeg(tmp, frame)
        os.replace(tmp, target)
    return files


class ClipCache:
    """Lazily rendered clip sets, at most one render per aspect ratio at a time."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._ready: dict[str, ClipFiles] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    async def get(self, aspect_ratio: str) -> ClipFiles:
        cached = self._ready.get(aspect_ratio)
        if cached is not None and all(path.is_file() for path in cached.all()):
            return cached
        lock = self._locks.setdefault(aspect_ratio, asyncio.Lock())
        async with lock:
            cached = self._ready.get(aspect_ratio)
            if cached is None or not all(path.is_file() for path in cached.all()):
                cached = await asyncio.to_thread(render_clip_set, self.directory, aspect_ratio)
                self._ready[aspect_ratio] = cached
            return cached
