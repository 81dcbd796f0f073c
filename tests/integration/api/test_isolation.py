"""Tenant isolation over every dialect: another tenant's task id answers exactly like an id that
does not exist (same status, same body but for the id), is left out of batch queries and lists,
and cannot be extended, downloaded, hidden or have its deliveries read.

One server, one completed task of tenant A; tenant B probes it through each route, and the
owner's answer on the same route proves the probe is not vacuous.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from tests.support.acceptance import client, start_server, wait_for
from tests.support.databases import ServerDatabase
from tests.support.servers import GatewayServer

pytestmark = pytest.mark.slow


@dataclass
class World:
    server: GatewayServer
    owner: httpx.Client
    other: httpx.Client
    task_id: str


@pytest.fixture(scope="module")
def world(
    tmp_path_factory: pytest.TempPathFactory, server_database: ServerDatabase
) -> Iterator[World]:
    server = start_server(tmp_path_factory.mktemp("isolation") / "data", **server_database())
    try:
        owner_key, other_key = server.create_key("owner"), server.create_key("other")
        with (
            client(server.base_url, owner_key) as owner,
            client(server.base_url, other_key) as other,
        ):
            created = owner.post(
                "/luma/generations",
                json={"user_prompt": "a private fox", "notify_hook": "http://10.0.0.1/hook"},
            )
            assert created.status_code == 200, created.text
            task_id = created.json()["id"]
            wait_for(owner, task_id, states={"completed"})
            yield World(server, owner, other, task_id)
    finally:
        server.stop()


Probe = Callable[[httpx.Client, str], httpx.Response]


def _get(path: str) -> Probe:
    return lambda http, task_id: http.get(path.format(id=task_id))


def _post(path: str, body: Callable[[str], Any]) -> Probe:
    return lambda http, task_id: http.post(path.format(id=task_id), json=body(task_id))


def _delete(path: str) -> Probe:
    return lambda http, task_id: http.delete(path.format(id=task_id))


EXTEND_BODY = {"user_prompt": "and then it jumps"}

# (name, probe, owner's status on the same route)
SINGLE_TASK_ROUTES: list[tuple[str, Probe, int]] = [
    *(
        (f"reseller get {p}{b}", _get(p + b + "/{id}"), 200)
        for p in ("", "/vip", "/pro")
        for b in ("/luma/generations", "/luma/v1/generations", "/luma/V1/generations")
    ),
    ("reseller get slash", _get("/luma/generations/{id}/"), 200),
    ("reseller download", _get("/luma/generations/{id}/download_video_url"), 200),
    ("reseller download pro", _get("/pro/luma/v1/generations/{id}/download_video_url"), 200),
    ("reseller deliveries", _get("/luma/generations/{id}/deliveries"), 200),
    ("reseller deliveries vip", _get("/vip/luma/v1/generations/{id}/deliveries/"), 200),
    ("reseller extend", _post("/luma/generations/{id}/extend", lambda _i: EXTEND_BODY), 200),
    (
        "reseller extend pro",
        _post("/pro/luma/generations/{id}/extend", lambda _i: EXTEND_BODY),
        200,
    ),
    ("luma-mock get", _get("/api/generations/{id}"), 200),
    ("official get", _get("/dream-machine/v1/generations/{id}"), 200),
    (
        "official extend",
        _post(
            "/dream-machine/v1/generations",
            lambda i: {
                "prompt": "it goes on",
                "keyframes": {"frame0": {"type": "generation", "id": i}},
            },
        ),
        201,
    ),
    ("new-api get", _get("/v1/video/generations/{id}"), 200),
    ("openai-videos get", _get("/v1/videos/{id}"), 200),
    ("openai-videos content", _get("/v1/videos/{id}/content"), 200),
]

# Hiding routes last for the owner (they change what the owner sees afterwards).
HIDE_ROUTES: list[tuple[str, Probe]] = [
    ("official delete", _delete("/dream-machine/v1/generations/{id}")),
    ("openai-videos delete", _delete("/v1/videos/{id}")),
]


def _normalized(response: httpx.Response, task_id: str) -> tuple[int, str]:
    return response.status_code, response.text.replace(task_id, "<ID>")


@pytest.mark.parametrize(
    ("name", "probe", "owner_status"),
    SINGLE_TASK_ROUTES,
    ids=lambda v: v if isinstance(v, str) else "",
)
def test_foreign_id_answers_like_a_missing_id(
    world: World, name: str, probe: Probe, owner_status: int
) -> None:
    missing = str(uuid.uuid4())
    foreign = probe(world.other, world.task_id)
    absent = probe(world.other, missing)
    assert foreign.status_code in (400, 404, 422), (name, foreign.text)
    assert _normalized(foreign, world.task_id) == _normalized(absent, missing), name
    assert "a private fox" not in foreign.text  # nothing of the task leaks
    assert probe(world.owner, world.task_id).status_code == owner_status, name


@pytest.mark.parametrize(
    "path", ["/luma/tasks", "/luma/v1/tasks", "/pro/luma/tasks", "/vip/luma/tasks/"]
)
def test_batch_queries_leave_foreign_ids_out(world: World, path: str) -> None:
    ids = [world.task_id, str(uuid.uuid4())]
    foreign = world.other.post(path, json={"ids": ids})
    assert foreign.status_code == 200 and foreign.json()["data"] == []
    mine = world.owner.post(path, json={"ids": ids}).json()["data"]
    assert [r["id"] for r in mine] == [world.task_id]


@pytest.mark.parametrize(
    ("path", "items"),
    [
        ("/api/generations", lambda body: body["data"]),
        ("/dream-machine/v1/generations", lambda body: body["generations"]),
    ],
)
def test_lists_show_only_the_callers_tasks(
    world: World, path: str, items: Callable[[Any], list[dict[str, Any]]]
) -> None:
    assert all(t["id"] != world.task_id for t in items(world.other.get(path).json()))
    assert any(t["id"] == world.task_id for t in items(world.owner.get(path).json()))


def test_foreign_tenant_cannot_hide_and_admin_routes_need_the_admin_key(world: World) -> None:
    for name, probe in HIDE_ROUTES:
        missing = str(uuid.uuid4())
        foreign, absent = probe(world.other, world.task_id), probe(world.other, missing)
        assert foreign.status_code == 404, (name, foreign.text)
        assert _normalized(foreign, world.task_id) == _normalized(absent, missing), name
    assert world.owner.get(f"/luma/generations/{world.task_id}").status_code == 200
    for path in ("/admin/tasks", f"/admin/tasks/{world.task_id}", "/admin/keys", "/admin/ledger"):
        assert world.other.get(path).status_code == 401
        assert world.owner.get(path).status_code == 401
