"""The reseller create, answered without FastAPI's router and dependency solving.

``POST {prefix}/luma/generations`` is the gateway's write: with ~184 routes, FastAPI walked the
routes before it and solved its dependencies (the task service, the key, the request) before a
create that is now one write transaction of three statements. This innermost ASGI middleware
recognises the create's paths with one regular expression and runs the route's own steps: the
key by :func:`lumagate.api.deps.bearer_tenant` (log field and rate-limit headers included), the
channel check, the body by :func:`lumagate.api.body.read_model` into the route's
:class:`~lumagate.api.reseller.GenerationBody`, the create, the flat body, and every refusal by
:func:`lumagate.api.errors.error_response` in the reseller dialect. It sits inside the whole
middleware stack (request id, metrics, CORS, rate-limit headers, boundary, body deadline all
apply as before); an unexpected error reaches the app's 500 handler as a route's would. The
FastAPI routes stay registered for the OpenAPI document and answer the same
(tests/integration/api/test_hot_create.py).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from lumagate.api.body import read_model
from lumagate.api.deps import ApiServices, bearer_tenant
from lumagate.api.errors import error_response
from lumagate.api.luma_shapes import flat_generation
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

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "POST":
            found = CREATE_PATH.fullmatch(scope["path"])
            if found is not None:
                scope["route"] = CreateRoute(scope["path"])
                request = Request(scope, receive)
                response = await _create(request, found.group(1) or "")
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


async def _create(request: Request, prefix: str) -> JSONResponse:
    """The reseller create route's steps (``api/reseller.py``), errors in its dialect."""
    services: ApiServices = request.app.state.services
    channel = PREFIXES[prefix]
    try:
        tenant = await bearer_tenant(request)
        Authenticator.require_channel(tenant, channel)
        body = await read_model(request, GenerationBody, services.settings.max_body_bytes)
        command = body.command(channel, request.headers.get("idempotency-key"))
        task = await services.tasks.create(tenant, command)
        return JSONResponse(await flat_generation(task, services.tasks))
    except GatewayError as error:
        return error_response(request, error)
