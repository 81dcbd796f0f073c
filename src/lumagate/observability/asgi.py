"""The preamble every pure ASGI middleware of the gateway shares, written once.

Each middleware (request id, HTTP metrics, rate-limit headers, body deadline, boundary checks,
the heap freeze at start-up) acts on one kind of scope and must hand every other kind to the app
untouched; :class:`ScopeMiddleware` does that pass-through, so a middleware keeps only its work.
It lives here, the lowest layer that has such a middleware.
"""

from __future__ import annotations

from abc import ABC, abstractmethod

from starlette.types import ASGIApp, Receive, Scope, Send


class ScopeMiddleware(ABC):
    """Runs :meth:`handle` for scopes of type ``handles`` and passes any other to ``app``."""

    handles = "http"

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != self.handles:
            await self.app(scope, receive, send)
            return
        await self.handle(scope, receive, send)

    @abstractmethod
    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        """This middleware's work on a scope of its type (it calls ``self.app`` itself)."""
