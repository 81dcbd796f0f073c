"""The luma-mock dialect (CONTRACT §2, seed 003): ``/api/generations`` with ``{"data": …}``.

Clients of the "luma-api" mock servers authenticate with ``Secret-Key: <key>`` (Bearer works
too), read every success body from a ``data`` envelope, create with ``{"prompt", "image"}`` and
receive a LIST of created generations, and upload images as multipart ``file``. Errors are
``{"message": "…"}`` with the real HTTP status (401 for a bad key, never 400).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, FastAPI, Request
from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt, StrictStr
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.formparsers import MultiPartException

from lumagate.api.body import read_model
from lumagate.api.deps import Tasks, Usage, bearer_or_secret_key_tenant
from lumagate.api.dialect_common import (
    channel_for,
    documented_route,
    idempotency_key,
    max_body,
    query_int,
)
from lumagate.api.errors import ErrorDialect, register_error_dialect
from lumagate.api.luma_shapes import flat_generation
from lumagate.api.routers import add_routes, app_router
from lumagate.domain import messages as msg
from lumagate.domain.errors import GatewayError, InvalidRequest, PayloadTooLarge
from lumagate.domain.task import Task
from lumagate.domain.tenant import ApiKey
from lumagate.service.create_command import CreateFields
from lumagate.service.tasks import CreateCommand, TaskService

TAG = "luma-mock API (/api/generations)"
DIALECT = "luma_mock"
MAX_PAGE = 100
MOCK_FIELDS = CreateFields.plain("image", "image_end")  # no callback field here


class MockCreateBody(BaseModel):
    """``POST /api/generations/create``. Only ``prompt``/``image`` are in the seed; the rest are
    the luma web app's own fields, accepted because mock clients pass them through."""

    model_config = ConfigDict(extra="ignore")

    prompt: StrictStr | None = Field(default=None, examples=["A kitten in motion"])
    image: StrictStr | None = Field(default=None, description="Optional start image URL")
    image_end: StrictStr | None = Field(default=None, description="Optional end image URL")
    aspect_ratio: StrictStr | None = None
    expand_prompt: StrictBool | None = None
    loop: StrictBool | None = None
    model: StrictStr | None = None
    resolution: StrictStr | None = None
    duration: StrictStr | StrictInt | None = None

    def command(self, tenant: ApiKey, key: str | None) -> CreateCommand:
        return CreateCommand(
            channel=channel_for(tenant),
            dialect=DIALECT,
            prompt=(self.prompt or "").strip(),
            aspect_ratio=self.aspect_ratio or "16:9",
            loop=bool(self.loop),
            expand_prompt=True if self.expand_prompt is None else self.expand_prompt,
            model=self.model,
            resolution=self.resolution or "720p",
            duration=self.duration if self.duration is not None else "5s",
            start_image=self.image,
            end_image=self.image_end,
            idempotency_key=key,
            fields=MOCK_FIELDS,
        )


def message_body(error: GatewayError) -> dict[str, Any]:
    """``{"message": "…"}``: the luma-mock error shape."""
    return {"message": error.message}


_FLAT_EXAMPLE = {
    "id": "eaf962b3-f279-4247-9d7d-c27c741e07cb",
    "prompt": "magic girl",
    "state": "completed",
    "created_at": "2024-06-20T06:02:26.278000Z",
    "video": {
        "url": "http://127.0.0.1:8000/files/videos/…/video.mp4",
        "width": 1280,
        "height": 720,
        "thumbnail": "http://127.0.0.1:8000/files/videos/…/thumbnail.jpg",
        "download_url": "http://127.0.0.1:8000/files/videos/…/video.mp4",
    },
    "liked": None,
    "estimate_wait_seconds": None,
}


async def list_generations(
    request: Request, service: Tasks, tenant: ApiKey = Depends(bearer_or_secret_key_tenant)
) -> Any:
    offset = query_int(request, "offset", 0, minimum=0)
    limit = query_int(request, "limit", 10, minimum=1, maximum=MAX_PAGE)
    tasks, _more = await service.list_tasks(tenant, offset=offset, limit=limit)
    return {"data": [await flat_generation(task, service) for task in tasks]}


