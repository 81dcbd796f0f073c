"""Video parameters: frame sizes, model aliases, durations."""

from __future__ import annotations

import itertools

import pytest

from lumagate.domain.video import (
    ASPECT_RATIOS,
    RESOLUTIONS,
    FrameSize,
    frame_count,
    frame_size,
    normalize_duration,
    normalize_model,
)

# (aspect, resolution) -> (width, height), computed by hand: short side = resolution.
EXPECTED_SIZES = {
    ("16:9", "540p"): (960, 540),
    ("16:9", "720p"): (1280, 720),
    ("16:9", "1080p"): (1920, 1080),
    ("16:9", "4k"): (3840, 2160),
    ("9:16", "540p"): (540, 960),
    ("9:16", "720p"): (720, 1280),
    ("9:16", "1080p"): (1080, 1920),
    ("9:16", "4k"): (2160, 3840),
    ("1:1", "540p"): (540, 540),
    ("1:1", "720p"): (720, 720),
    ("1:1", "1080p"): (1080, 1080),
    ("1:1", "4k"): (2160, 2160),
    ("4:3", "540p"): (720, 540),
    ("4:3", "720p"): (960, 720),
    ("4:3", "1080p"): (1440, 1080),
    ("4:3", "4k"): (2880, 2160),
    ("3:4", "540p"): (540, 720),
    ("3:4", "720p"): (720, 960),
    ("3:4", "1080p"): (1080, 1440),
    ("3:4", "4k"): (2160, 2880),
    ("21:9", "540p"): (1260, 540),
    ("21:9", "720p"): (1680, 720),
    ("21:9", "1080p"): (2520, 1080),
    ("21:9", "4k"): (5040, 2160),
    ("9:21", "540p"): (540, 1260),
    ("9:21", "720p"): (720, 1680),
    ("9:21", "1080p"): (1080, 2520),
    ("9:21", "4k"): (2160, 5040),
}


def test_the_table_covers_every_combination() -> None:
    assert set(EXPECTED_SIZES) == set(itertools.product(ASPECT_RATIOS, RESOLUTIONS))


@pytest.mark.parametrize(("aspect", "resolution"), sorted(EXPECTED_SIZES))
def test_frame_size(aspect: str, resolution: str) -> None:
    size = frame_size(aspect, resolution)
    assert (size.width, size.height) == EXPECTED_SIZES[(aspect, resolution)]
    assert size.width % 2 == 0 and size.height % 2 == 0
    assert min(size.width, size.height) == RESOLUTIONS[resolution]
    ratio_w, ratio_h = (int(p) for p in aspect.split(":"))
    assert (size.width >= size.height) == (ratio_w >= ratio_h)
    assert size.width / size.height == pytest.approx(ratio_w / ratio_h, rel=0.01)


def test_720p_landscape_and_portrait() -> None:
    assert frame_size("16:9", "720p") == FrameSize(1280, 720)
    assert frame_size("9:16", "720p") == FrameSize(720, 1280)


@pytest.mark.parametrize(
    ("aspect", "resolution"),
    [("16:10", "720p"), ("", "720p"), ("16:9", "480p"), ("16:9", "4K"), ("16:9", "")],
)
def test_frame_size_rejects_unknown_values(aspect: str, resolution: str) -> None:
    with pytest.raises(ValueError):
        frame_size(aspect, resolution)


@pytest.mark.parametrize(
    ("name", "model"),
    [
        ("ray-v1", "ray-1-6"),
        ("ray-v2", "ray-2"),
        ("ray-2", "ray-2"),
        ("ray-1-6", "ray-1-6"),
        ("ray-1.6", "ray-1-6"),
        ("ray-flash-2", "ray-flash-2"),
        (" RAY-V2 ", "ray-2"),
    ],
)
def test_model_aliases(name: str, model: str) -> None:
    assert normalize_model(name) == model


@pytest.mark.parametrize("name", ["ray-v3", "ray-3", "", "gpt-4"])
def test_unknown_model_is_rejected(name: str) -> None:
    with pytest.raises(ValueError, match="unknown model"):
        normalize_model(name)


@pytest.mark.parametrize(
    ("value", "duration"),
    [
        ("5s", "5s"),
        ("9s", "9s"),
        ("5", "5s"),
        ("9", "9s"),
        (5, "5s"),
        (9, "9s"),
        (9.0, "9s"),
        (" 9S ", "9s"),
    ],
)
def test_durations(value: str | int | float, duration: str) -> None:
    assert normalize_duration(value) == duration


@pytest.mark.parametrize("value", ["bad", "7s", "", "5ss", "s", 10, 0, True, False, "9.5"])
def test_bad_durations(value: str | int | float) -> None:
    with pytest.raises(ValueError):
        normalize_duration(value)


def test_frame_count() -> None:
    assert frame_count("5s") == 120
    assert frame_count("9s") == 216
    assert (frame_count("5s", 8), frame_count("9s", 8)) == (40, 72)
