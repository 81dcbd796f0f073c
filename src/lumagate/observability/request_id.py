"""``X-Request-Id``: taken from the request when sane, made otherwise; returned on the response
and bound for every log line of the request (:mod:`lumagate.observability.log_context`).

A client's id is kept only if it is at most 128 characters of letters, digits and ``._:-``
(so a header cannot inject into log lines); anything else is replaced by a fresh UUID.
"""

from __future__ import annotations

import re
import uuid

from starlette.datastructures import MutableHeaders
from starlette.types import Message, Receive, Scope, Send

from lumagate.observability import log_context
from lumagate.observability.asgi import ScopeMiddleware

HEADER = "x-request-id"
_SANE = re.compile(r"[A-Za-z0-9._:\-]{1,128}")


def request_id_from(scope: Scope) -> str:
    for name, value in scope.get("headers", ()):
        if name == HEADER.encode():
            text = value.decode("latin-1")
            if _SANE.fullmatch(text):
                return str(text)
            break
    return uuid.uuid4().hex


class RequestIdMiddleware(ScopeMiddleware):
    """Binds the request id around the app and adds it to the response headers."""

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        request_id = request_id_from(scope)

        async def with_header(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message)[HEADER] = request_id
            await send(message)

        with log_context.bind(request_id=request_id, tenant=None, task_id=None, account=None):
            await self.app(scope, receive, with_header)
