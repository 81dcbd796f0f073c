"""The polled ``GET …/luma/generations/{id}`` is answered before the router (api/hot_routes.py):
its bodies and errors must be the ones the FastAPI routes give, under every prefix and base."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from lumagate.api.app import create_app
from lumagate.domain.clock import utcnow
from lumagate.settings import Settings


@pytest.fixture
async def http(tmp_path: Path) -> AsyncIterator[tuple[httpx.AsyncClient, str]]:
    app = create_app(Settings(data_dir=tmp_path, public_url="http://gateway"), start_engine=False)
    async with app.router.lifespan_context(app):
        _key, plaintext = await app.state.services.authenticator.keys.create("hot", utcnow())
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(
            transport=transport,
            base_url="http://gateway",
            headers={"Authorization": f"Bearer {plaintext}"},
        ) as client:
            yield client, plaintext


async def test_the_hot_get_answers_what_the_batch_route_renders(
    http: tuple[httpx.AsyncClient, str],
) -> None:
    client, _ = http
    created = (await client.post("/luma/generations", json={"user_prompt": "a fox"})).json()
    batch = (await client.post("/luma/tasks", json={"ids": [created["id"]]})).json()
    rendered = batch["data"][0]["data"]  # flat_generation through FastAPI's encoder
    for path in (
        f"/luma/generations/{created['id']}",
        f"/vip/luma/v1/generations/{created['id']}/",
        f"/pro/luma/V1/generations/{created['id']}",
    ):
        answer = await client.get(path)
        assert answer.status_code == 200, path
        assert answer.headers["content-type"] == "application/json"
        assert answer.json() == rendered, path


async def test_the_hot_get_errors_match_the_router_errors(
    http: tuple[httpx.AsyncClient, str],
) -> None:
    client, _ = http
    unknown = await client.get("/luma/generations/0b5f6d3e-4e8f-4b57-9b1e-7a4c2a1d9e10")
    not_an_id = await client.get("/luma/generations/file_upload")
    for answer in (unknown, not_an_id):
        assert answer.status_code == 404
        assert answer.json()["detail"]["reason"] == "Task not found"
    bad = {"Authorization": "Bearer lg-wrong"}
    hot = await client.get("/luma/generations/0b5f6d3e-4e8f-4b57-9b1e-7a4c2a1d9e10", headers=bad)
    routed = await client.get("/luma/generations", headers=bad)  # the list: a FastAPI route
    assert hot.status_code == routed.status_code == 401
    assert hot.json() == routed.json()
    missing = await client.get(
        "/luma/generations/0b5f6d3e-4e8f-4b57-9b1e-7a4c2a1d9e10", headers={"Authorization": ""}
    )
    assert missing.status_code == 401 and "Missing API key" in missing.json()["detail"]["reason"]


async def test_other_methods_and_paths_still_reach_the_router(
    http: tuple[httpx.AsyncClient, str],
) -> None:
    client, _ = http
    created = (await client.post("/luma/generations", json={"user_prompt": "a cat"})).json()
    wrong_method = await client.put(f"/luma/generations/{created['id']}")
    assert wrong_method.status_code == 405
    link = await client.get(f"/luma/generations/{created['id']}/download_video_url")
    assert link.status_code == 400 and link.json()["error"]["code"] == "task_not_completed"


async def test_the_hot_get_is_counted_under_its_route_template(
    http: tuple[httpx.AsyncClient, str],
) -> None:
    client, _ = http
    await client.get("/vip/luma/v1/generations/0b5f6d3e-4e8f-4b57-9b1e-7a4c2a1d9e10")
    metrics = (await client.get("/metrics")).text
    assert 'route="/vip/luma/v1/generations/{task_id}"' in metrics
    assert "0b5f6d3e-4e8f" not in metrics
