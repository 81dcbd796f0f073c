"""Pure, synchronous video renderer behind the offline sandbox provider.

A fresh lumagate install has no upstream credentials, yet every flow (text-to-video,
image-to-video, keyframes, loop, extend) should still yield a real, playable clip. This
module turns a :class:`RenderSpec` into an H.264/yuv420p MP4 (``+faststart``, so
browsers can stream it) plus a mid-clip thumbnail and the last frame as JPEGs.

The clip crossfades from the start frame (continued video, start image or a generated
picture) to the end frame (end image, the start frame when looping, or a derived frame)
under a slow zoom/pan. A "lumagate sandbox" label with the prompt fades in and out in
the middle of the clip only, so the first and last frames match the requested keyframes.

Everything here is local to one call (no module state), so callers may run several
renders concurrently in threads (``asyncio.to_thread``).
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import math
import os
import textwrap
import uuid
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
from av.video.reformatter import VideoReformatter
from PIL import Image, ImageDraw, ImageFont, ImageOps

from lumagate.media.image_size import ImageTooLarge, check_pixel_size
from lumagate.providers.sandbox import planes
from lumagate.providers.sandbox.scene import Scene, Window

_ZOOM = 0.08  # how far the slow zoom goes (fraction of the frame)
_LABEL = "lumagate sandbox"
_Box = tuple[int, int, int, int]  # crop box: left, top, right, bottom
_Source = tuple[np.ndarray, np.ndarray, np.ndarray] | float  # a still, or the scene (time offset)
_REDUCIBLE = frozenset({"L", "LA", "RGB", "RGBA", "I", "F"})
_IMAGE_ERRORS = (OSError, SyntaxError, ValueError, EOFError, Image.DecompressionBombError)


@dataclass(frozen=True)
class RenderSpec:
    """What to render: frame size (even), frame count/rate, prompt and optional keyframes."""

    width: int
    height: int
    frames: int
    fps: int = 24
    prompt: str = ""
    start_image: bytes | None = None
    end_image: bytes | None = None
    loop: bool = False
    continue_from_video: Path | None = None


@dataclass(frozen=True)
class RenderOutput:
    """Paths of the files written by :func:`render_video` and the clip's geometry."""

    video: Path
    thumbnail: Path
    last_frame: Path
    width: int
    height: int
    frames: int
    fps: int


def _cover(img: Image.Image, size: tuple[int, int]) -> Image.Image:
    """Convert any mode to RGB (alpha over black), then scale and centre-crop to cover."""
    if img.mode in ("RGBA", "LA", "PA") or (img.mode == "P" and "transparency" in img.info):
        rgba = img.convert("RGBA")
        base = Image.new("RGB", rgba.size, (0, 0, 0))
        base.paste(rgba, mask=rgba.getchannel("A"))
        img = base
    elif img.mode != "RGB":
        img = img.convert("RGB")
    if img.size == size:
        return img
    return ImageOps.fit(img, size, method=Image.Resampling.LANCZOS)


def _shrink(img: Image.Image, size: tuple[int, int]) -> Image.Image:
    """A cheap integer downscale that still covers ``size`` in either orientation, so no
    further full-size copy of a large image is made (conversion, EXIF rotation, fitting)."""
    factor = min(img.size) // max(size)
    if factor < 2:
        return img
    if img.mode not in _REDUCIBLE:
        img = img.convert("RGBA" if "transparency" in img.info else "RGB")
    return img.reduce(factor)


def _decode_image(data: bytes, what: str, size: tuple[int, int]) -> Image.Image:
    """Decode encoded image bytes and cover ``size``; bad or oversized bytes raise ``ValueError``.

    The pixel size is checked from the header before anything is decoded (the limits of
    :mod:`lumagate.media.image_size`); JPEGs are decoded at a reduced scale when that still
    covers the frame.
    """
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as img:
                check_pixel_size(*img.size)
                img.draft("RGB", (max(size), max(size)))
                img.load()
                oriented = ImageOps.exif_transpose(_shrink(img, size))
                return _cover(oriented, size)
    except ImageTooLarge as exc:
        raise ValueError(f"{what} is too large: {exc}") from exc
    except _IMAGE_ERRORS as exc:
        raise ValueError(
            f"{what} is not a decodable image (expected PNG/JPEG/WebP/GIF bytes): {exc}"
        ) from exc


