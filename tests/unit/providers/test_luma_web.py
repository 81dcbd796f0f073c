"""The web provider's pure mapping: the fields the web app cannot express."""

from __future__ import annotations

from lumagate.domain.request import GenerationRequest
from lumagate.providers.luma_web import dropped_fields


def test_web_drops_what_it_cannot_say() -> None:
    assert dropped_fields(GenerationRequest(prompt="x")) == ()
    assert dropped_fields(GenerationRequest(prompt="x", duration="9s", resolution="4k")) == (
        "resolution",
        "duration",
    )
