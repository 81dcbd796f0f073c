"""The HTTP metrics middleware labels by route template, never by the raw path."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.testclient import TestClient

from lumagate.observability.http import HttpMetricsMiddleware
from lumagate.observability.metrics import GatewayMetrics


def _app(metrics: GatewayMetrics) -> FastAPI:
    app = FastAPI()
    app.add_middleware(HttpMetricsMiddleware, metrics=metrics)

    @app.get("/luma/generations/{task_id}")
    async def one(task_id: str) -> dict[str, str]:
        return {"id": task_id}

    return app


def _count(metrics: GatewayMetrics, **labels: str) -> float:
    value = metrics.registry.get_sample_value("lumagate_http_requests_total", labels)
    return value or 0.0


def test_route_template_method_and_status() -> None:
    metrics = GatewayMetrics()
    with TestClient(_app(metrics)) as client:
        for task_id in ("a1", "b2", "c3"):
            assert client.get(f"/luma/generations/{task_id}").status_code == 200
        assert client.get("/no/such/path/123").status_code == 404
        assert client.request("BREW", "/luma/generations/x").status_code == 405
    assert _count(metrics, method="GET", route="/luma/generations/{task_id}", status="200") == 3
    assert _count(metrics, method="GET", route="unmatched", status="404") == 1
    assert _count(metrics, method="other", route="/luma/generations/{task_id}", status="405") == 1
    seconds = metrics.registry.get_sample_value(
        "lumagate_http_request_seconds_count",
        {"method": "GET", "route": "/luma/generations/{task_id}"},
    )
    assert seconds == 3
