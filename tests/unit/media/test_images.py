"""Image input validation: magic-byte sniffing, data URIs and the URL/data/absent split (no I/O)."""

from __future__ import annotations

import base64
import io

import pytest
from PIL import Image

from lumagate.media.images import (
    ImageData,
    ImageUrl,
    InvalidImage,
    classify_image_input,
    decode_data_uri,
    format_size,
    sniff_image_type,
)

MAX = 10 * 1024 * 1024


def _image_bytes(fmt: str) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), (200, 30, 30)).save(buffer, format=fmt)
    return buffer.getvalue()


PNG = _image_bytes("PNG")
JPEG = _image_bytes("JPEG")
WEBP = _image_bytes("WEBP")
GIF = _image_bytes("GIF")


def _uri(data: bytes, declared: str = "image/png") -> str:
    return f"data:{declared};base64,{base64.b64encode(data).decode()}"


# -- sniffing -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (PNG, "image/png"),
        (JPEG, "image/jpeg"),
        (WEBP, "image/webp"),
        (GIF, "image/gif"),
        (b"GIF87a" + b"\x00" * 10, "image/gif"),
        (b"", None),
        (b"hello world", None),
        (b"RIFF\x00\x00\x00\x00WAVEfmt ", None),
        (b"RIFF\x00\x00", None),
        (b"\x00\x00\x00\x18ftypmp42", None),
        (b"<svg xmlns='http://www.w3.org/2000/svg'/>", None),
    ],
)
def test_sniff_image_type(data: bytes, expected: str | None) -> None:
    assert sniff_image_type(data) == expected


# -- data URIs ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "declared", "expected"),
    [
        (PNG, "image/png", "image/png"),
        (JPEG, "image/jpeg", "image/jpeg"),
        (JPEG, "image/jpg", "image/jpeg"),
        (WEBP, "image/webp", "image/webp"),
        (GIF, "image/gif", "image/gif"),
    ],
)
def test_decode_good_data_uris(data: bytes, declared: str, expected: str) -> None:
    assert decode_data_uri(_uri(data, declared), MAX) == (data, expected)


def test_declared_type_is_not_trusted() -> None:
    decoded, content_type = decode_data_uri(_uri(JPEG, "image/png"), MAX)
    assert decoded == JPEG
    assert content_type == "image/jpeg"


def test_scheme_and_type_are_case_insensitive_and_params_allowed() -> None:
    payload = base64.b64encode(PNG).decode()
    assert decode_data_uri(f"DATA:IMAGE/PNG;BASE64,{payload}", MAX)[1] == "image/png"
    assert decode_data_uri(f"data:image/png;name=a.png;base64,{payload}", MAX)[0] == PNG


def test_oversize_data_uri() -> None:
    with pytest.raises(InvalidImage, match=r"^image is larger than 10 MB$"):
        decode_data_uri(_uri(PNG + b"\x00" * MAX), MAX)
    with pytest.raises(InvalidImage, match="image is larger than"):
        decode_data_uri(_uri(PNG), len(PNG) - 1)
    assert decode_data_uri(_uri(PNG), len(PNG))[0] == PNG


def test_huge_payload_rejected_before_decoding() -> None:
    # Not valid base64 at all, but the length alone settles it.
    with pytest.raises(InvalidImage, match="larger than 1 KB"):
        decode_data_uri("data:image/png;base64," + "!" * 8192, 1024)


@pytest.mark.parametrize(
    ("uri", "message"),
    [
        ("data:image/png;base64,not base64!!", "not valid base64"),
        ("data:image/png;base64,iVBORw0KGgo", "not valid base64"),  # missing padding
        ("data:image/png;base64,iVBO\nRw0KGgo=", "not valid base64"),
        ("data:image/png;base64,", "no image data"),
        ("data:image/png;base64," + base64.b64encode(b"hello world").decode(), "not a supported"),
        ("data:image/png," + "x" * 10, "base64"),
        ("data:text/plain;base64," + base64.b64encode(PNG).decode(), "image type"),
        ("data:;base64," + base64.b64encode(PNG).decode(), "image type"),
        ("data:image/;base64," + base64.b64encode(PNG).decode(), "image type"),
        ("data:image/png;base64" + base64.b64encode(PNG).decode(), "no ','"),
        ("https://example.com/a.png", "data:image/<type>;base64"),
    ],
)
def test_bad_data_uris(uri: str, message: str) -> None:
    with pytest.raises(InvalidImage, match=message) as info:
        decode_data_uri(uri, MAX)
    assert isinstance(info.value, ValueError)
    assert str(info.value) == info.value.message


def test_format_size() -> None:
    assert format_size(10 * 1024 * 1024) == "10 MB"
    assert format_size(1536 * 1024) == "1.5 MB"
    assert format_size(2048) == "2 KB"
    assert format_size(100) == "100 bytes"


# -- classification -------------------------------------------------------------------------


@pytest.mark.parametrize("value", [None, "", "   "])
def test_absent_inputs(value: object) -> None:
    assert classify_image_input(value) is None


@pytest.mark.parametrize(
    "url",
    [
        "https://example.com/a.png",
        "http://example.com:8080/path/a.jpg?x=1#frag",
        "HTTPS://EXAMPLE.COM/A.PNG",
        "http://127.0.0.1/a.png",
        "http://[::1]:9000/a.png",
    ],
)
def test_urls(url: str) -> None:
    assert classify_image_input(url) == ImageUrl(url)


def test_url_is_stripped() -> None:
    assert classify_image_input("  https://example.com/a.png\n") == ImageUrl(
        "https://example.com/a.png"
    )


def test_data_uri_input() -> None:
    result = classify_image_input(_uri(PNG))
    assert result == ImageData(PNG, "image/png")
    assert isinstance(result, ImageData)
    assert result.suffix == ".png"
    jpeg = classify_image_input(_uri(JPEG, "image/png"))
    assert isinstance(jpeg, ImageData)
    assert jpeg.suffix == ".jpg"


def test_data_uri_input_respects_max_bytes() -> None:
    with pytest.raises(InvalidImage, match="larger than"):
        classify_image_input(_uri(PNG), max_bytes=10)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (42, "must be a string"),
        (b"https://example.com/a.png", "must be a string"),
        ({"url": "https://example.com/a.png"}, "must be a string"),
        (["https://example.com/a.png"], "must be a string"),
        ("ftp://example.com/a.png", "http\\(s\\) URL"),
        ("file:///etc/passwd", "http\\(s\\) URL"),
        ("media:uploads/ab/x.png", "http\\(s\\) URL"),
        ("javascript:alert(1)", "http\\(s\\) URL"),
        ("not an image", "http\\(s\\) URL"),
        ("iVBORw0KGgoAAAANSUhEUg==", "http\\(s\\) URL"),
        ("http://", "host"),
        ("https:///a.png", "host"),
        ("http://[::1/a.png", "malformed"),
        ("http://example.com:99999/a.png", "malformed"),
        ("http://example.com:abc/a.png", "malformed"),
        ("http://example.com:0/a.png", "port"),
        ("http://example.com/a b.png", "whitespace"),
        ("http://example.com/" + "a" * 2048, "longer than 2048"),
        ("data:text/html;base64,PGgxPg==", "image type"),
    ],
)
def test_invalid_inputs(value: object, message: str) -> None:
    with pytest.raises(InvalidImage, match=message):
        classify_image_input(value)