async def get_generation(
    task_id: str,
    request: Request,
    service: Tasks,
    tenant: ApiKey = Depends(bearer_or_secret_key_tenant),
) -> Any:
    return {"data": await flat_generation(await service.get(tenant, task_id), service)}


async def usage(usage: Usage, tenant: ApiKey = Depends(bearer_or_secret_key_tenant)) -> Any:
    return {"data": (await usage.usage(tenant)).luma_shape()}


async def create(
    request: Request, service: Tasks, tenant: ApiKey = Depends(bearer_or_secret_key_tenant)
) -> Any:
    body = await read_model(request, MockCreateBody, max_body(request))
    if not (body.prompt or "").strip() and not body.image:
        raise InvalidRequest(msg.PROMPT_OR_IMAGE(field="prompt"), field="prompt")
    task = await service.create(tenant, body.command(tenant, idempotency_key(request)))
    return {"message": "Success", "data": [await flat_generation(task, service)]}


async def upload(
    request: Request, service: Tasks, tenant: ApiKey = Depends(bearer_or_secret_key_tenant)
) -> Any:
    limit = max_body(request)
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(msg.BODY_TOO_LARGE(limit=limit))
    if not request.headers.get("content-type", "").startswith("multipart/form-data"):
        raise InvalidRequest(msg.SEND_MULTIPART_FILE(), field="file")
    try:
        async with request.form(max_files=1, max_fields=10) as form:
            upload_file = form.get("file")
            if not isinstance(upload_file, UploadFile):
                raise InvalidRequest(msg.MULTIPART_FILE_MISSING(), field="file")
            data = await upload_file.read(limit + 1)
    except (MultiPartException, StarletteHTTPException) as exc:
        detail = exc.message if isinstance(exc, MultiPartException) else exc.detail
        raise InvalidRequest(msg.MALFORMED_MULTIPART(detail=detail), field="file") from None
    if len(data) > limit:
        raise PayloadTooLarge(msg.BODY_TOO_LARGE(limit=limit))
    ref = await service.upload_bytes(data)
    url = service.link(ref) or ""
    upload_id = ref.rsplit("/", 1)[-1].split(".")[0]
    return {"data": {"id": upload_id, "presigned_url": url, "public_url": url}}


_UPLOAD_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "properties": {"file": {"type": "string", "format": "binary"}},
                    "required": ["file"],
                }
            }
        },
    }
}


def build_router(app: FastAPI) -> APIRouter:
    router = app_router(app, tags=[TAG])
    # Fixed paths before ``/api/generations/{task_id}``.
    documented_route(
        router,
        "/api/generations/usage",
        usage,
        "GET",
        "Generations used and left for the caller",
        {"data": {"consumed": 12, "capacity": 30}},
    )
    documented_route(
        router,
        "/api/generations/create",
        create,
        "POST",
        "Create a video task",
        {"message": "Success", "data": [_FLAT_EXAMPLE]},
        body=(MockCreateBody, {"prompt": "A kitten in motion", "image": ""}),
    )
    documented_route(
        router,
        "/api/generations/upload",
        upload,
        "POST",
        "Upload an image (multipart field 'file'); use public_url as image",
        {"data": {"id": "a2e55d82…", "presigned_url": "…", "public_url": "…"}},
        extra=_UPLOAD_BODY,
    )
    for path in ("/api/generations", "/api/generations/"):
        documented_route(
            router,
            path,
            list_generations,
            "GET",
            "The caller's tasks, newest first (offset, limit ≤ 100)",
            {"data": [_FLAT_EXAMPLE]},
            include_in_schema=not path.endswith("/"),
        )
    one = {"data": _FLAT_EXAMPLE}
    documented_route(router, "/api/generations/{task_id}", get_generation, "GET", "One task", one)
    return router


async def callback_body(task: Task, service: TaskService) -> Any:
    """Callbacks carry what ``GET /api/generations/{id}`` returns."""
    return {"data": await flat_generation(task, service)}


def _is_mock_path(path: str) -> bool:
    return path == "/api" or path.startswith("/api/")


def install(app: FastAPI) -> None:
    register_error_dialect(ErrorDialect("luma_mock", _is_mock_path, message_body))
    add_routes(app, build_router(app))
