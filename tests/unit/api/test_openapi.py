"""The served OpenAPI document is complete: bodies, parameters, answers, security."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from lumagate.api.app import create_app
from lumagate.settings import Settings


@pytest.fixture(scope="module")
def spec(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    data_dir: Path = tmp_path_factory.mktemp("openapi")
    app = create_app(Settings(data_dir=data_dir, admin_key="sk-lg-admin-x"), start_engine=False)
    document: dict[str, Any] = app.openapi()
    return document


def _operations(spec: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [(m, p, op) for p, item in spec["paths"].items() for m, op in item.items()]


NO_BODY = re.compile(
    r"/(revoke|enable|cancel)$|/dream-machine/v1/generations/(image|video/|\{task_id\}/)"
)


def test_every_post_that_reads_a_body_documents_it(spec: dict[str, Any]) -> None:
    posts = [(p, op) for m, p, op in _operations(spec) if m == "post"]
    assert len(posts) >= 26
    for path, operation in posts:
        if NO_BODY.search(path):
            continue  # no body (revoke, enable, cancel, the unsupported official operations)
        content = operation.get("requestBody", {}).get("content", {})
        body = content.get("application/json") or content.get("multipart/form-data")
        assert body and body["schema"].get("properties"), path


def test_every_path_variable_is_a_declared_parameter(spec: dict[str, Any]) -> None:
    for _method, path, operation in _operations(spec):
        declared = {p["name"] for p in operation.get("parameters", []) if p["in"] == "path"}
        assert set(re.findall(r"{([^}]+)}", path)) == declared, path


def test_lists_document_their_query_and_creates_their_idempotency_key(
    spec: dict[str, Any],
) -> None:
    def names(method: str, path: str) -> set[str]:
        return {p["name"] for p in spec["paths"][path][method].get("parameters", [])}

    assert {"offset", "limit"} <= names("get", "/dream-machine/v1/generations")
    assert {"offset", "limit"} <= names("get", "/api/generations")
    assert {"key", "state", "offset", "limit"} <= names("get", "/admin/tasks")
    for path in ("/luma/generations", "/dream-machine/v1/generations", "/v1/videos"):
        assert "Idempotency-Key" in names("post", path)


@pytest.mark.parametrize(
    ("path", "error"),
    [
        ("/luma/generations", "ResellerError"),
        ("/dream-machine/v1/generations", "LumaDetailError"),
        ("/api/generations/create", "MessageError"),
        ("/v1/video/generations", "NewApiTaskError"),
        ("/admin/keys", "OpenAIError"),
    ],
)
def test_errors_are_documented_in_each_dialects_shape(
    spec: dict[str, Any], path: str, error: str
) -> None:
    responses = spec["paths"][path]["post"]["responses"]
    for status in ("400", "401", "500"):
        schema = responses[status]["content"]["application/json"]["schema"]
        assert schema == {"$ref": f"#/components/schemas/{error}"}, (path, status)
    assert error in spec["components"]["schemas"]


def test_every_json_success_answer_has_a_schema(spec: dict[str, Any]) -> None:
    for method, path, operation in _operations(spec):
        for status, answer in operation["responses"].items():
            content = answer.get("content", {}).get("application/json")
            if status.startswith("2") and content is not None:
                assert content.get("schema"), (method, path, status)


def test_security_schemes_cover_tenants_mock_clients_and_the_admin(spec: dict[str, Any]) -> None:
    schemes = spec["components"]["securitySchemes"]
    assert schemes["tenantKey"]["scheme"] == "bearer"
    assert schemes["secretKey"] == {**schemes["secretKey"], "in": "header", "name": "Secret-Key"}
    paths = spec["paths"]
    assert paths["/admin/keys"]["get"]["security"] == [{"adminKey": []}]
    assert {"secretKey": []} in paths["/api/generations"]["get"]["security"]
    assert paths["/luma/generations"]["post"]["security"] == [{"tenantKey": []}]
    assert paths["/healthz"]["get"]["security"] == []


def test_building_the_app_makes_no_body_schema_the_document_makes_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pydantic import BaseModel

    made: list[str] = []
    original = BaseModel.model_json_schema.__func__  # type: ignore[attr-defined]

    def counting(cls: type[BaseModel], *args: Any, **kwargs: Any) -> dict[str, Any]:
        made.append(cls.__name__)
        schema: dict[str, Any] = original(cls, *args, **kwargs)
        return schema

    monkeypatch.setattr(BaseModel, "model_json_schema", classmethod(counting))
    app = create_app(Settings(data_dir=tmp_path), start_engine=False)
    assert made == []  # start-up: none of the documented bodies' schemas
    document = app.openapi()
    assert "OfficialCreateBody" in made
    body = document["paths"]["/dream-machine/v1/generations"]["post"]["requestBody"]
    assert body["content"]["application/json"]["schema"]["properties"]["prompt"]
    assert not any("x-lumagate" in key for _m, _p, op in _operations(document) for key in op)
