"""Assemble the simulated upstream: one ASGI app, both Luma surfaces, media and debug routes.

``create_sim_app`` is the single entry point used by ``lumagate sim``, the test fixtures and the
benchmarks (``uvicorn --factory`` works too). The ticker and the callback client live in the
app's lifespan, so they start and stop with the server.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from lumagate.sim import debug, media, official, web
from lumagate.sim.config import SimConfig
from lumagate.sim.faults import FaultMiddleware
from lumagate.sim.runtime import SimRuntime


def _describe(exc: RequestValidationError) -> str:
    parts: list[str] = []
    for error in exc.errors():
        location = ".".join(str(item) for item in error.get("loc", ()) if item != "body")
        message = str(error.get("msg", "invalid"))
        parts.append(f"{location}: {message}" if location else message)
    return "; ".join(parts) or "Invalid request"


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    """Luma answers malformed requests with 400 and a string ``detail``, not FastAPI's 422."""
    assert isinstance(exc, RequestValidationError)
    return JSONResponse({"detail": _describe(exc)}, status_code=400)


def create_sim_app(config: SimConfig | None = None) -> FastAPI:
    """Build a fresh sim (its own world, sessions, media cache and RNG) from ``config``."""
    runtime = SimRuntime(config or SimConfig())

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        await runtime.start()
        try:
            yield
        finally:
            await runtime.stop()

    app = FastAPI(
        title="lumagate sim",
        summary="Simulated Luma upstream (official API and web app) for tests and load tests.",
        lifespan=lifespan,
    )
    app.state.sim_runtime = runtime
    app.add_middleware(
        FaultMiddleware, config=lambda: runtime.config, dice=lambda: runtime.fault_dice
    )
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.include_router(official.router, prefix="/dream-machine/v1")
    app.include_router(web.router)
    app.include_router(media.router)
    app.include_router(debug.router, prefix="/_sim")
    return app
