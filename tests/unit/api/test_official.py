"""The official dialect's creation rules, with Luma's own messages."""

from __future__ import annotations

from typing import Any

import pytest

from lumagate.api.official import _check_rules
from lumagate.api.official_shapes import OfficialCreateBody
from lumagate.domain.errors import InvalidRequest


def _rules(**body: Any) -> str:
    return _check_rules(OfficialCreateBody.model_validate(body))


def test_official_rules() -> None:
    image = {"type": "image", "url": "https://x/a.png"}
    assert _rules(prompt="  a cat  ") == "a cat"
    assert _rules(keyframes={"frame0": image}) == ""  # a start frame needs no prompt
    for body, message in [
        ({}, "Prompt is required"),
        ({"prompt": "ab"}, "Prompt is too short, minimum length is 3 characters"),
        ({"prompt": "abc", "keyframes": {}}, "No keyframes provided"),
        ({"prompt": "abc", "loop": True, "keyframes": {"frame1": image}}, "Loop is not supported"),
        ({"prompt": "abc", "generation_type": "add_audio"}, "not supported by this gateway"),
    ]:
        with pytest.raises(InvalidRequest, match=message):
            _rules(**body)
