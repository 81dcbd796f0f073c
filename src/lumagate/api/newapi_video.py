"""new-api's unified video API (CONTRACT §5): ``/v1/video/generations``.

Clients of new-api/one-api aggregators submit, as JSON or multipart, new-api's ``VideoRequest``
or its web tool's fields (``newapi_forms.py`` maps every form) and get ``{"task_id",
"status"}``; they poll ``GET /v1/video/generations/{id}`` (the task id, or the TaskDto's numeric
``id``) for new-api's ``{"code": "success", "message": "", "data": <TaskDto>}`` with the field
types its Go structs declare (:func:`task_dto`). Errors use new-api's task error shape
``{"code", "message", "data": null}`` so the same client code reads both.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, FastAPI, Request
from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictFloat, StrictInt, StrictStr

from lumagate.api.deps import Tasks, bearer_tenant
from lumagate.api.dialect_common import (
    channel_for,
    documented_route,
    idempotency_key,
    max_body,
)
from lumagate.api.errors import ErrorDialect, register_error_dialect
from lumagate.api.luma_shapes import NEW_API_STATUS, flat_generation
from lumagate.api.newapi_forms import VideoForm, read_submit
from lumagate.api.routers import add_routes, app_router
from lumagate.domain.clock import unix_seconds
from lumagate.domain.errors import GatewayError
from lumagate.domain.numeric_ids import numeric_id
from lumagate.domain.states import TaskState
from lumagate.domain.task import Task
from lumagate.domain.tenant import ApiKey
from lumagate.service.tasks import CreateCommand, TaskService

TAG = "new-api unified video (/v1/video/generations)"
DIALECT = "newapi_video"
BASE = "/v1/video/generations"
MAX_NUMBER_DIGITS = 16  # numeric ids are below 2^53 (16 digits); longer digit strings: 404

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
    """For /docs: new-api's ``VideoRequest`` and its web tool's fields (``newapi_forms.py``
    reads them, multipart too)."""

    model_config = ConfigDict(extra="forbid")

    model: StrictStr | None = Field(default=None, examples=["ray-2"])
    prompt: StrictStr | None = Field(default=None, examples=["a lighthouse in a storm"])
    image: StrictStr | None = Field(default=None, description="Start image: URL or data URI")
    images: list[StrictStr] | None = Field(default=None, description="[start, end] images")
    media: list[dict[str, Any]] | None = Field(
        default=None, description='[{"type": "image", "url" | "image_url" | "data": …}]'
    )
    duration: StrictInt | StrictFloat | StrictStr | None = Field(default=None, examples=[5])
    seconds: StrictInt | StrictFloat | StrictStr | None = Field(default=None, examples=["5"])
    width: StrictInt | None = None
    height: StrictInt | None = None
    size: StrictStr | None = Field(default=None, examples=["1280x720"])
    aspect_ratio: StrictStr | None = Field(default=None, examples=["16:9"])
    resolution: StrictStr | None = Field(default=None, examples=["720p"])
    loop: StrictBool | None = None
    expand_prompt: StrictBool | None = None
    callback_url: StrictStr | None = None
    fps: StrictInt | None = Field(default=None, description="0 or 24")
    seed: StrictInt | None = Field(default=None, description="0 (no seed is supported)")
    n: StrictInt | None = Field(default=None, description="0 or 1")
    response_format: StrictStr | None = Field(default=None, description="url")
    user: StrictStr | None = Field(default=None, description="accepted, not used")
    metadata: dict[str, Any] | None = None


def _command(form: VideoForm, tenant: ApiKey, key: str | None) -> CreateCommand:
    return CreateCommand(
        channel=channel_for(tenant),
        dialect=DIALECT,
        prompt=form.prompt,
        aspect_ratio=form.aspect_ratio,
        loop=form.loop,
        expand_prompt=form.expand_prompt,
        model=form.model,
        resolution=form.resolution,
        duration=form.duration,
        start_image=form.start_image,
        end_image=form.end_image,
        notify_url=form.callback_url,
        idempotency_key=key,
        fields=form.fields,
    )


async def task_dto(task: Task, service: TaskService) -> dict[str, Any]:
    """new-api's ``TaskDto`` with its Go field types: a numeric ``id`` (int64, see
    domain/numeric_ids.py), ``user_id`` int, times in Unix seconds (0: not yet), ``progress``
    like ``"100%"``, ``result_url`` (the mp4 once completed, else ``""``) and ``data`` (the
    flat generation, a ``json.RawMessage`` to new-api)."""
    media = task.media if task.state == TaskState.COMPLETED else None
    return {
        "id": numeric_id(task.id),
        "task_id": task.id,
        "platform": "luma",
        "user_id": numeric_id(task.tenant_id),
        "action": "LUMA_EXTEND" if task.request.extend_of else "LUMA_VIDEO",
        "status": NEW_API_STATUS[task.state],
        "fail_reason": task.failure_reason or "",
        "result_url": (service.link(media.best_download) or "") if media else "",
        "submit_time": unix_seconds(task.created_at),
        "start_time": unix_seconds(task.started_at or task.submitted_at),
        "finish_time": unix_seconds(task.finished_at),
        "progress": f"{100 if media else task.progress}%",
        "created_at": unix_seconds(task.created_at),
        "updated_at": unix_seconds(task.updated_at),
        "data": await flat_generation(task, service),
    }


def task_error_body(error: GatewayError) -> dict[str, Any]:
    """new-api's ``TaskError``: ``{"code", "message", "data": null}``."""
    return {"code": error.code, "message": error.message, "data": None}


