"""The ASGI application: dialect routers, media files, CORS, and the engine in the lifespan.

The app factory builds the composition root (:class:`lumagate.gateway.Gateway`), binds the
services the routes use onto ``app.state.services`` (read only by ``api/deps.py``), and runs
the gateway's lifecycle in the lifespan. No other module of ``api/`` knows the gateway.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

from lumagate import __version__
from lumagate.api import (
    admin,
    billing,
    chat,
    console,
    health,
    luma_mock,
    metrics,
    newapi_video,
    official,
    openai_videos,
    reseller,
)
from lumagate.api.body_deadline import BodyDeadline
from lumagate.api.boundary import BoundaryMiddleware
from lumagate.api.deps import ApiServices
from lumagate.api.errors import install_error_handlers
from lumagate.api.files import files_router
from lumagate.api.hot_create import HotCreate
from lumagate.api.hot_routes import HotRoutes
from lumagate.api.openapi import install_openapi
from lumagate.api.rate_limit_headers import RateLimitHeadersMiddleware
from lumagate.api.routers import add_routes
from lumagate.api.tags import OPENAPI_TAGS
from lumagate.api.upstream_hooks import upstream_hooks_router
from lumagate.gateway import Gateway
from lumagate.observability.http import HttpMetricsMiddleware
from lumagate.observability.request_id import RequestIdMiddleware
from lumagate.settings import Settings
from lumagate.wiring.console import console_services

DESCRIPTION = """Self-hosted gateway for Luma Dream Machine video generation.

Every dialect below is a thin translation over one task model: a task created in one dialect
can be read in any other. Authenticate with `Authorization: Bearer <key>`
(create one with `lumagate keys create --name NAME`): press **Authorize** and paste it as
`tenantKey` (and the admin key as `adminKey` for `/admin`) to use "Try it out".
"""


def bind_services(gateway: Gateway) -> ApiServices:
    """What the routes may ask for, taken from the gateway's parts."""
    services = gateway.services
    return ApiServices(
        settings=gateway.settings,
        media=services.media,
        authenticator=services.authenticator,
        tasks=services.tasks,
        usage=services.usage,
        billing=services.billing,
        callbacks=services.callbacks,
        admin=services.admin,
        admin_key=lambda: gateway.admin_key,
        video_content=services.video_content,
        watcher=services.watcher,
        upstream_hooks=gateway.engine.upstream_hooks,
        metrics=gateway.observability.metrics,
        db_gauges=gateway.observability.db_gauges,
        readiness=gateway.observability.readiness,
        rate_limits=services.rate_limits,
    )


def install_middlewares(app: FastAPI, settings: Settings, gateway: Gateway) -> None:
    """The middleware stack, innermost first (each ``add_middleware`` wraps the ones before)."""
    app.add_middleware(BoundaryMiddleware, max_body_bytes=settings.max_body_bytes)
    app.add_middleware(RateLimitHeadersMiddleware)
    app.add_middleware(
        CORSMiddleware,
        allow_origins=settings.cors_origins,
        allow_methods=["*"],
        allow_headers=settings.cors_allow_headers,
        expose_headers=settings.cors_expose_headers,
    )
    app.add_middleware(HttpMetricsMiddleware, metrics=gateway.observability.metrics)
    app.add_middleware(RequestIdMiddleware)  # every line of a request carries its id
    install_error_handlers(app)
    app.add_middleware(BodyDeadline, seconds=settings.body_timeout_seconds)  # 408
    app.add_middleware(  # the reseller create skips all the above (and the router)
        HotCreate,
        max_body_bytes=settings.max_body_bytes,
        body_timeout_seconds=settings.body_timeout_seconds,
    )
    app.add_middleware(HotRoutes)  # outermost: the polled GET of one task skips all the above


def create_app(settings: Settings, *, start_engine: bool = True) -> FastAPI:
    gateway = Gateway(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if start_engine:
            await gateway.start()
        else:
            await gateway.prepare()
        try:
            yield
        finally:
            await gateway.stop()

    app = FastAPI(
        title="lumagate",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
        openapi_tags=OPENAPI_TAGS,
        # FastAPI's native OpenTelemetry: lumagate exports Prometheus metrics (/metrics) and
        # configures no OpenTelemetry provider; asking on each request whether one exists cost
        # ~6 µs of the hot GET's ~80 (docs/bench.md, read path).
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )
    app.state.services = bind_services(gateway)
    install_middlewares(app, settings, gateway)
    admin.install(app)
    reseller.install(app)
    official.install(app)
    luma_mock.install(app)
    chat.install(app)
    newapi_video.install(app)
    openai_videos.install(app)
    billing.install(app)
    add_routes(app, files_router(app=app))
    add_routes(app, upstream_hooks_router(app))
    console.install(app, settings, lambda: gateway.admin_key, console_services(gateway))
    health.install(app)  # /readyz
    metrics.install(app)  # /metrics

    @app.get("/healthz", tags=["Operations"], summary="Liveness")
    async def healthz() -> dict[str, Any]:
        return {"status": "ok", "version": __version__}

    install_openapi(app)

    return app
