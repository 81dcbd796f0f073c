"""A hot route's answer carries its request id and counts once under its template."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any

from starlette.responses import JSONResponse

from lumagate.api.hot_observe import ObservedAnswers
from lumagate.observability import log_context
from lumagate.observability.metrics import GatewayMetrics


def _scope(metrics: GatewayMetrics, request_id: str) -> dict[str, Any]:
    services = SimpleNamespace(metrics=metrics)
    return {
        "type": "http",
        "app": SimpleNamespace(state=SimpleNamespace(services=services)),
        "headers": [(b"x-request-id", request_id.encode())],
    }


def _count(metrics: GatewayMetrics, status: str) -> float:
    labels = {"method": "GET", "route": "/t/{id}", "status": status}
    return metrics.registry.get_sample_value("lumagate_http_requests_total", labels) or 0.0


def _send_once(answers: ObservedAnswers, scope: dict[str, Any], body: bool) -> list[Any]:
    sent: list[Any] = []
    seen: list[str | None] = []

    async def answer(services: Any) -> JSONResponse | None:
        seen.append(log_context.current().get("request_id"))
        return JSONResponse({"ok": True}, status_code=201) if body else None

    async def receive() -> Any:
        raise AssertionError("the answer reads no body here")

    async def send(message: Any) -> None:
        sent.append(message)

    asyncio.run(answers.send(answer, "/t/{id}", scope, receive, send))
    assert seen == ["req-1"]  # the answer ran with the request id bound for its log lines
    return sent


def test_the_answer_goes_out_with_its_request_id_and_counts() -> None:
    metrics = GatewayMetrics()
    answers = ObservedAnswers("GET")
    for _ in range(2):
        sent = _send_once(answers, _scope(metrics, "req-1"), body=True)
        headers = dict(sent[0]["headers"])
        assert sent[0]["status"] == 201
        assert headers[b"x-request-id"] == b"req-1"
    assert _count(metrics, "201") == 2


def test_no_answer_sends_nothing_and_counts_as_500() -> None:
    metrics = GatewayMetrics()
    assert _send_once(ObservedAnswers("GET"), _scope(metrics, "req-1"), body=False) == []
    assert _count(metrics, "500") == 1
