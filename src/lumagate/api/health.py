"""``/readyz``: readiness for load balancers and orchestrators (200 ready, 503 not).

``/healthz`` (liveness, in :mod:`lumagate.api.app`) checks nothing on purpose: restarting a
process whose database is down does not bring the database back. ``/readyz`` runs
:class:`~lumagate.service.readiness.ReadinessCheck` on the gateway's own database.
"""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.responses import JSONResponse

from lumagate.api.deps import Readiness


async def readyz(readiness: Readiness) -> JSONResponse:
    result = await readiness.check()
    body = {"status": "ready" if result.ready else "not ready", "revision": result.revision}
    if result.reason is not None:
        body["reason"] = result.reason
    return JSONResponse(body, status_code=200 if result.ready else 503)


def install(app: FastAPI) -> None:
    app.add_api_route(
        "/readyz",
        readyz,
        methods=["GET"],
        tags=["Operations"],
        summary="Readiness: the database answers and its migrations are current (503 if not)",
    )
