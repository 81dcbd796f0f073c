"""The OpenAI videos dialect: seconds to a Luma duration."""

from __future__ import annotations

import pytest

from lumagate.api.openai_videos import _duration
from lumagate.domain.errors import InvalidRequest


def test_openai_seconds() -> None:
    assert _duration(None) == "5s"
    assert _duration("4") == "5s"
    assert _duration(8) == "9s"
    assert _duration("12s") == "9s"
    for bad in ("long", "0", "-3", "nan"):
        with pytest.raises(InvalidRequest):
            _duration(bad)
