"""Every new-api submit form maps onto the create, or is a 400 naming the field."""

from __future__ import annotations

from typing import Any

import pytest

from lumagate.api.newapi_forms import to_form
from lumagate.domain.errors import InvalidRequest

PNG = "data:image/png;base64,iVBORw0KGgo="


def test_go_video_request_zero_values_are_the_defaults() -> None:
    # Go's VideoRequest always sends duration/width/height (0 when unset).
    form = to_form({"model": "ray-2", "prompt": "a cat", "duration": 0, "width": 0, "height": 0})
    assert (form.aspect_ratio, form.resolution, form.duration) == ("16:9", "720p", "5s")
    assert form.model == "ray-2" and form.loop is False and form.expand_prompt is True


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"aspect_ratio": "9:16"}, ("9:16", "720p", "5s")),
        ({"seconds": "9"}, ("16:9", "720p", "9s")),
        ({"seconds": 9}, ("16:9", "720p", "9s")),
        ({"duration": 9.0}, ("16:9", "720p", "9s")),
        ({"size": "960x540"}, ("16:9", "540p", "5s")),
        ({"size": "1080x1080"}, ("1:1", "1080p", "5s")),
        ({"width": 720, "height": 1280}, ("9:16", "720p", "5s")),
        ({"size": "1280x720", "aspect_ratio": "4:3"}, ("4:3", "720p", "5s")),
        ({"metadata": {"aspect_ratio": "1:1", "resolution": "540p"}}, ("1:1", "540p", "5s")),
        ({"metadata": {"seconds": "9"}}, ("16:9", "720p", "9s")),
        ({"seconds": "9", "duration": 9}, ("16:9", "720p", "9s")),
    ],
    ids=[
        "aspect_ratio",
        "seconds-text",
        "seconds-int",
        "duration-float",
        "size",
        "size-square",
        "width-height",
        "explicit-aspect-wins",
        "metadata",
        "metadata-seconds",
        "agreeing-durations",
    ],
)
def test_each_form_sets_the_render(body: dict[str, Any], expected: tuple[str, str, str]) -> None:
    form = to_form({"prompt": "a cat", **body})
    assert (form.aspect_ratio, form.resolution, form.duration) == expected


def test_images_in_each_form() -> None:
    assert to_form({"image": PNG}).start_image == PNG
    both = to_form({"prompt": "x", "images": [PNG, "https://example.com/e.png"]})
    assert (both.start_image, both.end_image) == (PNG, "https://example.com/e.png")
    assert (both.fields.start_image, both.fields.end_image) == ("images[0]", "images[1]")
    media = to_form(
        {
            "prompt": "x",
            "media": [
                {"type": "image", "url": "https://example.com/s.png"},
                {"type": "image", "image_url": {"url": "https://example.com/e.png"}},
            ],
        }
    )
    assert (media.start_image, media.end_image) == (
        "https://example.com/s.png",
        "https://example.com/e.png",
    )
    bare = to_form({"media": [{"type": "image", "data": "iVBORw0KGgo="}]})
    assert bare.start_image == PNG  # bare base64 becomes a data URI (the type is sniffed)
    end = to_form({"image": PNG, "metadata": {"image_end": "https://example.com/e.png"}})
    assert end.end_image == "https://example.com/e.png"
    assert (end.fields.start_image, end.fields.end_image) == ("image", "metadata.image_end")
    assert to_form({"prompt": "x", "metadata": {"callback_url": "https://h/cb"}}).callback_url


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"seconds": "10"}, "seconds"),
        ({"duration": 4}, "duration"),
        ({"seconds": "5", "duration": 9}, None),
        ({"media": [{"type": "video", "url": "https://example.com/v.mp4"}]}, "media[0].type"),
        ({"media": [{"type": "image"}]}, "media[0]"),
        ({"media": [{"type": "image", "url": "https://e/x", "role": "first"}]}, "media[0].role"),
        ({"image": PNG, "images": [PNG]}, "images"),
        ({"images": [PNG, PNG, PNG]}, "images"),
        ({"metadata": {"negative_prompt": "rain"}}, "metadata.negative_prompt"),
        ({"style": "anime"}, "style"),
        ({"seed": 42}, "seed"),
        ({"n": 2}, "n"),
        ({"fps": 30}, "fps"),
        ({"response_format": "b64_json"}, "response_format"),
        ({"size": "big"}, "size"),
        ({"size": "1280x720", "width": 540, "height": 540}, None),
        ({"aspect_ratio": "16:9", "metadata": {"aspect_ratio": "1:1"}}, None),
        ({"loop": "sometimes"}, "loop"),
        ({"metadata": {"callback_url": "ftp://h"}}, "metadata.callback_url"),
        ({"callback_url": "ftp://h"}, "callback_url"),
        ({"metadata": []}, "metadata"),
    ],
    ids=[
        "seconds-10",
        "duration-4",
        "durations-disagree",
        "media-video",
        "media-no-source",
        "media-unknown-key",
        "two-image-forms",
        "three-images",
        "metadata-unknown",
        "top-level-unknown",
        "seed",
        "n",
        "fps",
        "response-format",
        "bad-size",
        "sizes-disagree",
        "aspects-disagree",
        "bad-loop",
        "bad-metadata-callback",
        "bad-callback",
        "metadata-not-object",
    ],
)
def test_unsupported_values_are_400_naming_the_field(
    body: dict[str, Any], field: str | None
) -> None:
    with pytest.raises(InvalidRequest) as caught:
        to_form({"prompt": "a cat", **body})
    if field is not None:
        assert caught.value.field == field, caught.value.message
    else:
        assert "different values" in caught.value.message


def test_prompt_or_image_is_required_and_user_is_accepted() -> None:
    with pytest.raises(InvalidRequest) as caught:
        to_form({"prompt": "  "})
    assert caught.value.field == "prompt"
    assert to_form({"prompt": "a", "user": "u-1", "n": 1, "fps": 24, "seed": 0}).prompt == "a"
