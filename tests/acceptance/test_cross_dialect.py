"""One task created in each dialect, read back through every other dialect (same id everywhere).

Also the OpenAI ``/content`` download and the billing endpoints, which read the same tasks.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from lumagate.domain.numeric_ids import numeric_id
from tests.support.acceptance import (
    assert_batch,
    assert_flat,
    client,
    decode_mp4,
    start_server,
    wait_completed,
)
from tests.support.databases import ServerDatabase
from tests.support.newapi_types import TaskResponse
from tests.support.servers import GatewayServer

pytestmark = pytest.mark.slow

SMALL = {"aspect_ratio": "1:1", "resolution": "540p"}


@dataclass
class Env:
    server: GatewayServer
    key: str
    http: httpx.Client


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory, server_database: ServerDatabase) -> Iterator[Env]:
    server = start_server(tmp_path_factory.mktemp("cross") / "data", **server_database())
    try:
        key = server.create_key("cross", "--credits", "100000")
        with client(server.base_url, key) as http:
            yield Env(server, key, http)
    finally:
        server.stop()


def _ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, f"{response.request.url}: {response.text[:400]}"
    return response.json()


# -- one create per dialect: each returns the new task id ------------------------------------
def create_reseller(http: httpx.Client) -> str:
    body = {"user_prompt": "reseller: a red fox", "model_name": "ray-v2", **SMALL}
    return str(_ok(http.post("/luma/generations", json=body))["id"])


def create_luma_mock(http: httpx.Client) -> str:
    headers = {"Authorization": "", "Secret-Key": http.headers["authorization"][7:]}
    body = {"prompt": "luma-mock: a kitten in motion", **SMALL}
    created = _ok(http.post("/api/generations/create", json=body, headers=headers))
    assert created["message"] == "Success" and isinstance(created["data"], list)
    return str(created["data"][0]["id"])


def create_official(http: httpx.Client) -> str:
    body = {"prompt": "official: a tiger in snow", "model": "ray-2", **SMALL}
    return str(_ok(http.post("/dream-machine/v1/generations", json=body), 201)["id"])


def create_chat(http: httpx.Client) -> str:
    body = {
        "model": "luma-video-ray2-flash",
        "messages": [{"role": "user", "content": "chat: a paper boat"}],
        **SMALL,
    }
    completion = _ok(http.post("/v1/chat/completions", json=body, timeout=120))
    assert completion["object"] == "chat.completion"
    assert ".mp4)" in completion["choices"][0]["message"]["content"]
    return str(completion["task_id"])


def create_newapi(http: httpx.Client) -> str:
    body = {"model": "ray-2", "prompt": "new-api: a lighthouse", "width": 540, "height": 540}
    created = _ok(http.post("/v1/video/generations", json=body))
    assert created["status"] == "queued"
    return str(created["task_id"])


def create_openai(http: httpx.Client) -> str:
    body = {"prompt": "openai: a hummingbird", "model": "ray-2", "size": "540x540", "seconds": 4}
    created = _ok(http.post("/v1/videos", json=body))
    assert created["object"] == "video" and created["status"] == "queued"
    assert created["seconds"] == "5" and created["size"] == "540x540"
    return str(created["id"])


CREATORS: dict[str, Callable[[httpx.Client], str]] = {
    "reseller": create_reseller,
    "luma_mock": create_luma_mock,
    "official": create_official,
    "chat": create_chat,
    "newapi_video": create_newapi,
    "openai_videos": create_openai,
}


# -- one read per dialect: each checks its shape and returns the state it reports ------------
def read_reseller(http: httpx.Client, task_id: str) -> str:
    body = _ok(http.get(f"/luma/generations/{task_id}"))
    assert_flat(body, task_id)
    return str(body["state"])


def read_luma_mock(http: httpx.Client, task_id: str) -> str:
    headers = {"Authorization": "", "Secret-Key": http.headers["authorization"][7:]}
    body = _ok(http.get(f"/api/generations/{task_id}", headers=headers))
    assert set(body) == {"data"}
    assert_flat(body["data"], task_id)
    return str(body["data"]["state"])


def read_official(http: httpx.Client, task_id: str) -> str:
    body = _ok(http.get(f"/dream-machine/v1/generations/{task_id}"))
    assert body["id"] == task_id and body["generation_type"] == "video"
    assert {"state", "assets", "created_at", "model", "request", "failure_reason"} <= set(body)
    return {"queued": "pending", "dreaming": "processing"}.get(body["state"], body["state"])


def read_newapi(http: httpx.Client, task_id: str) -> str:
    body = _ok(http.get(f"/v1/video/generations/{task_id}"))
    decoded = TaskResponse.model_validate(body)  # as new-api's Go types decode it
    assert decoded.code == "success" and decoded.message == ""
    assert decoded.data.task_id == task_id and decoded.data.id == numeric_id(task_id)
    assert_flat(body["data"]["data"], task_id)
    return str(body["data"]["data"]["state"])


def read_openai(http: httpx.Client, task_id: str) -> str:
    body = _ok(http.get(f"/v1/videos/{task_id}"))
    assert body["id"] == task_id and body["object"] == "video"
    return {"queued": "pending", "in_progress": "processing"}.get(body["status"], body["status"])


def read_batch(http: httpx.Client, task_id: str) -> str:
    body = _ok(http.post("/luma/tasks", json={"ids": [task_id]}))
    assert_batch(body, [task_id])
    return str(body["data"][0]["data"]["state"])


READERS: dict[str, Callable[[httpx.Client, str], str]] = {
    "reseller": read_reseller,
    "luma_mock": read_luma_mock,
    "official": read_official,
    "newapi_video": read_newapi,
    "openai_videos": read_openai,
    "reseller_batch": read_batch,
}


def test_every_dialect_reads_every_other_dialects_task(env: Env) -> None:
    ids = {name: create(env.http) for name, create in CREATORS.items()}
    assert len(set(ids.values())) == len(ids)
    for task_id in ids.values():  # readable at once, whatever the state
        for read in READERS.values():
            assert read(env.http, task_id) in ("pending", "processing", "completed")
    for task_id in ids.values():
        wait_completed(env.http, task_id)
    for created_in, task_id in ids.items():
        for read_in, read in READERS.items():
            state = read(env.http, task_id)
            assert state == "completed", f"{created_in} task read in {read_in}: {state}"

    listed = _ok(env.http.get("/dream-machine/v1/generations", params={"limit": 100}))
    assert set(ids.values()) <= {g["id"] for g in listed["generations"]}
    headers = {"Authorization": "", "Secret-Key": env.key}
    mock_list = _ok(env.http.get("/api/generations?limit=100", headers=headers))["data"]
    assert set(ids.values()) <= {g["id"] for g in mock_list}


def test_openai_content_streams_the_mp4_and_thumbnail(env: Env) -> None:
    task_id = create_official(env.http)
    wait_completed(env.http, task_id)
    video = env.http.get(f"/v1/videos/{task_id}/content")
    assert video.status_code == 200 and video.headers["content-type"] == "video/mp4"
    decoded = decode_mp4(video.content)
    assert (decoded.width, decoded.height) == (540, 540)
    thumb = env.http.get(f"/v1/videos/{task_id}/content", params={"variant": "thumbnail"})
    assert thumb.status_code == 200 and thumb.headers["content-type"] == "image/jpeg"
    body = _ok(env.http.get(f"/v1/videos/{task_id}"))
    assert body["status"] == "completed" and body["progress"] == 100
    assert isinstance(body["completed_at"], int)


def test_billing_endpoints_follow_the_ledger(env: Env) -> None:
    subscription = _ok(env.http.get("/v1/dashboard/billing/subscription"))
    assert subscription["object"] == "billing_subscription"
    assert subscription["has_payment_method"] is True
    limit = subscription["hard_limit_usd"]
    assert limit == subscription["soft_limit_usd"] == subscription["system_hard_limit_usd"]
    assert limit == pytest.approx(1000.0)  # 100000 credits at 100 credits per USD
    usage = _ok(env.http.get("/v1/dashboard/billing/usage"))
    assert usage["object"] == "list" and usage["total_usage"] >= 0
    used_usd = usage["total_usage"] / 100
    credits = _ok(env.http.get("/dream-machine/v1/credits"))["credit_balance"]
    assert credits / 100 == pytest.approx(limit - used_usd)  # balance = limit - spent
    future = _ok(
        env.http.get(
            "/v1/dashboard/billing/usage",
            params={"start_date": "2999-01-01", "end_date": "2999-02-01"},
        )
    )
    assert future["total_usage"] == 0
    bad = env.http.get("/v1/dashboard/billing/usage", params={"start_date": "yesterday"})
    assert bad.status_code == 400 and bad.json()["error"]["message"].startswith("start_date")


def test_idempotency_key_on_every_create(env: Env) -> None:
    creators: dict[str, tuple[str, dict[str, Any], Callable[[Any], str]]] = {
        "official": (
            "/dream-machine/v1/generations",
            {"prompt": "idempotent official", **SMALL},
            lambda b: str(b["id"]),
        ),
        "luma_mock": (
            "/api/generations/create",
            {"prompt": "idempotent mock", **SMALL},
            lambda b: str(b["data"][0]["id"]),
        ),
        "newapi_video": (
            "/v1/video/generations",
            {"prompt": "idempotent new-api", "width": 540, "height": 540},
            lambda b: str(b["task_id"]),
        ),
        "openai_videos": (
            "/v1/videos",
            {"prompt": "idempotent openai", "size": "540x540"},
            lambda b: str(b["id"]),
        ),
    }
    for name, (path, body, id_of) in creators.items():
        headers = {"Idempotency-Key": f"idem-{name}"}
        first = id_of(env.http.post(path, json=body, headers=headers).json())
        again = id_of(env.http.post(path, json=body, headers=headers).json())
        other = id_of(env.http.post(path, json=body).json())
        assert first == again != other, name
