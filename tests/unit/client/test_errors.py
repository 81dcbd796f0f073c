"""Error answers of every dialect shape become the right typed exception."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from lumagate.client.errors import (
    AuthenticationError,
    LumagateError,
    NotFoundError,
    NotReadyError,
    PermissionDeniedError,
    QuotaExceededError,
    RateLimitError,
    ServerError,
    ValidationError,
    error_from_response,
)


def _answer(status: int, body: Any = None, headers: dict[str, str] | None = None) -> httpx.Response:
    request = httpx.Request("GET", "http://gw.test/luma/generations/x")
    if body is None:
        return httpx.Response(status, text="<html>oops</html>", headers=headers, request=request)
    return httpx.Response(status, json=body, headers=headers, request=request)


def _reseller(code: str, message: str = "m") -> dict[str, Any]:
    return {"error": {"message": message, "type": "t", "code": code}}


@pytest.mark.parametrize(
    ("status", "body", "kind"),
    [
        (401, _reseller("invalid_api_key"), AuthenticationError),
        (401, {"message": "bad key"}, AuthenticationError),
        (403, _reseller("quota_not_enough"), QuotaExceededError),
        (403, _reseller("channel_not_allowed"), PermissionDeniedError),
        (404, _reseller("task_not_exist"), NotFoundError),
        (400, _reseller("task_not_completed"), NotReadyError),
        (400, _reseller("invalid_request"), ValidationError),
        (413, _reseller("payload_too_large"), ValidationError),
        (422, {"detail": "Prompt is required"}, ValidationError),
        (500, _reseller("internal_error"), ServerError),
        (502, None, ServerError),
    ],
)
def test_status_and_code_pick_the_class(status: int, body: Any, kind: type[LumagateError]) -> None:
    error = error_from_response(_answer(status, body))
    assert type(error) is kind
    assert error.status == status


def test_message_and_code_come_from_either_shape() -> None:
    reseller = error_from_response(_answer(404, _reseller("task_not_exist", "Task not found")))
    assert (reseller.message, reseller.code) == ("Task not found", "task_not_exist")
    mock = error_from_response(_answer(401, {"message": "Invalid key"}))
    assert (mock.message, mock.code) == ("Invalid key", None)
    bare = error_from_response(_answer(503, None))
    assert bare.message == "HTTP 503 from /luma/generations/x"


def test_rate_limit_reads_retry_after() -> None:
    limited = error_from_response(_answer(429, _reseller("rate_limit"), {"Retry-After": "7"}))
    assert isinstance(limited, RateLimitError) and limited.retry_after == 7.0
    unknown = error_from_response(_answer(429, _reseller("rate_limit"), {"Retry-After": "soon"}))
    assert isinstance(unknown, RateLimitError) and unknown.retry_after is None
