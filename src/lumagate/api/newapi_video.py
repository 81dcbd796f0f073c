"""new-api's unified video API (CONTRACT §5): ``/v1/video/generations``.

Clients of new-api/one-api aggregators submit with new-api's ``VideoRequest`` (``model``,
``prompt``, ``image``, ``duration``, ``width``/``height``, vendor extras in ``metadata``) and get
``{"task_id", "status"}``; they poll ``GET /v1/video/generations/{task_id}`` for new-api's
``{"code": "success", "message": "", "data": <task record>}``. Errors use new-api's task error
shape ``{"code", "message", "data": null}`` so the same client code reads both.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, FastAPI, Request
from pydantic import BaseModel, ConfigDict, Field, StrictFloat, StrictInt, StrictStr

from lumagate.api.body import read_model
from lumagate.api.deps import Tasks, bearer_tenant
from lumagate.api.dialect_common import (
    channel_for,
    example_response,
    idempotency_key,
    json_body_doc,
    max_body,
    size_to_video,
    video_model,
)
from lumagate.api.errors import ErrorDialect, register_error_dialect
from lumagate.api.luma_shapes import task_record
from lumagate.domain.errors import GatewayError, InvalidRequest
from lumagate.domain.states import TaskState
from lumagate.domain.task import Task
from lumagate.domain.tenant import ApiKey
from lumagate.service.tasks import CreateCommand, TaskService

TAG = "new-api unified video (/v1/video/generations)"
DIALECT = "newapi_video"
BASE = "/v1/video/generations"

SUBMIT_STATUS = {
    TaskState.QUEUED: "queued",
    TaskState.SUBMITTING: "queued",
    TaskState.SUBMITTED: "queued",
    TaskState.PROCESSING: "in_progress",
    TaskState.COMPLETED: "succeeded",
    TaskState.FAILED: "failed",
    TaskState.CANCELLED: "failed",
}


class UnifiedVideoBody(BaseModel):
    """new-api's ``VideoRequest``. ``metadata`` may carry ``aspect_ratio``, ``resolution``,
    ``loop``, ``expand_prompt``, ``image_end``/``image_end_url`` and ``callback_url``."""

    model_config = ConfigDict(extra="ignore")

    model: StrictStr | None = Field(default=None, examples=["ray-2"])
    prompt: StrictStr | None = Field(default=None, examples=["a lighthouse in a storm"])
    image: StrictStr | None = Field(default=None, description="Start image: URL or data URI")
    images: list[StrictStr] | None = Field(default=None, description="[start, end] images")
    duration: StrictInt | StrictFloat | StrictStr | None = Field(default=None, examples=[5])
    width: StrictInt | None = None
    height: StrictInt | None = None
    metadata: dict[str, Any] | None = None


def _meta_str(meta: dict[str, Any], *names: str) -> str | None:
    for name in names:
        value = meta.get(name)
        if value is None or value == "":
            continue
        if not isinstance(value, str):
            raise InvalidRequest(f"metadata.{name} must be a string", field=f"metadata.{name}")
        return value
    return None


def _meta_bool(meta: dict[str, Any], name: str) -> bool | None:
    value = meta.get(name)
    if value is None:
        return None
    if not isinstance(value, bool):
        raise InvalidRequest(f"metadata.{name} must be a boolean", field=f"metadata.{name}")
    return value


def _command(body: UnifiedVideoBody, tenant: ApiKey, key: str | None) -> CreateCommand:
    meta = body.metadata or {}
    images = [i for i in body.images or [] if i]
    if len(images) > 2:
        raise InvalidRequest("images takes at most two images (start, end)", field="images")
    start = body.image or (images[0] if images else None)
    end = _meta_str(meta, "image_end", "image_end_url") or (images[1] if len(images) > 1 else None)
    end_key = next((k for k in ("image_end", "image_end_url") if meta.get(k)), None)
    end_field = f"metadata.{end_key}" if end_key else "images[1]"
    fields = ("image" if body.image else "images[0]", end_field)
    aspect, resolution = "16:9", "720p"
    if body.width and body.height:
        aspect, resolution = size_to_video(body.width, body.height)
    callback = _meta_str(meta, "callback_url", "notify_hook")
    if callback is not None and not callback.startswith(("http://", "https://")):
        raise InvalidRequest("metadata.callback_url must be an http(s) URL", field="metadata")
    loop, expand = _meta_bool(meta, "loop"), _meta_bool(meta, "expand_prompt")
    return CreateCommand(
        channel=channel_for(tenant),
        dialect=DIALECT,
        prompt=(body.prompt or "").strip(),
        aspect_ratio=_meta_str(meta, "aspect_ratio") or aspect,
        loop=bool(loop),
        expand_prompt=True if expand is None else expand,
        model=video_model(body.model),
        resolution=_meta_str(meta, "resolution") or resolution,
        duration=body.duration if body.duration not in (None, 0, "") else "5s",
        start_image=start,
        end_image=end,
        notify_url=callback,
        idempotency_key=key,
        image_fields=fields,
    )


def task_error_body(error: GatewayError) -> dict[str, Any]:
    """new-api's ``TaskError``: ``{"code", "message", "data": null}``."""
    return {"code": error.code, "message": error.message, "data": None}


async def submit(request: Request, service: Tasks, tenant: ApiKey = Depends(bearer_tenant)) -> Any:
    body = await read_model(request, UnifiedVideoBody, max_body(request))
    if not (body.prompt or "").strip() and not (body.image or body.images):
        raise InvalidRequest("prompt is required unless an image is given", field="prompt")
    task = await service.create(tenant, _command(body, tenant, idempotency_key(request)))
    return {"task_id": task.id, "status": SUBMIT_STATUS[task.state]}


async def fetch(
    task_id: str, request: Request, service: Tasks, tenant: ApiKey = Depends(bearer_tenant)
) -> Any:
    task = await service.get(tenant, task_id)
    return {"code": "success", "message": "", "data": await task_record(task, service)}


def build_router() -> APIRouter:
    router = APIRouter(tags=[TAG])
    router.add_api_route(
        BASE,
        submit,
        methods=["POST"],
        summary="Submit a video task",
        openapi_extra=json_body_doc(
            UnifiedVideoBody,
            {
                "model": "ray-2",
                "prompt": "a lighthouse in a storm",
                "duration": 5,
                "width": 1280,
                "height": 720,
                "metadata": {"loop": False},
            },
        ),
        responses=example_response(200, {"task_id": "4665a07c-…", "status": "queued"}),
    )
    router.add_api_route(
        BASE + "/{task_id}",
        fetch,
        methods=["GET"],
        summary="One task as a new-api task record",
        responses=example_response(
            200,
            {
                "code": "success",
                "message": "",
                "data": {"task_id": "4665a07c-…", "status": "SUCCESS", "progress": "100%"},
            },
        ),
    )
    return router


async def callback_body(task: Task, service: TaskService) -> Any:
    """Callbacks carry what ``GET /v1/video/generations/{id}`` returns."""
    return {"code": "success", "message": "", "data": await task_record(task, service)}


def _is_unified_path(path: str) -> bool:
    return path == BASE or path.startswith(BASE + "/")


def install(app: FastAPI) -> None:
    register_error_dialect(ErrorDialect("newapi_video", _is_unified_path, task_error_body))
    app.include_router(build_router())
