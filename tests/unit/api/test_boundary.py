"""The boundary checks of query strings and JSON bodies (the middleware's pure parts)."""

from __future__ import annotations

import pytest

from lumagate.api.boundary import check_body, check_query
from lumagate.domain.errors import InvalidRequest
from lumagate.domain.limits import MAX_QUERY_VALUE


def _scope(path: str = "/x", query: bytes = b"") -> dict[str, object]:
    return {"type": "http", "path": path, "query_string": query}


def test_queries_with_nul_or_over_long_values_are_refused_by_name() -> None:
    check_query(_scope(query=b"offset=10&key=abc&empty="))
    with pytest.raises(InvalidRequest, match="'key'") as info:
        check_query(_scope(query=b"key=a%00b"))
    assert info.value.field == "key"
    with pytest.raises(InvalidRequest, match="longer than"):
        check_query(_scope(query=b"q=" + b"a" * (MAX_QUERY_VALUE + 1)))
    with pytest.raises(InvalidRequest, match="path"):
        check_query(_scope(path="/admin/keys/a\x00b"))


def test_bodies_too_deep_or_with_non_numbers_are_refused_and_non_json_passes() -> None:
    check_body(b"")
    check_body(b'{"prompt": ')  # malformed: left to the dialect's own answer
    check_body(b"\xff\xfe not json")
    check_body(b'{"user_prompt": "a fox \\ud83d\\ude00"}')  # a real pair is a real emoji
    with pytest.raises(InvalidRequest, match="nested"):
        check_body(b"[" * 100_000 + b"]" * 100_000)
    with pytest.raises(InvalidRequest, match="nested"):
        check_body(b"[" * 100_000)  # unfinished too
    for constant in (b"NaN", b"Infinity", b"-Infinity"):
        with pytest.raises(InvalidRequest, match="not a JSON number"):
            check_body(b'{"expires_days": ' + constant + b"}")
    with pytest.raises(InvalidRequest) as info:
        check_body(b'{"user_prompt": "\\ud800"}')
    assert info.value.field == "user_prompt"
