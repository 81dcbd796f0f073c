"""The served OpenAPI document, complete: bodies, parameters, answers and who may call.

Handlers read their bodies and query strings by hand (so bad input gets each dialect's own
error shape), which hides them from FastAPI's generated document. This module finishes that
document in one place, after FastAPI made it:

- a request body for every operation that takes one (the Pydantic model the handler parses);
- query parameters of the lists and the ``Idempotency-Key`` header of every create, with the
  bounds of ``domain/limits.py``; every path template variable declared;
- the success schema per operation (``openapi_schemas.SUCCESS``) and the error answers in the
  caller's dialect (``{"error": …}``, ``{"detail": …}``, ``{"message": …}``, new-api's task
  error) for each status the operation can give;
- security schemes (tenant Bearer, luma-mock ``Secret-Key``, the admin key) on each operation,
  so ``/docs`` "Try it out" sends a key.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute
from pydantic import BaseModel
from starlette.routing import BaseRoute

from lumagate.api.admin import CreateKeyBody, DisableBody, TopUpBody
from lumagate.api.dialect_common import BODY_DOC, json_request_body
from lumagate.api.errors import dialect_for
from lumagate.api.openapi_schemas import SHARED_SCHEMAS, SUCCESS, Schema, ref
from lumagate.api.reseller import BatchBody, GenerationBody, UploadBody
from lumagate.domain.limits import MAX_IDEMPOTENCY_KEY, MAX_OFFSET, MAX_QUERY_VALUE
from lumagate.domain.states import TaskState

SECURITY_SCHEMES: dict[str, Any] = {
    "tenantKey": {
        "type": "http",
        "scheme": "bearer",
        "description": "A tenant key: `Authorization: Bearer sk-lg-…` (`lumagate keys create`).",
    },
    "secretKey": {
        "type": "apiKey",
        "in": "header",
        "name": "Secret-Key",
        "description": "The luma-mock dialect's header (Bearer works there too).",
    },
    "adminKey": {
        "type": "http",
        "scheme": "bearer",
        "description": "The admin key (`LUMAGATE_ADMIN_KEY` or `<data dir>/admin.key`).",
    },
}
PUBLIC = frozenset({("get", "/healthz"), ("get", "/dream-machine/v1/ping"), ("get", "/ping")})

_GENERATION = GenerationBody, {"user_prompt": "a red fox running", "aspect_ratio": "16:9"}
REQUEST_BODIES: dict[tuple[str, str], tuple[type[BaseModel], dict[str, Any]]] = {
    **{("post", f"{p}/luma/generations"): _GENERATION for p in ("", "/vip", "/pro")},
    **{
        ("post", f"{p}/luma/generations/{{task_id}}/extend"): _GENERATION
        for p in ("", "/vip", "/pro")
    },
    ("post", "/luma/tasks"): (BatchBody, {"ids": ["4665a07c-7641-4809-a133-10786201bb56"]}),
    ("post", "/luma/generations/file_upload"): (
        UploadBody,
        {"url": "data:image/png;base64,iVBORw0KGgo…"},
    ),
    ("post", "/admin/keys"): (CreateKeyBody, {"name": "acme", "credits": 1000, "rpm": 60}),
    ("post", "/admin/keys/{ref}/top-up"): (TopUpBody, {"amount": 500, "note": "invoice 42"}),
    ("post", "/admin/accounts/{ref}/disable"): (DisableBody, {"reason": "maintenance"}),
}

_OFFSET = {"type": "integer", "minimum": 0, "maximum": MAX_OFFSET, "default": 0}
_TEXT = {"type": "string", "maxLength": MAX_QUERY_VALUE}


def _limit(default: int) -> Schema:
    return {"type": "integer", "minimum": 1, "maximum": MAX_OFFSET, "default": default}


_PAGE = {"offset": _OFFSET, "limit": _limit(10)}
QUERY: dict[tuple[str, str], dict[str, Schema]] = {
    ("get", "/dream-machine/v1/generations"): _PAGE,
    ("get", "/api/generations"): _PAGE,
    ("get", "/admin/tasks"): {
        "key": _TEXT,
        "state": {"type": "string", "enum": [s.value for s in TaskState]},
        "offset": _OFFSET,
        "limit": _limit(50),
    },
    ("get", "/admin/ledger"): {
        "key": _TEXT,
        "task": _TEXT,
        "offset": _OFFSET,
        "limit": _limit(50),
    },
    ("get", "/v1/dashboard/billing/usage"): {
        "start_date": {"type": "string", "format": "date"},
        "end_date": {"type": "string", "format": "date"},
    },
    ("get", "/luma/generations"): {
        **_PAGE,
        "state": {
            **_TEXT,
            "description": "pending, processing, completed, failed (comma-separated)",
        },
        "after": {**_TEXT, "description": "the last id of the previous page (keyset: stable)"},
    },
    ("get", "/v1/videos"): {
        "after": {**_TEXT, "description": "the last id of the previous page"},
        "limit": _limit(20),
        "order": {"type": "string", "enum": ["desc", "asc"], "default": "desc"},
    },
    ("get", "/v1/videos/{video_id}/content"): {
        "variant": {
            "type": "string",
            "enum": ["video", "thumbnail", "spritesheet"],
            "default": "video",
        }
    },
}
CREATES = frozenset(
    {
        *(k for k in REQUEST_BODIES if "/luma/generations" in k[1] and "file_upload" not in k[1]),
        ("post", "/dream-machine/v1/generations"),
        ("post", "/dream-machine/v1/generations/video"),
        ("post", "/api/generations/create"),
        ("post", "/v1/chat/completions"),
        ("post", "/v1/video/generations"),
        ("post", "/v1/videos"),
        ("post", "/v1/videos/{video_id}/remix"),
    }
)
CREATED = {("post", "/admin/keys"): "201"}  # handlers answering another status than declared
ERROR_SCHEMA_OF_DIALECT = {
    "reseller": "ResellerError",
    "official": "LumaDetailError",
    "luma_mock": "MessageError",
    "newapi_video": "NewApiTaskError",
}
STATUS_TEXT = {
    400: "Invalid request (the message names the field)",
    401: "Missing or wrong key",
    403: "The key may not do this (channel, credits, expired)",
    404: "Not found (another tenant's task answers the same)",
    409: "The Idempotency-Key was used for another request, or the task has already ended",
    413: "The request body is too large",
    422: "The body does not match the schema (the official dialect's validation answer)",
    429: "Rate limit or running-task limit reached (see Retry-After)",
    500: "Internal error (never expected; reported in the dialect's shape)",
    504: "The video was not ready within the chat timeout",
}


def _error_statuses(method: str, path: str, operation: dict[str, Any]) -> list[int]:
    statuses = [400, 500]
    if dialect_for(path).validation_status == 422:
        statuses.append(422)
    if (method, path) not in PUBLIC:
        statuses += [401, 403]
    if "{" in path or path.startswith("/admin/"):
        statuses.append(404)
    if "requestBody" in operation:
        statuses.append(413)
    if (method, path) in CREATES:
        statuses += [409, 429]
    if path.endswith("/cancel"):
        statuses.append(409)  # the task has already ended
    if path == "/v1/chat/completions":
        statuses.append(504)
    return sorted(statuses)


def _security(method: str, path: str) -> list[dict[str, list[str]]]:
    if (method, path) in PUBLIC:
        return []
    if path.startswith("/admin/"):
        return [{"adminKey": []}]
    if path.startswith("/api/"):
        return [{"tenantKey": []}, {"secretKey": []}]
    return [{"tenantKey": []}]


def _parameters(method: str, path: str, operation: dict[str, Any]) -> None:
    params: list[dict[str, Any]] = operation.setdefault("parameters", [])
    declared = {(p["in"], p["name"]) for p in params}
    for name in re.findall(r"{([^}]+)}", path):
        if ("path", name) not in declared:
            params.append(
                {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
            )
    for name, schema in QUERY.get((method, path), {}).items():
        if ("query", name) not in declared:
            params.append({"name": name, "in": "query", "required": False, "schema": schema})
    if (method, path) in CREATES:
        params.append(
            {
                "name": "Idempotency-Key",
                "in": "header",
                "required": False,
                "description": "Replays of the same request answer the first task (24 h); "
                "the same key with another request answers 409.",
                "schema": {"type": "string", "maxLength": MAX_IDEMPOTENCY_KEY},
            }
        )
    if not params:
        del operation["parameters"]


def _responses(method: str, path: str, operation: dict[str, Any]) -> None:
    responses: dict[str, Any] = operation.setdefault("responses", {})
    responses.pop("422", None)  # FastAPI's own validation shape is never what the gateway sends
    created = CREATED.get((method, path))
    if created is not None and "200" in responses:
        responses[created] = responses.pop("200")
    success = SUCCESS.get((method, path))
    if success is not None:
        for code, answer in responses.items():
            content = answer.get("content", {}).get("application/json")
            if code.startswith("2") and content is not None:
                content["schema"] = success
    error = ref(ERROR_SCHEMA_OF_DIALECT.get(dialect_for(path).name, "OpenAIError"))
    for status in _error_statuses(method, path, operation):
        responses.setdefault(
            str(status),
            {
                "description": STATUS_TEXT[status],
                "content": {"application/json": {"schema": error}},
            },
        )


def complete(document: dict[str, Any]) -> dict[str, Any]:
    """Finish FastAPI's document in place (and return it)."""
    components = document.setdefault("components", {})
    components.setdefault("schemas", {}).update(SHARED_SCHEMAS)
    components["securitySchemes"] = SECURITY_SCHEMES
    for path, item in document["paths"].items():
        for method, operation in item.items():
            body = REQUEST_BODIES.get((method, path))
            if body is not None and "requestBody" not in operation:
                operation["requestBody"] = json_request_body(*body)
            _parameters(method, path, operation)
            _responses(method, path, operation)
            operation["security"] = _security(method, path)
    return document


def document_bodies(routes: Sequence[BaseRoute]) -> None:
    """Give each route's :func:`~lumagate.api.dialect_common.json_body_doc` entry its schema,
    as the ``requestBody`` FastAPI merges into the operation (done here, for the document, so
    start-up builds no body schema)."""
    for route in routes:
        if not isinstance(route, APIRoute) or BODY_DOC not in (route.openapi_extra or {}):
            continue
        extra = dict(route.openapi_extra or {})
        body = json_request_body(*extra.pop(BODY_DOC))
        route.openapi_extra = {**extra, "requestBody": body}


def install_openapi(app: FastAPI) -> None:
    """Serve the completed document at ``/openapi.json`` (built once, on first request)."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document_bodies(app.routes)
            app.openapi_schema = complete(
                get_openapi(
                    title=app.title,
                    version=app.version,
                    description=app.description,
                    routes=app.routes,
                    tags=app.openapi_tags,
                )
            )
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
