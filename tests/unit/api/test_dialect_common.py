"""The shared dialect helpers: sizes to aspect ratio and resolution, and model names."""

from __future__ import annotations

import pytest

from lumagate.api.dialect_common import parse_size, size_to_video, video_model
from lumagate.domain.errors import InvalidRequest


@pytest.mark.parametrize(
    ("size", "expected"),
    [
        ("1280x720", ("16:9", "720p")),
        ("720x1280", ("9:16", "720p")),
        ("540x540", ("1:1", "540p")),
        ("1920x1080", ("16:9", "1080p")),
        ("1024x768", ("4:3", "720p")),
        ("2560x1080", ("21:9", "1080p")),
        ("3840*2160", ("16:9", "4k")),
    ],
)
def test_parse_size(size: str, expected: tuple[str, str]) -> None:
    assert parse_size(size) == expected


@pytest.mark.parametrize("size", ["big", "1280", "0x720", "-5x5", "axb"])
def test_parse_size_rejects(size: str) -> None:
    with pytest.raises(InvalidRequest):
        parse_size(size)


def test_size_to_video_rejects_zero() -> None:
    with pytest.raises(InvalidRequest):
        size_to_video(0, 10)


def test_video_model_aliases() -> None:
    assert video_model("luma") is None
    assert video_model("luma-video-ray2-flash") == "ray-flash-2"
    assert video_model("ray-2") == "ray-2"
    assert video_model("  ") is None
