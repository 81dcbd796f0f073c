"""The flat shape's upload answer: its ``public_url`` (a string or an ``{"url"}`` object), or a
transient error naming who left it out, so the upload is tried again."""

from __future__ import annotations

import pytest

from lumagate.providers.base import TransientError
from lumagate.providers.flat_shape import upload_public_url


def test_an_upload_answer_gives_its_public_url() -> None:
    assert upload_public_url({"public_url": "https://cdn.example/a.jpg"}, "relay") == (
        "https://cdn.example/a.jpg"
    )
    assert upload_public_url({"public_url": {"url": "https://cdn.example/b.jpg"}}, "relay") == (
        "https://cdn.example/b.jpg"
    )


@pytest.mark.parametrize("answer", [{}, {"public_url": ""}, ["https://cdn.example/a.jpg"], None])
def test_an_answer_without_one_is_a_transient_error_naming_the_upstream(answer: object) -> None:
    with pytest.raises(TransientError, match=r"^The relay gave no public URL for the upload$"):
        upload_public_url(answer, "relay")
