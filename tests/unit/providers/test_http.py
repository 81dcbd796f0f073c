"""Upstream status codes and transport errors become the provider errors the engine acts on."""

from __future__ import annotations

import httpx
import pytest

from lumagate.providers.base import (
    GONE,
    AuthenticationFailed,
    RateLimited,
    Rejected,
    TransientError,
)
from lumagate.providers.http import (
    AccountExhausted,
    UpstreamHttp,
    UpstreamNotFound,
    error_detail,
    fetch_or_gone,
    is_loopback_url,
    map_status,
    retry_after_seconds,
)


def _response(
    status: int, body: object = None, headers: dict[str, str] | None = None
) -> httpx.Response:
    return httpx.Response(status, json=body, headers=headers)


@pytest.mark.parametrize(
    ("status", "body", "kind"),
    [
        (429, {"detail": "Too many"}, RateLimited),
        (401, {"detail": "Invalid API key"}, AuthenticationFailed),
        (403, {"error": {"message": "quota_not_enough credits"}}, AccountExhausted),
        (400, {"detail": "Insufficient credits"}, AccountExhausted),
        (404, {"detail": "Generation not found"}, UpstreamNotFound),
        (400, {"detail": "Prompt is too short"}, Rejected),
        (500, {"detail": "Internal server error"}, TransientError),
        (502, None, TransientError),
        (408, None, TransientError),
    ],
)
def test_status_mapping(status: int, body: object, kind: type[Exception]) -> None:
    error = map_status(_response(status, body), "a call")
    assert isinstance(error, kind)


def test_success_is_no_error_and_a_refusal_keeps_the_upstream_words() -> None:
    assert map_status(_response(201, {}), "x") is None
    error = map_status(_response(400, {"detail": "Loop is not supported for end frame"}), "x")
    assert isinstance(error, Rejected) and error.message == "Loop is not supported for end frame"


def test_retry_after_in_seconds_and_as_a_date() -> None:
    limited = map_status(_response(429, {}, {"Retry-After": "7"}), "x")
    assert isinstance(limited, RateLimited) and limited.retry_after == 7.0
    assert retry_after_seconds(None) is None and retry_after_seconds("soon") is None
    assert retry_after_seconds("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0  # in the past


def test_error_detail_shapes() -> None:
    assert error_detail(_response(400, {"detail": [{"msg": "a"}, {"msg": "b"}]})) == "a; b"
    assert error_detail(_response(400, {"message": "m"})) == "m"
    assert error_detail(httpx.Response(500, text="plain words")) == "plain words"


def test_loopback_detection() -> None:
    assert is_loopback_url("http://127.0.0.1:8000/files/x")
    assert is_loopback_url("http://localhost/x") and is_loopback_url("http://[::1]:9/")
    assert not is_loopback_url("https://gateway.example.com/files/x")


async def test_safe_calls_are_retried_and_creates_are_not() -> None:
    calls: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request.method)
        if len(calls) < 3:
            return httpx.Response(503, json={"detail": "busy"})
        return httpx.Response(200, json={"ok": True})

    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as client:
        http = UpstreamHttp(client, attempts=3, backoff_seconds=0.001, max_backoff_seconds=0.002)
        assert await http.json("GET", "http://up/x", what="x") == {"ok": True}
        assert calls == ["GET", "GET", "GET"]
        calls.clear()
        with pytest.raises(TransientError):
            await http.json("POST", "http://up/x", what="a create", json={})
        assert calls == ["POST"]


async def test_timeouts_and_connection_errors_are_transient() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectTimeout("slow", request=request)

    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as client:
        http = UpstreamHttp(client, attempts=2, backoff_seconds=0.001, max_backoff_seconds=0.002)
        with pytest.raises(TransientError, match="did not answer in time"):
            await http.send("GET", "http://up/x", what="x")


async def _answer(value: object) -> object:
    return value


async def _not_found() -> object:
    raise UpstreamNotFound("The upstream does not know generation g-1")


async def _refused() -> object:
    raise Rejected("bad request")


async def test_fetch_or_gone_keeps_an_object_and_turns_a_404_into_a_gone_record() -> None:
    assert await fetch_or_gone("g-1", _answer({"id": "g-1", "state": "completed"})) == {
        "id": "g-1",
        "state": "completed",
    }
    assert await fetch_or_gone("g-1", _answer(["not", "an", "object"])) is None
    assert await fetch_or_gone("g-1", _not_found()) == {
        "id": "g-1",
        "state": "failed",
        "failure_reason": GONE,
    }
    with pytest.raises(Rejected, match="bad request"):  # only a 404 means gone
        await fetch_or_gone("g-1", _refused())
