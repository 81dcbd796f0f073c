"""Credits and limits over real HTTP against ``lumagate serve`` (SQLite and PostgreSQL).

The concurrency test is the one that matters: 50 creates at once on a key that can pay for
exactly 10 must give 10 tasks, 40 ``quota_not_enough`` and a balance of exactly 0. It runs last
in the module, whose tests share one server per backend (each with keys of its own), so its ten
renders do not queue ahead of another test's tasks.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from lumagate.domain.pricing import PriceTable
from tests.support.acceptance import client, start_server, wait_for
from tests.support.databases import ServerDatabase
from tests.support.servers import GatewayServer

pytestmark = pytest.mark.slow

PRICE = PriceTable().price("default", "ray-2", "720p", "5s")
FAIL = "[[fail]]"


def admin(server: GatewayServer) -> httpx.Client:
    key = server.admin_key()
    return client(server.base_url, key)


def ledger(server: GatewayServer, key_id: str) -> list[dict[str, Any]]:
    with admin(server) as http:
        response = http.get("/admin/ledger", params={"key": key_id, "limit": 500})
        assert response.status_code == 200, response.text
        entries: list[dict[str, Any]] = response.json()["data"]
        return entries


def me(server: GatewayServer, key: str) -> dict[str, Any]:
    with client(server.base_url, key) as http:
        body: dict[str, Any] = http.get("/luma/users/me").json()
        return body


@pytest.fixture(scope="module")
def server(
    tmp_path_factory: pytest.TempPathFactory, server_database: ServerDatabase
) -> Iterator[GatewayServer]:
    """One server per backend for the module: every test uses keys of its own."""
    gateway = start_server(tmp_path_factory.mktemp("billing") / "data", **server_database())
    try:
        yield gateway
    finally:
        gateway.stop()


def test_a_failed_task_is_refunded_and_the_ledger_balances(server: GatewayServer) -> None:
    initial = 3 * PRICE
    key = server.create_key("refunds", "--credits", str(initial))
    with client(server.base_url, key) as http:
        failing = http.post("/luma/generations", json={"user_prompt": f"a storm {FAIL}"}).json()
        kept = http.post("/luma/generations", json={"user_prompt": "a calm sea"}).json()
        failed = wait_for(http, failing["id"], states={"failed"})
        assert failed["failure_reason"] == "Prompt moderation failed"
    deadline = time.monotonic() + 30
    while me(server, key)["credits"] != initial - PRICE and time.monotonic() < deadline:
        time.sleep(0.1)
    profile = me(server, key)
    assert profile["credits"] == initial - PRICE
    entries = ledger(server, profile["id"])
    by_task = {(e["task_id"], e["kind"]): e for e in entries}
    assert by_task[(failing["id"], "refund")]["delta"] == PRICE
    assert by_task[(failing["id"], "charge")]["delta"] == -PRICE
    assert (kept["id"], "refund") not in by_task
    movements = [e for e in entries if e["kind"] != "opening"]
    assert -sum(e["delta"] for e in movements) == initial - profile["credits"]
    assert sum(e["delta"] for e in entries) == profile["credits"]
    # usage comes from the ledger: one generation consumed, the balance buys two more
    with client(server.base_url, key) as http:
        usage = http.get("/luma/subscription/usage").json()
    assert (usage["consumed"], usage["available"]) == (1, 2)


CREATES: list[tuple[str, str, dict[str, Any]]] = [
    ("reseller", "/luma/generations", {"user_prompt": "a cat dancing"}),
    ("reseller-pro", "/pro/luma/generations", {"user_prompt": "a cat dancing"}),
    ("official", "/dream-machine/v1/generations", {"prompt": "a cat dancing"}),
    ("luma-mock", "/api/generations/create", {"prompt": "a cat dancing"}),
    ("new-api", "/v1/video/generations", {"prompt": "a cat dancing", "model": "ray-2"}),
    ("openai-videos", "/v1/videos", {"prompt": "a cat dancing"}),
    (
        "chat",
        "/v1/chat/completions",
        {"model": "luma", "messages": [{"role": "user", "content": "a cat dancing"}]},
    ),
]


def test_every_dialect_refuses_without_credits_and_over_the_rate(server: GatewayServer) -> None:
    broke = server.create_key("broke", "--credits", "0")
    limited = server.create_key("limited", "--rpm", "1")
    with client(server.base_url, broke) as poor, client(server.base_url, limited) as fast:
        first = fast.post("/luma/generations", json={"user_prompt": f"first {FAIL}"})
        assert first.status_code == 200, first.text
        for name, path, body in CREATES:
            response = poor.post(path, json=body)
            assert response.status_code == 403, (name, response.text)
            assert "quota_not_enough" in response.text or "Not enough credits" in response.text
            response = fast.post(path, json=body)
            assert response.status_code == 429, (name, response.text)
            assert 1 <= int(response.headers["retry-after"]) <= 60, name
    assert me(server, broke)["credits"] == 0


def test_running_limit_over_http(server: GatewayServer) -> None:
    key = server.create_key("two", "--max-running", "2")
    with client(server.base_url, key) as http:
        for i in range(2):
            assert http.post("/luma/generations", json={"user_prompt": f"slow {i}"}).is_success
        refused = http.post("/luma/generations", json={"user_prompt": "one too many"})
        assert refused.status_code == 429
        assert refused.json()["error"]["code"] == "rate_limit_exceeded"
        assert refused.headers["retry-after"] == "10"


def test_fifty_concurrent_creates_on_credits_for_ten(server: GatewayServer) -> None:
    key = server.create_key("ten", "--credits", str(10 * PRICE))

    async def burst() -> list[httpx.Response]:
        limits = httpx.Limits(max_connections=60)
        headers = {"Authorization": f"Bearer {key}"}
        async with httpx.AsyncClient(
            base_url=server.base_url, headers=headers, timeout=60, limits=limits
        ) as http:
            return await asyncio.gather(
                *(
                    http.post("/luma/generations", json={"user_prompt": f"fox number {i}"})
                    for i in range(50)
                )
            )

    responses = asyncio.run(burst())
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200] * 10 + [403] * 40, statuses
    for response in responses:
        if response.status_code == 403:
            error = response.json()["error"]
            assert error["code"] == "quota_not_enough" and error["type"] == "quota_error"
    profile = me(server, key)
    assert profile["credits"] == 0
    entries = ledger(server, profile["id"])
    assert sum(e["delta"] for e in entries) == 0
    charges = [e for e in entries if e["kind"] == "charge"]
    assert len(charges) == 10
    assert sorted(e["balance_after"] for e in charges) == [PRICE * i for i in range(10)]
    assert all(e["balance_after"] >= 0 for e in entries)
    ids = {r.json()["id"] for r in responses if r.status_code == 200}
    assert {e["task_id"] for e in charges} == ids