async def submit(request: Request, service: Tasks, tenant: ApiKey = Depends(bearer_tenant)) -> Any:
    form = await read_submit(request, service, max_body(request))
    task = await service.create(tenant, _command(form, tenant, idempotency_key(request)))
    return {"task_id": task.id, "status": SUBMIT_STATUS[task.state]}


async def fetch(
    task_id: str, request: Request, service: Tasks, tenant: ApiKey = Depends(bearer_tenant)
) -> Any:
    """By the task id, or by the numeric ``id`` of the TaskDto (new-api keeps either)."""
    if task_id.isascii() and task_id.isdigit() and len(task_id) <= MAX_NUMBER_DIGITS:
        task = await service.get_by_number(tenant, int(task_id))
    else:
        task = await service.get(tenant, task_id)
    return {"code": "success", "message": "", "data": await task_dto(task, service)}


SUBMIT_EXAMPLE = {
    "model": "ray-2",
    "prompt": "a lighthouse in a storm",
    "duration": 5,
    "width": 1280,
    "height": 720,
    "metadata": {"loop": False},
}
TASK_DTO_EXAMPLE = {
    "id": 3921570165938617,
    "task_id": "4665a07c-…",
    "status": "SUCCESS",
    "progress": "100%",
    "finish_time": 1734874790,
    "result_url": "http://…/video.mp4",
}


def build_router(app: FastAPI) -> APIRouter:
    router = app_router(app, tags=[TAG])
    documented_route(
        router,
        BASE,
        submit,
        "POST",
        "Submit a video task",
        {"task_id": "4665a07c-…", "status": "queued"},
        body=(UnifiedVideoBody, SUBMIT_EXAMPLE),
    )
    documented_route(
        router,
        BASE + "/{task_id}",
        fetch,
        "GET",
        "One task as new-api's TaskDto (by task id or numeric id)",
        {"code": "success", "message": "", "data": TASK_DTO_EXAMPLE},
    )
    return router


async def callback_body(task: Task, service: TaskService) -> Any:
    """Callbacks carry what ``GET /v1/video/generations/{id}`` returns."""
    return {"code": "success", "message": "", "data": await task_dto(task, service)}


def _is_unified_path(path: str) -> bool:
    return path == BASE or path.startswith(BASE + "/")


def install(app: FastAPI) -> None:
    register_error_dialect(ErrorDialect("newapi_video", _is_unified_path, task_error_body))
    add_routes(app, build_router(app))
