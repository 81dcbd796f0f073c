"""``byte_range``: the one ``Range`` header rule of ``/files`` for media in object storage."""

from __future__ import annotations

import pytest

from lumagate.api.files import byte_range

SIZE = 1000


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("bytes=0-99", (0, 100)),
        ("bytes=900-", (900, 1000)),
        ("bytes=-100", (900, 1000)),
        ("bytes=-5000", (0, 1000)),
        ("bytes=990-5000", (990, 1000)),
        ("bytes=999-999", (999, 1000)),
    ],
    ids=["first-100", "open-end", "suffix", "suffix-over", "end-over", "last-byte"],
)
def test_satisfiable(header: str, expected: tuple[int, int]) -> None:
    assert byte_range(header, SIZE) == expected


@pytest.mark.parametrize(
    "header", ["bytes=1000-", "bytes=5000-6000", "bytes=-0"], ids=["at-end", "past", "empty-suffix"]
)
def test_unsatisfiable(header: str) -> None:
    assert byte_range(header, SIZE) is False


@pytest.mark.parametrize(
    "header",
    [None, "", "bytes=0-1,5-6", "items=0-1", "bytes=-", "bytes=9-1", "bytes=a-b"],
    ids=["none", "empty", "multi", "unit", "dash", "reversed", "letters"],
)
def test_whole_file(header: str | None) -> None:
    assert byte_range(header, SIZE) is None
