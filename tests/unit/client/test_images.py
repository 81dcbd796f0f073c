"""Image inputs: URLs pass through, paths and bytes become data URIs of the right type."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from lumagate.client.errors import ValidationError
from lumagate.client.images import image_reference, media_type

PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 16
JPEG = b"\xff\xd8\xff\xe0" + b"\0" * 16
WEBP = b"RIFF\0\0\0\0WEBPVP8 " + b"\0" * 8
GIF = b"GIF89a" + b"\0" * 16


@pytest.mark.parametrize(
    ("data", "kind"),
    [(PNG, "image/png"), (JPEG, "image/jpeg"), (WEBP, "image/webp"), (GIF, "image/gif")],
)
def test_media_type_by_bytes(data: bytes, kind: str) -> None:
    assert media_type(data) == kind


def test_urls_pass_unchanged() -> None:
    for url in ("https://example.com/a.png", "http://h/x", "data:image/png;base64,AAAA"):
        assert image_reference(url) == url
    assert image_reference(None) is None


def test_bytes_and_paths_become_data_uris(tmp_path: Path) -> None:
    path = tmp_path / "a.jpg"
    path.write_bytes(JPEG)
    for value in (JPEG, path, str(path)):
        ref = image_reference(value)
        assert ref is not None and ref.startswith("data:image/jpeg;base64,")
        assert base64.b64decode(ref.split(",", 1)[1]) == JPEG


def test_unreadable_or_unknown_images_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="cannot read"):
        image_reference(tmp_path / "missing.png")
    with pytest.raises(ValidationError, match="not a PNG"):
        image_reference(b"plain text")
