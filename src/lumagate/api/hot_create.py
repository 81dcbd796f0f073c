"""The reseller create, answered before the middleware stack and the router.

``POST {prefix}/luma/generations`` is the gateway's write. Once the create was one write
transaction, what was left around it was generic: six middleware layers (~0.5 ms of a create's
CPU) and the walk of ~184 routes with FastAPI's dependency solving. This middleware sits just
inside :class:`~lumagate.api.hot_routes.HotRoutes` (outside everything else), recognises the
create's paths with one regular expression and does itself, cheaply, what each layer would have
done for it:

- BodyDeadline: the same middleware, wrapped around this answer only (408 when the body is late);
- RequestId: the ``X-Request-Id`` kept or made, bound for every log line, on the response;
- HttpMetrics: one observation under the path (the create's paths have no parameter; these two
  by :class:`~lumagate.api.hot_observe.ObservedAnswers`, shared with ``api/hot_routes.py``);
- CORS: a request with an ``Origin`` header goes through the whole stack instead, so a browser
  gets exactly what ``CORSMiddleware`` answers; a multipart body likewise (the boundary leaves it
  to the route, whose refusals then come in the route's order);
- Boundary: the query checked, the body read up to ``max_body_bytes`` (413) and checked
  (:func:`lumagate.api.boundary.check_body`) before the key is;
- RateLimitHeaders: the key's ``x-ratelimit-*`` headers on every answer once the key is known;
- the route (``api/reseller.py``): the key by :func:`lumagate.api.deps.bearer_tenant`, the
  channel check, the body by :func:`lumagate.api.body.read_model` into the route's
  :class:`~lumagate.api.reseller.GenerationBody`, the create, the flat body, every refusal by
  :func:`lumagate.api.errors.error_response` in the reseller dialect.

An unexpected error reaches Starlette's ServerErrorMiddleware, which gives the dialect's 500 as
it does for a route. The FastAPI routes stay registered for the OpenAPI document and answer the
same (tests/integration/api/test_hot_create.py).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from lumagate.api.body import read_model
from lumagate.api.body_deadline import BodyDeadline
from lumagate.api.boundary import check_body, check_query, read_body, replay_body
from lumagate.api.deps import ApiServices, bearer_tenant
from lumagate.api.errors import error_response
from lumagate.api.hot_observe import ObservedAnswers
from lumagate.api.luma_shapes import flat_generation
from lumagate.api.rate_limit_headers import STATE_NAME, HeaderReader, read_headers
from lumagate.api.reseller import PREFIXES, GenerationBody
from lumagate.domain.errors import GatewayError
from lumagate.service.auth import Authenticator

# The reseller create under every prefix and base, with or without the slash (api/reseller.py).
CREATE_PATH = re.compile(r"(/vip|/pro)?/luma/(?:v1/|V1/)?generations/?")


@dataclass(frozen=True)
class CreateRoute:
    """What ``scope["route"]`` carries for the metrics (``observability/http.py`` reads
    ``.path``): the create's paths have no parameter, so the template is the path."""

    path: str


class HotCreate:
    """Answers ``POST …/luma/generations`` directly; everything else goes to ``app``."""

    def __init__(self, app: ASGIApp, *, max_body_bytes: int, body_timeout_seconds: float) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self._deadline = BodyDeadline(self._observed, body_timeout_seconds)
        self._answers = ObservedAnswers("POST")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "POST":
            found = CREATE_PATH.fullmatch(scope["path"])
            if found is not None and not _needs_the_stack(scope):
                scope["route"] = CreateRoute(scope["path"])
                await self._deadline(scope, receive, send)
                return
        await self.app(scope, receive, send)

    async def _observed(self, scope: Scope, receive: Receive, send: Send) -> None:
        """The create's answer (None: the client went away before its body came), observed."""
        max_body_bytes = self.max_body_bytes
        await self._answers.send(
            lambda _services: _create(scope, receive, max_body_bytes),
            scope["path"],
            scope,
            receive,
            send,
        )


async def _create(scope: Scope, receive: Receive, max_body_bytes: int) -> JSONResponse | None:
    """The boundary's checks, then the reseller create route's steps, errors in its dialect."""
    request = Request(scope, receive)
    try:
        check_query(scope)
        raw = await read_body(receive, max_body_bytes)
        if raw is None:
            return None
        check_body(raw)
        request = Request(scope, replay_body(raw, receive))
        response = await _routed(request)
    except GatewayError as error:
        response = error_response(request, error)
    reader: HeaderReader | None = scope.get("state", {}).get(STATE_NAME)
    if reader is not None:  # the key is known and has an rpm (api/deps.note_rate_limits)
        for name, value in (await read_headers(reader)).items():
            response.headers[name] = value
    return response


async def _routed(request: Request) -> JSONResponse:
    services: ApiServices = request.app.state.services
    found = CREATE_PATH.fullmatch(request.scope["path"])
    channel = PREFIXES[(found.group(1) if found else None) or ""]
    tenant = await bearer_tenant(request)
    Authenticator.require_channel(tenant, channel)
    body = await read_model(request, GenerationBody, services.settings.max_body_bytes)
    command = body.command(channel, request.headers.get("idempotency-key"))
    task = await services.tasks.create(tenant, command)
    return JSONResponse(await flat_generation(task, services.tasks))


def _needs_the_stack(scope: Scope) -> bool:
    """An ``Origin`` header (CORS may add headers or answer) or a multipart body."""
    for name, value in scope["headers"]:
        if name == b"origin":
            return True
        if name == b"content-type" and bytes(value).lower().startswith(b"multipart/"):
            return True
    return False
