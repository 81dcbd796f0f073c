"""Clients written for the Go project that defined ``/luma/*``, as they call it: a bare key in
``Authorization``, ``GET /ping``, ``POST …/download_video_url``, the list
``GET /luma/generations/?offset=&limit=`` (a JSON array of flat objects), and errors whose
``detail.reason`` they read. One server for the file, over real HTTP."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from tests.support.acceptance import (
    assert_error,
    assert_flat,
    client,
    start_server,
    wait_completed,
    wait_for,
)
from tests.support.servers import GatewayServer

pytestmark = pytest.mark.slow

FAIL = "[[fail]]"  # the sandbox fails such prompts at once
JSON = {"Content-Type": "application/json"}


@dataclass
class Env:
    server: GatewayServer
    key: str
    go: httpx.Client  # Authorization: <key>, no scheme, as the Go clients send it
    other: httpx.Client  # another tenant, with Bearer
    source_id: str  # a real render (completes)


def go_client(base_url: str, key: str) -> httpx.Client:
    return httpx.Client(base_url=base_url, headers={"Authorization": key}, timeout=30.0)


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Env]:
    server = start_server(tmp_path_factory.mktemp("go-clients") / "data")
    try:
        key = server.create_key("go-client")
        with (
            go_client(server.base_url, key) as go,
            client(server.base_url, server.create_key("bystander")) as other,
        ):
            created = go.post(
                "/luma/generations/", json={"user_prompt": "a paper boat", "resolution": "540p"}
            )
            assert created.status_code == 200, created.text
            yield Env(server, key, go, other, created.json()["id"])
    finally:
        server.stop()


def test_ping_answers_pong_without_a_key(env: Env) -> None:
    with httpx.Client(base_url=env.server.base_url) as anonymous:
        response = anonymous.get("/ping")
    assert response.status_code == 200
    assert response.json() == {"message": "pong"}


def test_a_bare_key_authenticates_and_bearer_parsing_stays_exact(env: Env) -> None:
    me = env.go.get("/luma/users/me")
    assert me.status_code == 200, me.text
    with httpx.Client(base_url=env.server.base_url) as http:
        for header in (
            f"Bearer {env.key}",  # the usual form
            env.key,  # the Go clients' form
        ):
            ok = http.get("/luma/users/me", headers={"Authorization": header})
            assert ok.status_code == 200, (header, ok.text)
        for header in (
            f"Bearer  {env.key}",  # the literal prefix is stripped once, nothing trimmed
            f"bearer {env.key}",  # not the literal prefix: the whole value is no key
            f"Token {env.key}",  # another scheme is not a bare key either
            "Bearer",
            "",
        ):
            refused = http.get("/luma/users/me", headers={"Authorization": header})
            assert_error(refused, 401)
            assert refused.json()["detail"]["reason"] == refused.json()["error"]["message"]


def test_download_video_url_by_post_as_the_go_swagger_says(env: Env) -> None:
    source = wait_completed(env.go, env.source_id)
    for method in ("POST", "GET"):
        for suffix in ("", "/"):
            response = env.go.request(
                method, f"/luma/generations/{env.source_id}/download_video_url{suffix}"
            )
            assert response.status_code == 200, (method, suffix, response.text)
            assert response.json() == {"url": source["video"]["download_url"]}
    early = env.go.post("/luma/generations", json={"user_prompt": f"{FAIL} never completes"})
    failed = wait_for(env.go, early.json()["id"], ("failed",))
    refused = env.go.post(f"/luma/generations/{failed['id']}/download_video_url")
    assert_error(refused, 400)


def test_errors_carry_detail_reason_beside_error(env: Env) -> None:
    cases = [
        env.go.get(f"/luma/generations/{uuid.uuid4()}"),
        env.go.post("/luma/generations", json={"user_prompt": 5}),
        env.go.post(
            "/luma/generations", content=b"{", headers={"Content-Type": "application/json"}
        ),
        env.go.get("/luma/generations", params={"limit": "many"}),
        env.go.get("/pro/luma/nothing-here"),
    ]
    for response in cases:
        assert 400 <= response.status_code < 500, response.text
        body = response.json()
        assert set(body) == {"error", "detail"}, body
        assert body["detail"] == {"reason": body["error"]["message"], "code": 1}, body
        assert isinstance(body["detail"]["reason"], str) and body["detail"]["reason"]


def _ids(response: httpx.Response) -> list[str]:
    assert response.status_code == 200, response.text
    body: Any = response.json()
    assert isinstance(body, list), body  # the Go swagger's list: an array of flat objects
    for item in body:
        assert_flat(item, item["id"])
    return [item["id"] for item in body]


def test_list_pages_newest_first_by_offset_and_state(env: Env) -> None:
    made = [
        env.go.post("/vip/luma/generations", json={"user_prompt": f"{FAIL} list {n}"}).json()["id"]
        for n in range(5)
    ]
    for task_id in made:
        wait_for(env.go, task_id, ("failed",))
    newest_first = list(reversed(made))
    everything = _ids(env.go.get("/luma/generations/", params={"offset": 0, "limit": 100}))
    assert everything[:5] == newest_first
    assert env.source_id in everything
    assert (
        _ids(env.go.get("/luma/generations", params={"offset": 1, "limit": 2}))
        == (newest_first[1:3])
    )
    assert _ids(env.go.get("/pro/luma/v1/generations", params={"limit": 3})) == newest_first[:3]
    failed = _ids(env.go.get("/luma/generations", params={"state": "failed", "limit": 100}))
    assert set(made) <= set(failed) and env.source_id not in failed
    done = _ids(env.go.get("/luma/generations", params={"state": "completed,pending"}))
    assert not set(made) & set(done)
    # Another tenant's list holds none of these; an unknown state is a 400 naming the field.
    assert not set(_ids(env.other.get("/luma/generations"))) & set(everything)
    assert_error(env.go.get("/luma/generations", params={"state": "done"}), 400, mentions="state")


def test_list_after_a_cursor_is_stable_while_tasks_arrive(env: Env) -> None:
    first_page = _ids(env.go.get("/luma/generations", params={"limit": 2}))
    second_page = _ids(env.go.get("/luma/generations", params={"limit": 2, "offset": 2}))
    newcomer = env.go.post("/luma/generations", json={"user_prompt": f"{FAIL} newcomer"})
    assert newcomer.status_code == 200
    # By offset the newcomer shifts the pages; after the first page's last id it does not.
    shifted = _ids(env.go.get("/luma/generations", params={"limit": 2, "offset": 2}))
    assert shifted[0] == first_page[-1]
    kept = _ids(env.go.get("/luma/generations", params={"limit": 2, "after": first_page[-1]}))
    assert kept == second_page
    assert _ids(env.go.get("/luma/generations", params={"after": str(uuid.uuid4())})) == []
