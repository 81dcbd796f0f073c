"""The polled ``GET …/luma/generations/{id}`` is answered before the middleware stack and the
router (api/hot_routes.py): its bodies, errors and headers must be the ones the FastAPI routes
and the middlewares give, under every prefix and base, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from starlette.types import Message, Receive, Scope, Send

from lumagate.api.app import create_app
from lumagate.api.hot_routes import HotRoutes
from lumagate.domain.clock import utcnow
from lumagate.domain.limits import MAX_QUERY_VALUE
from lumagate.domain.tenant import ApiKey
from lumagate.observability.request_id import HEADER
from lumagate.service.rate_limits import LIMIT_HEADER, REMAINING_HEADER, RESET_HEADER
from lumagate.settings import Settings


@pytest.fixture
async def app(tmp_path: Path, database_url: str) -> AsyncIterator[FastAPI]:
    """The app on SQLite and on PostgreSQL (each has its own raw hot read, store/hot_read.py)."""
    settings = Settings(
        data_dir=tmp_path / "data", public_url="http://gateway", database_url=database_url
    )
    app = create_app(settings, start_engine=False)
    async with app.router.lifespan_context(app):
        yield app


@pytest.fixture
async def http(app: FastAPI) -> AsyncIterator[tuple[httpx.AsyncClient, str]]:
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


async def _key(app: FastAPI, name: str, **limits: Any) -> tuple[ApiKey, dict[str, str]]:
    key, plaintext = await app.state.services.authenticator.keys.create(name, utcnow(), **limits)
    return key, {"Authorization": f"Bearer {plaintext}"}


async def test_the_hot_get_answers_before_the_stack_and_the_router(app: FastAPI) -> None:
    """The middleware stack below it is never entered for this GET (so the speed is real)."""
    _, headers = await _key(app, "alone")
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://gateway", headers=headers
    ) as client:
        task_id = (await client.post("/luma/generations", json={"user_prompt": "an owl"})).json()
    entered: list[str] = []

    async def stack(scope: Scope, receive: Receive, send: Send) -> None:
        entered.append(scope["path"])

    sent: list[Message] = []

    async def send(message: Message) -> None:
        sent.append(message)

    async def receive() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    path = f"/luma/generations/{task_id['id']}"
    raw = [(b"authorization", headers["Authorization"].encode())]
    scope = {"type": "http", "method": "GET", "path": path, "query_string": b"", "headers": raw}
    await HotRoutes(stack)({**scope, "app": app}, receive, send)
    assert entered == [] and sent[0]["status"] == 200
    await HotRoutes(stack)({**scope, "method": "HEAD", "app": app}, receive, send)
    browser = [*raw, (b"origin", b"http://page.example")]
    await HotRoutes(stack)({**scope, "headers": browser, "app": app}, receive, send)
    assert entered == [path, path]  # another method, or a browser's request: the whole stack


async def test_the_hot_get_carries_the_request_id_and_rate_limit_headers(app: FastAPI) -> None:
    _, headers = await _key(app, "limited", rpm=30)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://gateway", headers=headers
    ) as client:
        created = (await client.post("/luma/generations", json={"user_prompt": "a hare"})).json()
        found = await client.get(f"/luma/generations/{created['id']}", headers={HEADER: "abc.1"})
        unknown = await client.get("/luma/generations/0b5f6d3e-4e8f-4b57-9b1e-7a4c2a1d9e10")
        routed = await client.get("/luma/generations")  # a FastAPI route, for comparison
    assert found.status_code == 200 and found.headers[HEADER] == "abc.1"
    assert unknown.status_code == 404 and len(unknown.headers[HEADER]) == 32  # made: a uuid
    for answer in (found, unknown, routed):
        assert answer.headers[LIMIT_HEADER] == "30"
        assert answer.headers[REMAINING_HEADER] == "29"  # the create counts
        assert answer.headers[RESET_HEADER].endswith("s")
    bad = await client_get(app, "/luma/generations/x", {"Authorization": "Bearer lg-nope"})
    assert bad.status_code == 401 and LIMIT_HEADER not in bad.headers and HEADER in bad.headers


async def test_another_tenants_task_is_not_found_and_a_revoked_key_refused_at_once(
    app: FastAPI,
) -> None:
    owner, owner_headers = await _key(app, "owner")
    _, other_headers = await _key(app, "other")
    created = await client_post(app, "/luma/generations", owner_headers, {"user_prompt": "a fox"})
    path = f"/luma/generations/{created.json()['id']}"
    assert (await client_get(app, path, owner_headers)).status_code == 200
    theirs = await client_get(app, path, other_headers)
    assert theirs.status_code == 404
    assert theirs.json()["detail"]["reason"] == "Task not found"
    assert await app.state.services.authenticator.keys.revoke(owner.id, utcnow())
    revoked = await client_get(app, path, owner_headers)
    routed = await client_get(app, "/luma/generations", owner_headers)
    assert revoked.status_code == routed.status_code == 401
    assert revoked.json() == routed.json()


async def test_the_hot_get_refuses_a_bad_query_as_the_boundary_does(
    http: tuple[httpx.AsyncClient, str],
) -> None:
    client, _ = http
    path = "/luma/generations/0b5f6d3e-4e8f-4b57-9b1e-7a4c2a1d9e10"
    long = await client.get(path, params={"x": "a" * (MAX_QUERY_VALUE + 1)})
    routed = await client.get("/luma/generations", params={"x": "a" * (MAX_QUERY_VALUE + 1)})
    nul = await client.get(path + "?x=%00")
    assert long.status_code == routed.status_code == 400
    assert long.json() == routed.json()
    assert nul.status_code == 400 and "x" in nul.json()["detail"]["reason"]


async def client_get(app: FastAPI, path: str, headers: dict[str, str]) -> httpx.Response:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://gateway"
    ) as client:
        return await client.get(path, headers=headers)


async def client_post(
    app: FastAPI, path: str, headers: dict[str, str], body: dict[str, Any]
) -> httpx.Response:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://gateway"
    ) as client:
        return await client.post(path, headers=headers, json=body)
