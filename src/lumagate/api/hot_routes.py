"""The hottest client read, answered without FastAPI's router and dependency solving.

A client polling for its video sends ``GET {prefix}/luma/generations/{id}`` every few seconds;
with ~184 routes, FastAPI walked most of them and solved the dependencies of the handler
before the one statement that reads the key and the task together. This innermost ASGI
middleware recognises that path with one regular expression and answers it itself, with the
same body (``flat_generation``), the same errors in the reseller dialect
(:func:`lumagate.api.errors.error_response`), the same log field and rate-limit headers. Every
other request passes through untouched; the FastAPI route stays registered for the OpenAPI
document and would answer the same.

The body is rendered by Starlette's ``JSONResponse`` (``json.dumps``): orjson encodes this
body in 0.24 µs against 4.2 µs, under 2% of a GET, so it is not worth a dependency; the cost
that mattered was FastAPI's ``jsonable_encoder`` (29 µs), which a returned ``Response`` skips.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from lumagate.api.deps import ApiServices, note_rate_limits
from lumagate.api.errors import error_response
from lumagate.api.luma_shapes import flat_generation
from lumagate.domain import messages as msg
from lumagate.domain.errors import GatewayError, TaskNotFound
from lumagate.observability import log_context
from lumagate.security.keys import parse_authorization
from lumagate.service.tasks import plausible_task_id

# The reseller GET of one task under every prefix and base (see api/reseller.py).
GENERATION_PATH = re.compile(r"(?:/vip|/pro)?/luma/(?:v1/|V1/)?generations/([^/]+)/?")


@dataclass(frozen=True)
class RouteTemplate:
    """What ``scope["route"]`` carries for the metrics (``observability/http.py`` reads
    ``.path``): the template the FastAPI route has, never the raw path with its id."""

    path: str


class HotRoutes:
    """Answers ``GET …/luma/generations/{id}`` directly; everything else goes to ``app``."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "GET":
            path = scope["path"]
            found = GENERATION_PATH.fullmatch(path)
            if found is not None:
                template = path[: found.start(1)] + "{task_id}" + path[found.end(1) :]
                scope["route"] = RouteTemplate(template)
                await self._generation(found.group(1), scope, receive, send)
                return
        await self.app(scope, receive, send)

    async def _generation(self, task_id: str, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        services: ApiServices = request.app.state.services
        try:
            tenant, task = await services.authenticator.tenant_and_task(
                parse_authorization(request.headers.get("authorization")),
                task_id if plausible_task_id(task_id) else None,
            )
            log_context.set_field("tenant", tenant.name)
            note_rate_limits(request, tenant)
            if task is None:
                raise TaskNotFound(msg.TASK_NOT_FOUND())
            response = JSONResponse(await flat_generation(task, services.tasks))
        except GatewayError as error:
            response = error_response(request, error)
        await response(scope, receive, send)