def read_last_frame(video: Path) -> Image.Image:
    """Decode and return the last video frame of ``video`` as an RGB image."""
    if not video.is_file():
        raise FileNotFoundError(f"video not found: {video}")
    last: np.ndarray | None = None
    try:
        with av.open(str(video), mode="r") as container:
            if not container.streams.video:
                raise ValueError(f"{video} has no video stream")
            stream = container.streams.video[0]
            stream.thread_type = "AUTO"
            final: av.VideoFrame | None = None
            for frame in container.decode(stream):
                final = frame
            if final is not None:  # converted to RGB once, not every decoded frame
                last = final.to_ndarray(format="rgb24")
    except av.FFmpegError as exc:
        raise ValueError(f"cannot decode video {video}: {exc}") from exc
    if last is None:
        raise ValueError(f"{video} contains no decodable video frames")
    return Image.fromarray(last, mode="RGB")


def _label_patch(prompt: str, size: tuple[int, int]) -> tuple[Image.Image, Image.Image]:
    """Build the caption (RGB patch, alpha mask) showing the sandbox label and prompt."""
    w, h = size
    font = ImageFont.load_default(size=max(8, h // 26))
    small = ImageFont.load_default(size=max(7, h // 36))
    char_w = max(1.0, float(font.getlength("n")))
    lines = textwrap.wrap(" ".join(prompt.split()), width=max(8, int(w * 0.74 / char_w)))
    if len(lines) > 3:
        lines = [*lines[:2], lines[2][: max(1, len(lines[2]) - 1)] + "…"]
    rows: list[tuple[str, ImageFont.FreeTypeFont | ImageFont.ImageFont]] = [(_LABEL, small)]
    rows += [(line, font) for line in lines]
    probe = ImageDraw.Draw(Image.new("L", (1, 1)))
    boxes = [probe.textbbox((0, 0), text, font=f) for text, f in rows]
    pad = max(4, h // 60)
    pw = min(w, int(max(b[2] - b[0] for b in boxes)) + 2 * pad)
    ph = min(h, int(sum(b[3] - b[1] + pad // 2 for b in boxes)) + 2 * pad)
    patch = Image.new("RGBA", (pw, ph), (0, 0, 0, 0))
    draw = ImageDraw.Draw(patch)
    draw.rounded_rectangle((0, 0, pw - 1, ph - 1), radius=pad, fill=(0, 0, 0, 150))
    y: float = pad
    for (text, f), box in zip(rows, boxes, strict=True):
        colour = (255, 255, 255, 255) if f is font else (200, 200, 200, 255)
        draw.text((pad - box[0], y - box[1]), text, font=f, fill=colour)
        y += box[3] - box[1] + pad // 2
    return patch.convert("RGB"), patch.getchannel("A")


def _window(size: tuple[int, int], z: float, pan: tuple[float, float]) -> Window:
    """The box zooming ``z`` >= 1 into a frame of ``size``, panned by ``pan`` (-1..1)."""
    w, h = size
    bw, bh = w / z, h / z
    x0, y0 = (w - bw) / 2 * (1 + pan[0]), (h - bh) / 2 * (1 + pan[1])
    return (x0, y0, x0 + bw, y0 + bh)


def _crop_box(size: tuple[int, int], z: float, pan: tuple[float, float]) -> _Box:
    """:func:`_window` in even pixels (the crop of a still picture's yuv420p planes)."""
    w, h = size
    bw = min(w, max(2, 2 * round(w / z / 2)))
    bh = min(h, max(2, 2 * round(bw * h / w / 2)))
    x0 = 2 * round((w - bw) / 4 * (1 + pan[0]))
    y0 = 2 * round((h - bh) / 4 * (1 + pan[1]))
    return (x0, y0, x0 + bw, y0 + bh)


def _smooth(x: float) -> float:
    x = min(1.0, max(0.0, x))
    return x * x * (3 - 2 * x)


def _check(spec: RenderSpec) -> None:
    if spec.width <= 0 or spec.height <= 0 or spec.width % 2 or spec.height % 2:
        raise ValueError(
            f"width and height must be positive and even, got {spec.width}x{spec.height}"
        )
    if spec.frames < 1 or spec.fps < 1:
        raise ValueError(f"frames and fps must be >= 1, got {spec.frames} frames at {spec.fps} fps")


class _Timeline:
    """The picture of every instant of one render: scene or images, blend, caption, zoom.

    Each frame is built in yuv420p: stills are converted once and cropped (and crossfaded)
    on their planes, then scaled by swscale; the scene is drawn per frame; a crossfade with
    the scene and the caption are mixed on the planes (:mod:`.planes`).
    """

    def __init__(self, spec: RenderSpec) -> None:
        self.size = (spec.width, spec.height)
        self.loop = spec.loop
        self.scene = Scene(spec.prompt, self.size)
        self.start: planes.Planes | None = None
        if spec.continue_from_video is not None:
            last = _cover(read_last_frame(spec.continue_from_video), self.size)
            self.start = planes.to_planes(last)
        elif spec.start_image is not None:
            self.start = planes.to_planes(_decode_image(spec.start_image, "start_image", self.size))
        self.end: planes.Planes | None = None
        if spec.end_image is not None:
            self.end = planes.to_planes(_decode_image(spec.end_image, "end_image", self.size))
        self.fixed_end = self.end is not None or spec.loop
        seed = hashlib.sha256(spec.prompt.encode("utf-8")).digest()
        self.pan = (seed[0] / 127.5 - 1, seed[1] / 127.5 - 1)
        patch, mask = _label_patch(spec.prompt, self.size)
        pos = ((spec.width - patch.width) // 2, int(spec.height * 0.9) - patch.height)
        self.caption = planes.Caption(patch, mask, pos)
        # swscale contexts by crop size: setting one up costs more than the scaling itself,
        # and the slow zoom comes back to the same few dozen sizes
        self.scalers: dict[tuple[int, int], VideoReformatter] = {}

    def frame_at(self, t: float) -> av.VideoFrame:
        """The yuv420p frame at time ``t`` (0..1): the pictures blended, zoomed, captioned."""
        a: _Source = self.start if self.start is not None else 0.0
        b: _Source | None = None
        if self.end is not None:
            b = self.end
        elif self.loop:
            b = self.start if self.start is not None else -1.0
        z = 1 + _ZOOM * (math.sin(math.pi * t) if self.fixed_end else t)
        k = round(_smooth(t) * 256)
        pair = [(a, 256)] if b is None or b is a else [(a, 256 - k), (b, k)]
        layers = [(source, weight) for source, weight in pair if weight > 0]
        stills = [(p, w) for p, w in layers if isinstance(p, tuple)]
        if len(stills) == len(layers):  # crossfaded as they are cut out: one scaling
            frame = self._zoomed(planes.crop(stills, _crop_box(self.size, z, self.pan)))
        else:
            window = _window(self.size, z, self.pan)
            frame = self._picture(layers[0][0], t, z, window)
            if len(layers) > 1:
                planes.crossfade(frame, self._picture(layers[1][0], t, z, window), k)
        opacity = _smooth((min(t, 1 - t) - 0.1) / 0.15)
        if opacity > 0:  # caption in the middle of the clip only
            self.caption.draw(frame, opacity)
        return frame

    def _picture(self, source: _Source, t: float, z: float, window: Window) -> av.VideoFrame:
        """``source`` zoomed by ``z`` as a yuv420p frame of the frame's size."""
        if isinstance(source, tuple):
            return self._zoomed(planes.crop([(source, 256)], _crop_box(self.size, z, self.pan)))
        return self.scene.frame(t + source, window)

    def _zoomed(self, frame: av.VideoFrame) -> av.VideoFrame:
        key = (frame.width, frame.height)
        if key == self.size:
            return frame
        scaler = self.scalers.setdefault(key, VideoReformatter())
        return scaler.reformat(frame, *self.size, interpolation="BILINEAR")


def render_video(
    spec: RenderSpec, out_dir: Path, progress: Callable[[float], None] | None = None
) -> RenderOutput:
    """Render ``spec`` into ``out_dir`` as video.mp4, thumbnail.jpg and last_frame.jpg.

    Each file is written under a temporary name and renamed into place; video.mp4 last.
    ``progress`` (if given) receives fractions in 0..1 as rendering advances.
    """
    _check(spec)
    timeline = _Timeline(spec)
    out_dir.mkdir(parents=True, exist_ok=True)
    token = uuid.uuid4().hex
    tmp_video = out_dir / f".video.{token}.mp4.part"
    tmp_thumb = out_dir / f".thumbnail.{token}.jpg.part"
    tmp_last = out_dir / f".last_frame.{token}.jpg.part"
    final = RenderOutput(
        video=out_dir / "video.mp4",
        thumbnail=out_dir / "thumbnail.jpg",
        last_frame=out_dir / "last_frame.jpg",
        width=spec.width,
        height=spec.height,
        frames=spec.frames,
        fps=spec.fps,
    )
    try:
        if progress is not None:
            progress(0.0)
        thumb, last = _encode(spec, timeline, tmp_video, progress)
        thumb.save(tmp_thumb, format="JPEG", quality=90)
        last.save(tmp_last, format="JPEG", quality=95)
        os.replace(tmp_thumb, final.thumbnail)
        os.replace(tmp_last, final.last_frame)
        os.replace(tmp_video, final.video)
    except BaseException:
        for tmp in (tmp_video, tmp_thumb, tmp_last):
            with contextlib.suppress(OSError):
                tmp.unlink(missing_ok=True)
        raise
    if progress is not None:
        progress(1.0)
    return final


def _encode(
    spec: RenderSpec,
    timeline: _Timeline,
    target: Path,
    progress: Callable[[float], None] | None,
) -> tuple[Image.Image, Image.Image]:
    """Encode every frame to ``target`` (H.264 MP4); the middle and the last still."""
    mid_index, step = spec.frames // 2, max(1, spec.frames // 20)
    thumb: Image.Image | None = None
    last: Image.Image | None = None
    options = {"movflags": "+faststart"}
    with av.open(str(target), mode="w", format="mp4", container_options=options) as out:
        stream = out.add_stream("libx264", rate=spec.fps)
        stream.width, stream.height, stream.pix_fmt = spec.width, spec.height, "yuv420p"
        stream.codec_context.time_base = Fraction(1, spec.fps)
        stream.options = {"preset": "ultrafast", "qp": "18", "threads": "1"}
        for i in range(spec.frames):
            t = i / (spec.frames - 1) if spec.frames > 1 else 0.0
            frame = timeline.frame_at(t)
            if i == mid_index:
                thumb = _picture_of(frame)
            if i == spec.frames - 1:
                last = _picture_of(frame)
            frame.pts, frame.time_base = i, Fraction(1, spec.fps)
            out.mux(stream.encode(frame))
            if progress is not None and (i + 1) % step == 0 and i + 1 < spec.frames:
                progress(0.95 * (i + 1) / spec.frames)
        out.mux(stream.encode(None))
    if thumb is None or last is None:  # unreachable: frames >= 1 is checked above
        raise RuntimeError("no frames were rendered")
    return thumb, last


def _picture_of(frame: av.VideoFrame) -> Image.Image:
    """The RGB picture of a frame as it goes to the encoder (for the JPEG stills)."""
    return Image.fromarray(frame.to_ndarray(format="rgb24"), mode="RGB")
