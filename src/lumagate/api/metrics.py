"""``/metrics``: Prometheus text format — this replica's counters, then database gauges.

Open by default (like most exporters, meant for a private network); with
``LUMAGATE_METRICS_TOKEN`` set it requires ``Authorization: Bearer <token>`` (compared in
constant time). What each metric means is in docs/operations.md.
"""

from __future__ import annotations

import hmac

from fastapi import FastAPI, Request
from fastapi.responses import PlainTextResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

from lumagate.api.deps import DbGauges, Metrics, SettingsDep
from lumagate.domain import messages as msg
from lumagate.domain.errors import AuthenticationRequired
from lumagate.observability.db_gauges import SnapshotCollector
from lumagate.security.keys import parse_bearer


def _require_token(request: Request, token: str | None) -> None:
    if not token:
        return
    presented = parse_bearer(request.headers.get("authorization")) or ""
    if not hmac.compare_digest(presented.encode(), token.encode()):
        raise AuthenticationRequired(msg.METRICS_TOKEN(), code="invalid_metrics_token")


async def metrics(
    request: Request, settings: SettingsDep, replica: Metrics, gauges: DbGauges
) -> Response:
    _require_token(request, settings.metrics_token)
    snapshot = await gauges.snapshot()
    database = CollectorRegistry(auto_describe=False)
    database.register(SnapshotCollector(snapshot))
    body = generate_latest(replica.registry) + generate_latest(database)
    return Response(body, media_type=CONTENT_TYPE_LATEST)


def install(app: FastAPI) -> None:
    app.add_api_route(
        "/metrics",
        metrics,
        methods=["GET"],
        response_class=PlainTextResponse,  # the Prometheus text format, not JSON
        tags=["Operations"],
        summary="Prometheus metrics (per replica, and cluster-wide gauges from the database)",
    )
