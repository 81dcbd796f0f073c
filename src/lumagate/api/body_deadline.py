"""A deadline for receiving a request body: a stalled upload cannot pin a connection for ever.

A client that declares ``Content-Length: 1000`` and sends 14 bytes leaves the app waiting in
``receive()`` indefinitely: uvicorn has no body timeout. :class:`BodyDeadline` is a pure ASGI
middleware that gives each request ``seconds`` from its start for the whole body to arrive.
When the deadline passes while the app waits for body bytes, the middleware answers
``408 Request Timeout`` with ``Connection: close`` (so the server closes the connection) and
tells the app the client went away (``http.disconnect``); anything the app sends afterwards is
dropped. Requests that are not waiting for a body (GETs, a body already read) are untouched.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from lumagate.domain import messages as msg
from lumagate.domain.messages import ENGLISH, Language, preferred_language
from lumagate.observability.asgi import ScopeMiddleware

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


def timeout_body(language: Language) -> bytes:
    """The 408's body, in the request's language (read from the scope's headers)."""
    error = {
        "message": msg.BODY_LATE().render(language),
        "type": "invalid_request_error",
        "code": "request_timeout",
    }
    return json.dumps({"error": error}, ensure_ascii=False).encode()


def _language(scope: Scope) -> Language:
    for name, value in scope.get("headers") or ():
        if name.lower() == b"accept-language":
            return preferred_language(value.decode("latin-1"))
    return ENGLISH


class BodyDeadline(ScopeMiddleware):
    """ASGI middleware: 408 and a closed connection when a body takes over ``seconds``."""

    def __init__(self, app: ASGIApp, seconds: float) -> None:
        super().__init__(app)
        self.seconds = seconds

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        await _Exchange(self.seconds, receive, send, _language(scope)).run(self.app, scope)


class _Exchange:
    """One request's view of the deadline."""

    def __init__(self, seconds: float, receive: Receive, send: Send, language: Language) -> None:
        self.language = language
        self.deadline = asyncio.get_running_loop().time() + seconds
        self.seconds = seconds
        self._receive = receive
        self._send = send
        self.body_done = False
        self.response_started = False
        self.timed_out = False

    async def run(self, app: ASGIApp, scope: Scope) -> None:
        try:
            await app(scope, self.receive, self.send)
        except Exception:
            if not self.timed_out:
                raise
            # The app failed because its body never came (ClientDisconnect): already answered.

    async def receive(self) -> Message:
        if self.timed_out:
            return {"type": "http.disconnect"}
        if self.body_done:
            return await self._receive()
        remaining = self.deadline - asyncio.get_running_loop().time()
        try:
            async with asyncio.timeout(max(remaining, 0.0)):
                message = await self._receive()
        except TimeoutError:
            await self._time_out()
            return {"type": "http.disconnect"}
        if message["type"] != "http.request" or not message.get("more_body", False):
            self.body_done = True
        return message

    async def send(self, message: Message) -> None:
        if self.timed_out:
            return  # the 408 went out instead
        if message["type"] == "http.response.start":
            self.response_started = True
        await self._send(message)

    async def _time_out(self) -> None:
        self.timed_out = True
        if self.response_started:
            return  # too late for a status; the disconnect ends the exchange
        body = timeout_body(self.language)
        await self._send(
            {
                "type": "http.response.start",
                "status": 408,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                    (b"connection", b"close"),
                ],
            }
        )
        await self._send({"type": "http.response.body", "body": body})
