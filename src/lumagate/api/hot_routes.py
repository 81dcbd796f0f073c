"""The hottest client read, answered before the middleware stack and the router.

A client polling for its video sends ``GET {prefix}/luma/generations/{id}`` every few seconds.
This is the outermost middleware of the app (inside only Starlette's ServerErrorMiddleware, so
an unexpected error still gets the dialect's 500): it recognises that path with one regular
expression and answers it itself, doing cheaply what each generic layer would have done for
it, instead of passing through six of them and ~184 routes:

- BodyDeadline: nothing to do (a GET's body is never read);
- RequestId: the ``X-Request-Id`` kept or made, bound for every log line, on the response;
- HttpMetrics: one observation under the route template, never the raw id (these two by
  :class:`~lumagate.api.hot_observe.ObservedAnswers`, shared with ``api/hot_create.py``);
- CORS: a request with an ``Origin`` header goes through the whole stack instead, so a
  browser gets exactly what ``CORSMiddleware`` answers;
- RateLimitHeaders: the key's ``x-ratelimit-*`` headers on every answer once the key is known;
- Boundary: the NUL and length check of the path and query;
- the route: the same body (``flat_generation``), the same errors in the reseller dialect
  (:func:`lumagate.api.errors.error_response`), the same ``tenant`` log field.

Every other request passes through untouched; the FastAPI route stays registered for the
OpenAPI document and would answer the same (tests/integration/api/test_hot_routes.py).

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

from lumagate.api.boundary import check_query
from lumagate.api.deps import ApiServices
from lumagate.api.errors import error_response
from lumagate.api.hot_observe import ObservedAnswers
from lumagate.api.luma_shapes import flat_generation
from lumagate.api.rate_limit_headers import read_headers
from lumagate.domain import messages as msg
from lumagate.domain.errors import GatewayError, TaskNotFound
from lumagate.domain.tenant import ApiKey
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
        self._answers = ObservedAnswers("GET")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "GET":
            path = scope["path"]
            found = GENERATION_PATH.fullmatch(path)
            if found is not None and not _from_a_browser(scope):
                template = path[: found.start(1)] + "{task_id}" + path[found.end(1) :]
                scope["route"] = RouteTemplate(template)
                task_id = found.group(1)
                await self._answers.send(
                    lambda services: self._generation(task_id, services, Request(scope, receive)),
                    template,
                    scope,
                    receive,
                    send,
                )
                return
        await self.app(scope, receive, send)

    async def _generation(
        self, task_id: str, services: ApiServices, request: Request
    ) -> JSONResponse:
        tenant: ApiKey | None = None
        try:
            check_query(request.scope)
            tenant, task = await services.authenticator.tenant_and_task(
                parse_authorization(request.headers.get("authorization")),
                task_id if plausible_task_id(task_id) else None,
            )
            log_context.set_field("tenant", tenant.name)
            if task is None:
                raise TaskNotFound(msg.TASK_NOT_FOUND())
            response = JSONResponse(await flat_generation(task, services.tasks))
        except GatewayError as error:
            response = error_response(request, error)
        if tenant is not None and tenant.rpm is not None:
            limited = tenant
            extra = await read_headers(lambda: services.rate_limits.headers(limited))
            for name, value in extra.items():
                response.headers[name] = value
        return response


def _from_a_browser(scope: Scope) -> bool:
    """An ``Origin`` header: CORS may add headers or answer, so the whole stack runs."""
    return any(name == b"origin" for name, _value in scope["headers"])
