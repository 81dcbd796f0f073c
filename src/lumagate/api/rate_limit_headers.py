"""Puts the calling key's rate-limit headers on every keyed response, errors included.

The tenant dependency (``api/deps.py``) leaves a reader on the request's state once it knows
the key; this ASGI middleware awaits it when the response starts, so the numbers count a task
the request just created, and a refused create (429) carries them too. A reader that fails is
logged and the response goes out without the headers rather than failing.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from starlette.datastructures import MutableHeaders
from starlette.types import Message, Receive, Scope, Send

from lumagate.observability.asgi import ScopeMiddleware

log = logging.getLogger(__name__)

STATE_NAME = "rate_limit_headers"  # request.state.rate_limit_headers, set by api/deps.py
HeaderReader = Callable[[], Awaitable[dict[str, str]]]


async def read_headers(reader: HeaderReader) -> dict[str, str]:
    """The headers ``reader`` gives; none (and the failure logged) when it fails. Also used by
    the hot route (``api/hot_routes.py``), which answers before this middleware."""
    try:
        return await reader()
    except Exception:
        log.exception("rate-limit headers could not be read")
        return {}


class RateLimitHeadersMiddleware(ScopeMiddleware):
    """Adds ``x-ratelimit-*`` headers to responses whose request named a key with an rpm."""

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        state: MutableMapping[str, Any] = scope.setdefault("state", {})

        async def send_with_headers(message: Message) -> None:
            reader: HeaderReader | None = state.get(STATE_NAME)
            if message["type"] == "http.response.start" and reader is not None:
                headers = MutableHeaders(scope=message)
                for name, value in (await read_headers(reader)).items():
                    headers[name] = value
            await send(message)

        await self.app(scope, receive, send_with_headers)
