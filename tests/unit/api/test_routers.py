"""The dialects' routes join the app's own route list, built once, and still obey the app's
dependency overrides (what ``include_router`` gave them); a router not built for the app is
refused; a handler's alias paths share its build, answer with their own path parameters and
stay out of the OpenAPI document."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from lumagate.api.app import create_app
from lumagate.api.deps import bearer_tenant, usage_service
from lumagate.api.routers import add_routes, app_router
from lumagate.settings import Settings


def _app(data_dir: Path) -> FastAPI:
    return create_app(Settings(data_dir=data_dir, admin_key="sk-lg-admin-x"), start_engine=False)


def test_every_route_is_on_the_app_itself_none_in_an_included_branch(tmp_path: Path) -> None:
    app = _app(tmp_path)
    branches = [route for route in app.routes if hasattr(route, "original_router")]
    assert branches == []
    paths = {getattr(route, "path", "") for route in app.routes}
    # the dialects, the console and the files are all there
    assert {"/luma/generations/{task_id}", "/admin/keys", "/console", "/files/{key:path}"} <= paths


class FakeUsage:
    @staticmethod
    def profile(tenant: object) -> dict[str, Any]:
        return {"id": f"overridden-{tenant}"}

    async def usage(self, tenant: object) -> FakeUsage:
        return self

    def luma_shape(self) -> dict[str, Any]:
        return {"consumed": 7}


def test_the_apps_dependency_overrides_reach_a_dialect_route(tmp_path: Path) -> None:
    app = _app(tmp_path)
    app.dependency_overrides[bearer_tenant] = lambda: "tenant-1"
    app.dependency_overrides[usage_service] = FakeUsage
    with TestClient(app) as http:
        answer = http.get("/luma/users/me")
    assert answer.status_code == 200
    assert answer.json() == {"id": "overridden-tenant-1", "usage": {"consumed": 7}}


def test_a_router_built_for_another_app_is_refused() -> None:
    app, other = FastAPI(), FastAPI()
    router = app_router(other)
    router.add_api_route("/x", lambda: None)
    with pytest.raises(ValueError, match="built for this app"):
        add_routes(app, router)
    add_routes(other, router)
    assert [getattr(route, "path", None) for route in other.routes][-1] == "/x"


def test_an_alias_path_shares_the_build_and_answers_with_its_own_parameters() -> None:
    app = FastAPI()
    router = app_router(app, tags=["t"])

    async def one(task_id: str, verbose: bool = False) -> dict[str, Any]:
        return {"task_id": task_id, "verbose": verbose}

    router.add_api_route("/a/{task_id}", one, methods=["GET"], summary="One")
    router.add_api_route("/b/{task_id}/", one, methods=["GET"], include_in_schema=False)
    router.add_api_route("/c/{other}", one, methods=["GET"], include_in_schema=False)
    router.add_api_route("/d/{task_id}", one, methods=["POST"], include_in_schema=False)
    router.add_api_route("/e/{task_id}", one, methods=["GET"], summary="Shown too")
    add_routes(app, router)
    first, alias, renamed, other_method, shown = [
        route for route in app.routes[-5:] if isinstance(route, APIRoute)
    ]
    assert alias.dependant is first.dependant  # built once
    for separate in (renamed, other_method, shown):  # other parameters, methods, or documented
        assert separate.dependant is not first.dependant
    assert alias.name == "one" and alias.tags == ["t"] and alias.path == "/b/{task_id}/"
    with TestClient(app) as http:
        assert http.get("/b/x-1/?verbose=true").json() == {"task_id": "x-1", "verbose": True}
        assert http.get("/a/x-2").json() == {"task_id": "x-2", "verbose": False}
        assert http.get("/c/x-3").status_code == 422  # its own build: task_id is a query here
        assert http.post("/b/x-4/").status_code == 405
        paths = http.get("/openapi.json").json()["paths"]
    assert sorted(paths) == ["/a/{task_id}", "/e/{task_id}"]
