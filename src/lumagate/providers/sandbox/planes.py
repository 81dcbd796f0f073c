"""yuv420p plane arithmetic for the sandbox renderer: stills, blends and the caption.

A render's CPU went mostly into full-size RGB pictures (a PIL resize of the scene, array
copies, then swscale's slow full-size RGB to yuv420p conversion, every frame). Now every
picture is yuv420p from the start: a still is converted once and cropped per frame on its
planes (swscale only scales yuv to yuv); the scene's smooth gradient goes through swscale
from a tiny grid (its discs drawn on that grid); what has to be mixed after that (a crossfade,
the fading caption) is mixed here on the planes of the frame that is then encoded.

Weights are fixed-point in 0..256 (uint16 arithmetic: 255 * 256 fits). Everything is local
to the call, so renders in several threads share nothing.
"""

from __future__ import annotations

import av
import numpy as np
from PIL import Image

Planes = tuple[np.ndarray, np.ndarray, np.ndarray]
Box = tuple[int, int, int, int]  # left, top, right, bottom (even numbers)


def views(frame: av.VideoFrame) -> Planes:
    """Writable views of a yuv420p frame's Y, U and V planes (line padding cut off)."""
    out = []
    for plane in frame.planes:
        rows = np.frombuffer(memoryview(plane), np.uint8).reshape(plane.height, plane.line_size)
        out.append(rows[:, : plane.width])
    return out[0], out[1], out[2]


def to_planes(img: Image.Image) -> Planes:
    """An RGB picture of even size as yuv420p planes (owned arrays, swscale's conversion)."""
    rgb = np.ascontiguousarray(np.asarray(img.convert("RGB"), np.uint8))
    frame = av.VideoFrame.from_ndarray(rgb, format="rgb24").reformat(format="yuv420p")
    y, u, v = views(frame)
    return np.array(y), np.array(u), np.array(v)


def mix(dst: np.ndarray, src: np.ndarray | int, weight: int | np.ndarray) -> None:
    """``dst`` becomes ``src * weight + dst * (256 - weight)``, / 256 (uint8, in place)."""
    acc = np.asarray(src, np.uint16) * np.asarray(weight, np.uint16)
    acc += dst * (256 - np.asarray(weight, np.uint16))
    acc >>= 8
    dst[...] = acc


def crossfade(dst: av.VideoFrame, src: av.VideoFrame, weight: int) -> None:
    """Blend ``src`` into ``dst`` (both yuv420p, same size) by ``weight`` in 0..256."""
    for d, s in zip(views(dst), views(src), strict=True):
        mix(d, s, weight)


def crop(pictures: list[tuple[Planes, int]], box: Box) -> av.VideoFrame:
    """A new frame of ``box`` cut from the sum of ``pictures`` (planes, weight; weights add
    up to 256), which all have the same size: a crossfade costs no more than the copy."""
    x0, y0, x1, y1 = box
    frame = av.VideoFrame(x1 - x0, y1 - y0, "yuv420p")
    for i, dst in enumerate(views(frame)):
        s = 1 if i == 0 else 2
        cuts = [(p[i][y0 // s : y1 // s, x0 // s : x1 // s], k) for p, k in pictures]
        if len(cuts) == 1:
            dst[...] = cuts[0][0]
            continue
        acc = cuts[0][0].astype(np.uint16) * np.uint16(cuts[0][1])
        for cut, k in cuts[1:]:
            acc += cut * np.uint16(k)
        acc >>= 8
        dst[...] = acc
    return frame


class Caption:
    """An RGB patch and its alpha, as yuv420p planes placed on an even pixel of the frame."""

    def __init__(self, patch: Image.Image, mask: Image.Image, pos: tuple[int, int]) -> None:
        pw, ph = patch.width + patch.width % 2, patch.height + patch.height % 2
        padded, alpha = Image.new("RGB", (pw, ph)), Image.new("L", (pw, ph))
        padded.paste(patch)
        alpha.paste(mask)
        self.planes = to_planes(padded)
        full = np.asarray(alpha, np.uint16)
        half = np.asarray(alpha.reduce(2), np.uint16)
        self.alphas = (full, half, half)
        self.x, self.y = pos[0] - pos[0] % 2, max(0, pos[1] - pos[1] % 2)

    def draw(self, frame: av.VideoFrame, opacity: float) -> None:
        """Composite the caption onto ``frame`` at ``opacity`` (0..1), clipped to the frame."""
        k = round(opacity * 256)
        for i, (dst, src, alpha) in enumerate(
            zip(views(frame), self.planes, self.alphas, strict=True)
        ):
            x, y = (self.x, self.y) if i == 0 else (self.x // 2, self.y // 2)
            h = min(src.shape[0], dst.shape[0] - y)
            w = min(src.shape[1], dst.shape[1] - x)
            if h <= 0 or w <= 0:
                continue
            weight = (alpha[:h, :w] * k + 127) // 255
            mix(dst[y : y + h, x : x + w], src[:h, :w], weight)
