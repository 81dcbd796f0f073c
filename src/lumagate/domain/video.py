"""Video parameters: aspect ratios, resolutions, durations, models and the frame size they give."""

from __future__ import annotations

from dataclasses import dataclass

from lumagate.domain import messages as msg
from lumagate.domain.messages import MessageError

ASPECT_RATIOS: tuple[str, ...] = ("16:9", "1:1", "9:16", "4:3", "3:4", "21:9", "9:21")
RESOLUTIONS: dict[str, int] = {"540p": 540, "720p": 720, "1080p": 1080, "4k": 2160}
DURATIONS: dict[str, float] = {"5s": 5.0, "9s": 9.0}
MODELS: tuple[str, ...] = ("ray-2", "ray-flash-2", "ray-1-6")
MODEL_ALIASES: dict[str, str] = {"ray-v1": "ray-1-6", "ray-v2": "ray-2", "ray-1.6": "ray-1-6"}
FRAMES_PER_SECOND = 24


@dataclass(frozen=True)
class FrameSize:
    width: int
    height: int


def _even(value: float) -> int:
    return max(2, round(value / 2.0) * 2)


def frame_size(aspect_ratio: str, resolution: str) -> FrameSize:
    """The pixel size for an aspect ratio at a resolution; the short side is the resolution.

    720p 16:9 is 1280x720 and 720p 9:16 is 720x1280; every size is even (H.264 needs it).
    """
    if aspect_ratio not in ASPECT_RATIOS:
        raise ValueError(f"unknown aspect_ratio {aspect_ratio!r}")
    if resolution not in RESOLUTIONS:
        raise ValueError(f"unknown resolution {resolution!r}")
    ratio_w, ratio_h = (int(part) for part in aspect_ratio.split(":"))
    short_side = RESOLUTIONS[resolution]
    if ratio_w >= ratio_h:
        return FrameSize(_even(short_side * ratio_w / ratio_h), _even(short_side))
    return FrameSize(_even(short_side), _even(short_side * ratio_h / ratio_w))


def normalize_model(name: str) -> str:
    """Map ``ray-v1``/``ray-v2`` and the official names to the official model id."""
    key = name.strip().lower()
    key = MODEL_ALIASES.get(key, key)
    if key not in MODELS:
        raise MessageError(msg.UNKNOWN_MODEL(name=repr(name)))
    return key


def normalize_duration(value: str | int | float) -> str:
    """Accept ``"5s"``, ``"9s"``, ``"5"``, ``"9"`` and the numbers 5 and 9."""
    if isinstance(value, bool):
        raise MessageError(msg.DURATION_FIVE_OR_NINE())
    text = str(value).strip().lower()
    if text.endswith(".0"):
        text = text[:-2]
    if not text.endswith("s"):
        text += "s"
    if text not in DURATIONS:
        raise MessageError(msg.UNKNOWN_DURATION(value=repr(value)))
    return text


def frame_count(duration: str, fps: int = FRAMES_PER_SECOND) -> int:
    return round(DURATIONS[duration] * fps)
