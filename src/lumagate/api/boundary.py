"""The one check every request passes before any route runs: bounded, storable input.

Routes read bodies two ways (by hand through :mod:`lumagate.api.body`, or declared to FastAPI),
and query strings and path parameters reach the store as they are. This ASGI middleware looks
at all of them once, whatever the dialect:

- the path and every query parameter: no NUL (PostgreSQL refuses it in any text), each query
  value at most ``MAX_QUERY_VALUE`` characters;
- a request body that is not multipart: at most ``max_body_bytes`` (413), and when it parses as
  JSON, nested at most ``MAX_JSON_DEPTH`` deep, every string valid Unicode without NUL, every
  number finite (see :func:`lumagate.domain.limits.check_document`).

A body that is not JSON at all is passed on untouched, so each dialect still answers malformed
JSON in its own words. Refusals are answered in the caller's dialect (:mod:`lumagate.api.errors`).
Field lengths and value ranges are checked where their meaning lives: the services.
"""

from __future__ import annotations

import json
from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from lumagate.api.errors import error_response
from lumagate.domain import messages as msg
from lumagate.domain.errors import GatewayError, InvalidRequest, PayloadTooLarge
from lumagate.domain.limits import MAX_JSON_DEPTH, MAX_QUERY_VALUE, check_document, problem_text
from lumagate.observability.asgi import ScopeMiddleware

BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def _refuse_constant(name: str) -> float:
    raise InvalidRequest(msg.NOT_JSON_NUMBER(name=name))


def check_query(scope: Scope) -> None:
    path = str(scope.get("path", ""))
    if "\x00" in path:
        raise InvalidRequest(msg.PATH_NUL())
    raw = bytes(scope.get("query_string", b"")).decode("latin-1")
    for name, value in parse_qsl(raw, keep_blank_values=True):
        for text in (name, value):
            problem = problem_text(text)
            if problem is not None:
                raise InvalidRequest(
                    msg.QUERY_PROBLEM(name=repr(name), problem=problem), field=name
                )
        if len(value) > MAX_QUERY_VALUE:
            raise InvalidRequest(
                msg.QUERY_TOO_LONG(name=name, maximum=MAX_QUERY_VALUE),
                field=name,
                code="too_long",
            )


def check_body(raw: bytes) -> None:
    """Refuse a JSON body that is too deep or holds unstorable text; pass anything else on."""
    if not raw.strip():
        return
    try:
        document = json.loads(raw, parse_constant=_refuse_constant)
    except RecursionError:
        raise InvalidRequest(msg.JSON_TOO_DEEP(depth=MAX_JSON_DEPTH), code="too_deep") from None
    except (ValueError, UnicodeDecodeError):
        return  # not JSON: the route answers that in its dialect's own words
    check_document(document)


class BoundaryMiddleware(ScopeMiddleware):
    """Pure ASGI (no ``BaseHTTPMiddleware``): buffers a bounded body once and replays it."""

    def __init__(self, app: ASGIApp, max_body_bytes: int) -> None:
        super().__init__(app)
        self.max_body_bytes = max_body_bytes

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            check_query(scope)
            if scope["method"] not in BODY_METHODS or self._is_multipart(scope):
                await self.app(scope, receive, send)
                return
            body = await read_body(receive, self.max_body_bytes)
            if body is None:
                return  # the client went away
            check_body(body)
        except GatewayError as error:
            await error_response(Request(scope), error)(scope, receive, send)
            return
        await self.app(scope, replay_body(body, receive), send)

    @staticmethod
    def _is_multipart(scope: Scope) -> bool:
        for name, value in scope.get("headers", ()):
            if name == b"content-type":
                return bytes(value).lower().startswith(b"multipart/")
        return False


async def read_body(receive: Receive, max_body_bytes: int) -> bytes | None:
    """The whole body (413 past ``max_body_bytes``), or None when the client went away."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return None
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > max_body_bytes:
            raise PayloadTooLarge(msg.BODY_TOO_LARGE(limit=max_body_bytes))
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


def replay_body(body: bytes, receive: Receive) -> Receive:
    """``receive`` that gives the body read already, then waits as ``receive`` does."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()  # after the body: wait for the disconnect as usual

    return replay
