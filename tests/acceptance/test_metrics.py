"""``/metrics`` after a real run: creates, completions, a failure, a callback retry and a 429,
each metric checked against what happened; the output parses with prometheus-client's parser
and no label holds an id."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.support.acceptance import start_server
from tests.support.databases import ServerDatabase
from tests.support.receiver import CallbackReceiver
from tests.support.servers import GatewayServer

pytestmark = pytest.mark.slow
DEADLINE_SECONDS = 120.0
ID_LIKE = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-|sk-lg-|[0-9a-f]{24,}", re.I)
Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def scrape(base_url: str, token: str | None = None) -> Samples:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    response = httpx.get(base_url + "/metrics", headers=headers, timeout=10)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    samples: Samples = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def total(samples: Samples, name: str, **labels: str) -> float:
    """Sum over every sample of ``name`` whose labels include ``labels``."""
    wanted = set(labels.items())
    return sum(v for (n, ls), v in samples.items() if n == name and wanted <= set(ls))


@pytest.fixture
def receiver() -> Iterator[CallbackReceiver]:
    first_fails = CallbackReceiver(status_for=lambda n: 500 if n == 0 else 200).start()
    try:
        yield first_fails
    finally:
        first_fails.stop()


@pytest.fixture
def server(tmp_path: Path, server_database: ServerDatabase) -> Iterator[GatewayServer]:
    """A server per backend: the gauges are read from the store."""
    gateway = start_server(
        tmp_path / "data",
        **server_database(),
        callback_allow="127.0.0.1/32",
        callback_backoff_base_seconds="0.3",
        callback_backoff_cap_seconds="1",
        sandbox_fail_marker="[[fail]]",
    )
    try:
        yield gateway
    finally:
        gateway.stop()


def _create(http: httpx.Client, key: str, body: dict[str, Any]) -> httpx.Response:
    return http.post("/luma/generations", json=body, headers={"Authorization": f"Bearer {key}"})


def _wait_terminal(http: httpx.Client, key: str, ids: list[str]) -> dict[str, str]:
    deadline = time.monotonic() + DEADLINE_SECONDS
    while time.monotonic() < deadline:
        states = {
            i: http.get(
                f"/luma/generations/{i}", headers={"Authorization": f"Bearer {key}"}
            ).json()["state"]
            for i in ids
        }
        if all(s in ("completed", "failed") for s in states.values()):
            return states
        time.sleep(0.25)
    raise AssertionError(f"tasks did not end: {states}")


def _wait_backlog_empty(base_url: str) -> Samples:
    deadline = time.monotonic() + DEADLINE_SECONDS
    while time.monotonic() < deadline:
        samples = scrape(base_url)
        if value(samples, "lumagate_callback_backlog") == 0 and total(
            samples, "lumagate_callback_deliveries"
        ):
            return samples
        time.sleep(0.25)
    raise AssertionError("the callback backlog never emptied")


def test_metrics_match_the_run(server: GatewayServer, receiver: CallbackReceiver) -> None:
    key = server.create_key("metered", "--credits", "1000")
    limited = server.create_key("limited", "--rpm", "1", "--credits", "500")
    with httpx.Client(base_url=server.base_url, timeout=30) as http:
        made = [
            _create(http, key, {"user_prompt": "fox one", "notify_hook": receiver.url + "/hook"}),
            _create(http, key, {"user_prompt": "fox two", "resolution": "540p"}),
            _create(http, key, {"user_prompt": "this one [[fail]]s"}),
            _create(http, limited, {"user_prompt": "limited one"}),
        ]
        refused = _create(http, limited, {"user_prompt": "limited two"})
        assert [r.status_code for r in made] == [200] * 4 and refused.status_code == 429
        ids = [r.json()["id"] for r in made]
        states = _wait_terminal(http, key, ids[:3]) | _wait_terminal(http, limited, ids[3:])
        spent = sum(
            start
            - http.get("/luma/users/me", headers={"Authorization": f"Bearer {k}"}).json()["credits"]
            for k, start in ((key, 1000), (limited, 500))
        )
    assert sorted(states.values()) == ["completed", "completed", "completed", "failed"]
    samples = _wait_backlog_empty(server.base_url)
    calls = receiver.snapshot()

    task = {"channel": "default", "dialect": "reseller", "model": "ray-2"}
    assert value(samples, "lumagate_tasks_created_total", **task) == 4
    assert value(samples, "lumagate_tasks_completed_total", **task) == 3
    assert value(samples, "lumagate_tasks_failed_total", **task) == 1
    assert total(samples, "lumagate_task_completion_seconds_count") == 3
    assert value(samples, "lumagate_tasks", state="completed") == 3
    assert value(samples, "lumagate_tasks", state="failed") == 1
    assert total(samples, "lumagate_queue_depth") == 0

    route = {"method": "POST", "route": "/luma/generations"}
    assert value(samples, "lumagate_http_requests_total", **route, status="200") == 4
    assert value(samples, "lumagate_http_requests_total", **route, status="429") == 1
    assert total(samples, "lumagate_http_request_seconds_count", **route) == 5
    polled = total(samples, "lumagate_http_requests_total", route="/luma/generations/{task_id}")
    assert polled >= 4

    assert sum(1 for c in calls if c.status == 500) == 1, "exactly one refused delivery"
    assert value(samples, "lumagate_callback_attempts", outcome="http_error") == 1
    delivered = sum(1 for c in calls if c.status == 200)
    assert value(samples, "lumagate_callback_attempts", outcome="delivered") == delivered
    assert value(samples, "lumagate_callback_deliveries", state="delivered") == delivered
    assert value(samples, "lumagate_callback_backlog") == 0

    charged = value(samples, "lumagate_credits_charged")
    refunded = value(samples, "lumagate_credits_refunded")
    assert charged > 0 and refunded > 0, "the failed task was charged and refunded"
    assert charged - refunded == spent

    sandbox = {"provider": "sandbox", "operation": "submit"}
    assert total(samples, "lumagate_upstream_calls_total", **sandbox) == 4
    assert total(samples, "lumagate_upstream_call_seconds_count", **sandbox) == 4
    assert total(samples, "lumagate_upstream_calls_total", operation="refresh_many") >= 1
    account = {"account": "sandbox", "kind": "sandbox"}
    assert value(samples, "lumagate_account_limit", **account) == 2
    assert value(samples, "lumagate_account_running", **account) == 0
    assert value(samples, "lumagate_account_state", **account, state="enabled") == 1
    assert value(samples, "lumagate_database_up") == 1

    for name, labels in samples:
        for label, text in labels:
            assert not ID_LIKE.search(text), f"{name} label {label}={text!r} holds an id"


def test_metrics_token_is_required_when_set(tmp_path: Path) -> None:
    gateway = start_server(tmp_path / "data", metrics_token="scrape-secret")
    try:
        bare = httpx.get(gateway.base_url + "/metrics", timeout=10)
        wrong = httpx.get(
            gateway.base_url + "/metrics", headers={"Authorization": "Bearer nope"}, timeout=10
        )
        assert bare.status_code == wrong.status_code == 401
        assert "lumagate_" not in bare.text
        samples = scrape(gateway.base_url, token="scrape-secret")
        assert value(samples, "lumagate_database_up") == 1
    finally:
        gateway.stop()
