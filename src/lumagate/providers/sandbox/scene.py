"""The sandbox's generated picture: a gradient with drifting discs, coloured by the prompt.

It is analytic, so each frame draws exactly the zoomed window it needs, at no more cost
than the frame itself: the gradient and its soft-edged discs are drawn on a tiny grid (an
eighth of the frame's size) that swscale scales up as it converts to yuv420p. An instance
belongs to one render (it holds that render's swscale context).
"""

from __future__ import annotations

import colorsys
import hashlib
import math

import av
import numpy as np
from av.video.reformatter import VideoReformatter

Window = tuple[float, float, float, float]  # left, top, right, bottom in frame pixels
DISC_OPACITY = 110 / 256  # how much of a disc's colour covers the gradient


class Scene:
    """Animated gradient with drifting translucent discs; colours come from the prompt.

    The scene is analytic, so it is drawn straight into the zoomed window of each frame:
    gradient and discs on a tiny grid that swscale scales up while it converts to yuv420p.
    """

    def __init__(self, prompt: str, size: tuple[int, int]) -> None:
        self.size = size
        seed = hashlib.sha256(prompt.encode("utf-8")).digest()
        self.palette = [
            np.array(colorsys.hsv_to_rgb(seed[i] / 255, 0.55 + seed[i + 8] / 700, 0.95), "f4") * 255
            for i in range(3)
        ]
        self.phase = [b / 255 * 2 * math.pi for b in seed[12:20]]
        self.freq = [1 + b % 3 for b in seed[20:28]]
        self.grid = (max(2, size[0] // 8), max(2, size[1] // 8))
        self.circles = [(seed[28 + k] / 255, k) for k in range(4)]
        self.lights = [255 - (255 - rgb) * 0.5 for rgb in self.palette]  # the discs' colours
        self.scaler = VideoReformatter()  # one swscale context for the whole render

    def frame(self, tau: float, box: Window) -> av.VideoFrame:
        """The window ``box`` (frame pixels) of the scene at time ``tau``, as a yuv420p frame.

        ``tau`` is any real number; the picture is continuous in ``tau`` and in ``box``.
        """
        two_pi, ph = 2 * math.pi, self.phase
        w, h = self.size
        xs = np.linspace(box[0], box[2], self.grid[0], dtype="f4")[None, :]  # frame pixels
        ys = np.linspace(box[1], box[3], self.grid[1], dtype="f4")[:, None]
        u, v = xs / w, ys / h
        a = 0.5 + 0.5 * np.sin(two_pi * (u * 1.3 + v * 0.7 + 0.35 * tau) + ph[0])
        b = 0.5 + 0.5 * np.sin(two_pi * (v * 1.1 - u * 0.5 - 0.25 * tau) + ph[1])
        c0, c1, c2 = self.palette
        grid = c0 + (c1 - c0) * a[..., None]
        grid = grid + (c2 - grid) * (0.6 * b[..., None])
        # The discs on the grid too, their edge softened over one grid step (~8 frame pixels):
        # drawing them on the full-size planes was half of a text render's scene.
        step = (box[2] - box[0]) / max(1, self.grid[0] - 1)
        for radius_f, k in self.circles:
            r = (0.08 + 0.14 * radius_f) * min(w, h)
            ang = two_pi * 0.3 * tau
            cx = w * (0.5 + 0.35 * math.sin(self.freq[k] * ang + ph[k + 2]))
            cy = h * (0.5 + 0.3 * math.cos(self.freq[k + 4] * ang + ph[(k + 5) % 8]))
            distance = np.sqrt((xs - cx) ** 2 + (ys - cy) ** 2)
            cover = np.clip((r - distance) / step + 0.5, 0.0, 1.0)[..., None]
            grid = grid + (self.lights[k % 3] - grid) * (DISC_OPACITY * cover)
        rgb = av.VideoFrame.from_ndarray(np.clip(grid, 0, 255).astype("u1"), format="rgb24")
        return self.scaler.reformat(rgb, w, h, "yuv420p", interpolation="BILINEAR")
