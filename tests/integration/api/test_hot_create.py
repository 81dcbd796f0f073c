"""The reseller create is answered before the middleware stack and the router
(api/hot_create.py): its bodies, errors and headers must be the ones the FastAPI route and the
middlewares give, under every prefix and base.

Each case is sent twice to one app: once to the hot path, once with the hot path's pattern
made to match nothing, so the whole stack and the FastAPI route answer."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from lumagate.api import hot_create
from lumagate.api.app import create_app
from lumagate.api.boundary import BoundaryMiddleware
from lumagate.domain.channels import Channel
from lumagate.domain.clock import utcnow
from lumagate.observability.http import HttpMetricsMiddleware
from lumagate.observability.request_id import HEADER, RequestIdMiddleware
from lumagate.service.rate_limits import LIMIT_HEADER, REMAINING_HEADER
from lumagate.settings import Settings

NEVER = re.compile(r"(never)?^$never")
Send = Callable[..., Awaitable[httpx.Response]]


@pytest.fixture
async def app_client(tmp_path: Path) -> AsyncIterator[tuple[httpx.AsyncClient, dict[str, str]]]:
    settings = Settings(data_dir=tmp_path, public_url="http://gateway", max_body_bytes=4096)
    app = create_app(settings, start_engine=False)
    async with app.router.lifespan_context(app):
        keys = app.state.services.authenticator.keys
        _key, default_only = await keys.create("default", utcnow(), channels=(Channel.DEFAULT,))
        _key, limited = await keys.create("limited", utcnow(), rpm=100)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as client:
            yield client, {"default": default_only, "limited": limited}


async def both(
    client: httpx.AsyncClient,
    monkeypatch: pytest.MonkeyPatch,
    path: str,
    *,
    reaches: bool = True,
    **kwargs: Any,
) -> tuple[httpx.Response, httpx.Response]:
    """The answer of the hot path (checked to have answered) and of the FastAPI route."""
    answered: list[str] = []
    hot_path = hot_create._create

    async def counted(scope: Any, *args: Any) -> Any:
        answered.append(scope["path"])
        return await hot_path(scope, *args)

    monkeypatch.setattr(hot_create, "_create", counted)
    hot = await client.post(path, **kwargs)
    with monkeypatch.context() as patch:
        patch.setattr(hot_create, "CREATE_PATH", NEVER)
        routed = await client.post(path, **kwargs)
    # The first by the hot path, the second by the stack and the route.
    assert answered == ([path] if reaches else [])
    return hot, routed


def _stable(body: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in body.items() if k not in ("id", "created_at", "task_id")}


@pytest.mark.parametrize(
    "path", ["/luma/generations", "/vip/luma/v1/generations/", "/pro/luma/V1/generations"]
)
async def test_a_create_answers_what_the_route_answers(
    app_client: tuple[httpx.AsyncClient, dict[str, str]],
    monkeypatch: pytest.MonkeyPatch,
    path: str,
) -> None:
    client, keys = app_client
    auth = {"Authorization": f"Bearer {keys['limited']}"}
    body = {"user_prompt": "a fox", "aspect_ratio": "9:16", "loop": True}
    hot, routed = await both(client, monkeypatch, path, json=body, headers=auth)
    assert hot.status_code == routed.status_code == 200
    assert hot.headers["content-type"] == routed.headers["content-type"]
    assert hot.json()["id"] != routed.json()["id"]  # two tasks, one per answer
    assert _stable(hot.json()) == _stable(routed.json())
    for name in ("x-ratelimit-limit-requests", "x-ratelimit-remaining-requests", "x-request-id"):
        assert name in hot.headers and name in routed.headers, name


@pytest.mark.parametrize(
    ("path", "key", "kwargs"),
    [
        ("/luma/generations", None, {"json": {"user_prompt": "a fox"}}),
        ("/luma/generations", "lg-wrong", {"json": {"user_prompt": "a fox"}}),
        ("/luma/generations", "default", {"json": {"user_prompt": 5}}),
        ("/luma/generations", "default", {"content": b"{not json"}),
        ("/luma/generations", "default", {"json": ["a list"]}),
        ("/luma/generations", "default", {"json": {"user_prompt": "  "}}),
        ("/luma/generations", "default", {"json": {"user_prompt": "x", "notify_hook": "ftp:x"}}),
        ("/luma/generations", "default", {"json": {"user_prompt": "x", "resolution": "8k"}}),
        ("/pro/luma/generations", "default", {"json": {"user_prompt": "a fox"}}),
    ],
    ids=[
        "no key",
        "unknown key",
        "wrong type",
        "malformed json",
        "not an object",
        "no prompt",
        "bad hook",
        "bad resolution",
        "channel not allowed",
    ],
)
async def test_refusals_are_the_routes_refusals(
    app_client: tuple[httpx.AsyncClient, dict[str, str]],
    monkeypatch: pytest.MonkeyPatch,
    path: str,
    key: str | None,
    kwargs: dict[str, Any],
) -> None:
    client, keys = app_client
    headers = {} if key is None else {"Authorization": f"Bearer {keys.get(key, key)}"}
    hot, routed = await both(client, monkeypatch, path, headers=headers, **kwargs)
    assert hot.status_code == routed.status_code and hot.status_code >= 400, hot.text
    assert hot.json() == routed.json()
    assert "detail" in hot.json() and "error" in hot.json()  # the reseller dialect's shape


async def test_other_methods_and_paths_still_reach_the_router(
    app_client: tuple[httpx.AsyncClient, dict[str, str]],
) -> None:
    client, keys = app_client
    auth = {"Authorization": f"Bearer {keys['default']}"}
    assert (await client.put("/luma/generations", headers=auth)).status_code == 405
    listed = await client.get("/luma/generations", headers=auth)
    assert listed.status_code == 200 and isinstance(listed.json(), list)
    upload = await client.post("/luma/generations/file_upload", headers=auth, json={})
    assert upload.status_code == 400  # the upload route's own refusal, not a create's


async def test_the_boundarys_refusals_are_the_hot_paths_too(
    app_client: tuple[httpx.AsyncClient, dict[str, str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Checked before the key, as the boundary middleware does (no key is sent here)."""
    client, _keys = app_client
    too_large = {"json": {"user_prompt": "x" * 5000}}  # the app's limit here is 4096 bytes
    too_deep = {"content": b"[" * 200 + b"]" * 200}
    nul = {"json": {"user_prompt": "a\u0000fox"}}
    for kwargs, status in ((too_large, 413), (too_deep, 400), (nul, 400)):
        hot, routed = await both(client, monkeypatch, "/luma/generations", **kwargs)
        assert hot.status_code == routed.status_code == status, hot.text
        assert hot.json() == routed.json()
    hot, routed = await both(
        client, monkeypatch, "/luma/generations", params={"x": "\x00"}, json={"user_prompt": "a"}
    )
    assert hot.status_code == routed.status_code == 400 and hot.json() == routed.json()


