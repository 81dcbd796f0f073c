"""BodyDeadline as plain ASGI: 408 + close when the body stalls; untouched otherwise."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from lumagate.api.body_deadline import BodyDeadline

Message = dict[str, Any]


async def _echo_app(scope: Any, receive: Any, send: Any) -> None:
    body = b""
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise RuntimeError("client disconnected")  # what Starlette's ClientDisconnect does
        body += message.get("body", b"")
        if not message.get("more_body", False):
            break
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": body})


async def _run(
    messages: list[Message],
    stall: bool,
    seconds: float = 0.2,
    headers: list[tuple[bytes, bytes]] | None = None,
) -> list[Message]:
    queue = list(messages)
    sent: list[Message] = []

    async def receive() -> Message:
        if queue:
            return queue.pop(0)
        if stall:
            await asyncio.sleep(3600)
        return {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        sent.append(message)

    app = BodyDeadline(_echo_app, seconds)
    await asyncio.wait_for(app({"type": "http", "headers": headers or []}, receive, send), 5)
    return sent


async def test_a_stalled_body_gets_408_and_connection_close() -> None:
    sent = await _run(
        [{"type": "http.request", "body": b"14 bytes sent!", "more_body": True}], True
    )
    assert sent[0]["status"] == 408
    assert (b"connection", b"close") in sent[0]["headers"]
    assert b"request_timeout" in sent[1]["body"]
    assert json.loads(sent[1]["body"])["error"]["message"] == (
        "The request body did not arrive in time"
    )
    assert len(sent) == 2  # the app's own error after the disconnect is dropped


async def test_the_408_is_in_chinese_when_the_request_prefers_it() -> None:
    stalled = [{"type": "http.request", "body": b"half", "more_body": True}]
    sent = await _run(stalled, True, headers=[(b"Accept-Language", b"zh-CN,zh;q=0.9")])
    assert sent[0]["status"] == 408
    body = json.loads(sent[1]["body"])
    assert body["error"] == {
        "message": "请求体未能在规定时间内送达",
        "type": "invalid_request_error",
        "code": "request_timeout",
    }
    assert (b"content-length", str(len(sent[1]["body"])).encode()) in sent[0]["headers"]


async def test_a_body_that_arrives_in_time_is_untouched() -> None:
    parts = [
        {"type": "http.request", "body": b"ab", "more_body": True},
        {"type": "http.request", "body": b"cd", "more_body": False},
    ]
    sent = await _run(parts, stall=False)
    assert sent[0]["status"] == 200 and sent[1]["body"] == b"abcd"


async def test_after_the_body_the_deadline_no_longer_applies() -> None:
    async def slow_app(scope: Any, receive: Any, send: Any) -> None:
        await receive()
        await asyncio.sleep(0.4)  # longer than the deadline: working, not waiting for a body
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    sent: list[Message] = []

    async def receive() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Message) -> None:
        sent.append(message)

    await BodyDeadline(slow_app, 0.2)({"type": "http"}, receive, send)
    assert sent[0]["status"] == 204