async def test_the_create_is_answered_before_the_stack_with_its_headers_and_metrics(
    app_client: tuple[httpx.AsyncClient, dict[str, str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    client, keys = app_client
    entered: list[str] = []
    for layer in (BoundaryMiddleware, RequestIdMiddleware, HttpMetricsMiddleware):
        monkeypatch.setattr(layer, "__call__", _entering(layer.__call__, entered))
    auth = {"Authorization": f"Bearer {keys['limited']}", HEADER: "create.1"}
    made = await client.post("/vip/luma/generations", json={"user_prompt": "a hare"}, headers=auth)
    assert made.status_code == 200 and entered == []  # no layer of the stack ran
    assert made.headers[HEADER] == "create.1"
    assert made.headers[LIMIT_HEADER] == "100" and made.headers[REMAINING_HEADER] == "99"
    late = await client.post("/luma/generations", json={"user_prompt": 5}, headers=auth)
    assert late.status_code == 400 and late.headers[REMAINING_HEADER] == "99"
    assert len(late.headers[HEADER]) > 0
    metrics = (await client.get("/metrics")).text
    assert 'method="POST",route="/vip/luma/generations",status="200"' in metrics
    assert 'method="POST",route="/luma/generations",status="400"' in metrics


async def test_a_browsers_create_goes_through_the_whole_stack(
    app_client: tuple[httpx.AsyncClient, dict[str, str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    client, keys = app_client
    headers = {"Authorization": f"Bearer {keys['default']}", "Origin": "http://page.example"}
    hot, routed = await both(
        client,
        monkeypatch,
        "/luma/generations",
        reaches=False,
        json={"user_prompt": "a fox"},
        headers=headers,
    )
    assert hot.status_code == routed.status_code == 200
    allowed = routed.headers.get("access-control-allow-origin")
    assert allowed is not None and hot.headers.get("access-control-allow-origin") == allowed


def _entering(call: Any, entered: list[str]) -> Any:
    async def entering(self: Any, scope: Any, receive: Any, send: Any) -> None:
        entered.append(type(self).__name__)
        await call(self, scope, receive, send)

    return entering
