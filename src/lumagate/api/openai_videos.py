"""OpenAI's videos API (CONTRACT §5): ``/v1/videos``, the shape Sora clients speak.

``POST /v1/videos`` takes JSON or multipart form data (``prompt``, ``model``, ``seconds``,
``size`` like ``1280x720``, ``input_reference`` as a file, ``{"image_url": …}`` or a URL / data
URI; see ``openai_video_body.py``) and answers the video object (``prompt`` echoed);
``POST /v1/videos/{id}/remix`` makes a new video from a completed one (as an extend);
``GET /v1/videos`` lists them as OpenAI pages (``after``/``limit``/``order``, a keyset
cursor), ``GET /v1/videos/{id}`` reads it, ``GET /v1/videos/{id}/content`` returns the mp4 bytes
(``?variant=thumbnail`` the JPEG, ``?variant=spritesheet`` a tiled JPEG of 25 frames) from the
media store or streamed from the upstream's URL, and
``DELETE`` cancels it if unfinished (refunded) and hides it. Luma renders 5 s or 9 s: ``seconds``
up to 5 gives 5 s, more gives 9 s, and the object reports what is rendered. Errors are OpenAI's
``{"error": {…}}``.
"""

from __future__ import annotations

import contextlib
import math
from typing import Any

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import FileResponse, Response, StreamingResponse
from starlette.background import BackgroundTask

from lumagate.api.deps import Tasks, VideoContent, bearer_tenant
from lumagate.api.dialect_common import (
    channel_for,
    documented_route,
    idempotency_key,
    parse_size,
    query_int,
    video_model,
)
from lumagate.api.openai_video_body import (
    RemixBody,
    VideoCreateBody,
    read_create_body,
    read_remix_body,
)
from lumagate.api.routers import add_routes, app_router
from lumagate.domain import messages as msg
from lumagate.domain.clock import unix_seconds
from lumagate.domain.errors import InvalidRequest, TaskAlreadyEnded
from lumagate.domain.states import TaskState
from lumagate.domain.task import Task
from lumagate.domain.tenant import ApiKey
from lumagate.domain.video import frame_size
from lumagate.service.create_command import CreateFields
from lumagate.service.tasks import CreateCommand, TaskService
from lumagate.service.video_content import LocalContent

TAG = "OpenAI videos (/v1/videos)"
DIALECT = "openai_videos"
DEFAULT_PAGE = 20
MAX_PAGE = 100
REMIX_FIELDS = CreateFields(prompt="prompt")  # the rest is the source video's

STATUS = {
    TaskState.QUEUED: "queued",
    TaskState.SUBMITTING: "queued",
    TaskState.SUBMITTED: "queued",
    TaskState.PROCESSING: "in_progress",
    TaskState.COMPLETED: "completed",
    TaskState.FAILED: "failed",
    TaskState.CANCELLED: "failed",  # OpenAI's Video.status has no cancelled value
}


def _duration(seconds: str | int | float | None) -> str:
    if seconds is None or seconds == "":
        return "5s"
    try:
        value = float(str(seconds).strip().removesuffix("s"))
    except ValueError:
        raise InvalidRequest(msg.SECONDS_NUMBER(), field="seconds") from None
    if not math.isfinite(value) or value <= 0:
        raise InvalidRequest(msg.SECONDS_POSITIVE(), field="seconds")
    return "5s" if value <= 5 else "9s"


def video_object(task: Task) -> dict[str, Any]:
    request = task.request
    size = frame_size(request.aspect_ratio, request.resolution)
    failed = task.state.ended_without_video
    code = "cancelled" if task.state == TaskState.CANCELLED else "generation_failed"
    return {
        "id": task.id,
        "object": "video",
        "model": request.model,
        "prompt": request.prompt,
        "status": STATUS[task.state],
        "progress": 100 if task.state == TaskState.COMPLETED else task.progress,
        "created_at": unix_seconds(task.created_at),
        "completed_at": unix_seconds(task.finished_at) if task.finished_at else None,
        "expires_at": unix_seconds(task.media_removed_at) if task.media_removed_at else None,
        "seconds": request.duration.removesuffix("s"),
        "size": f"{size.width}x{size.height}",
        "remixed_from_video_id": request.extend_of,
        "error": (
            {"code": code, "message": task.failure_reason or "Job failed"}
            if failed
            else {"code": "media_removed", "message": task.failure_reason}
            if task.media_removed
            else None
        ),
    }


async def create_video(
    request: Request, service: Tasks, tenant: ApiKey = Depends(bearer_tenant)
) -> Any:
    body = await read_create_body(request, service)
    start_image = body.start_image()
    if not body.prompt.strip() and not start_image:
        raise InvalidRequest(msg.FIELD_REQUIRED(field="prompt"), field="prompt")
    aspect, resolution = parse_size(body.size) if body.size else ("16:9", "720p")
    task = await service.create(
        tenant,
        CreateCommand(
            channel=channel_for(tenant),
            dialect=DIALECT,
            prompt=body.prompt.strip(),
            aspect_ratio=body.aspect_ratio or aspect,
            loop=bool(body.loop),
            model=video_model(body.model),
            resolution=body.resolution or resolution,
            duration=_duration(body.seconds),
            start_image=start_image,
            idempotency_key=idempotency_key(request),
            fields=body.fields(),
        ),
    )
    return video_object(task)


async def remix_video(
    video_id: str, request: Request, service: Tasks, tenant: ApiKey = Depends(bearer_tenant)
) -> Any:
    """OpenAI's remix as an extend: no upstream here has a remix verb, so the new video
    continues the finished one's last frame with the new prompt, on the same account, with
    its model, size and length; ``remixed_from_video_id`` names the source."""
    body = await read_remix_body(request, service)
    if not body.prompt.strip():
        raise InvalidRequest(msg.FIELD_REQUIRED(field="prompt"), field="prompt")
    source = await service.get(tenant, video_id)
    task = await service.extend(
        tenant,
        source.id,
        CreateCommand(
            channel=channel_for(tenant),
            dialect=DIALECT,
            prompt=body.prompt.strip(),
            aspect_ratio=source.request.aspect_ratio,
            model=source.request.model,
            resolution=source.request.resolution,
            duration=source.request.duration,
            idempotency_key=idempotency_key(request),
            fields=REMIX_FIELDS,
        ),
    )
    return video_object(task)


async def get_video(video_id: str, service: Tasks, tenant: ApiKey = Depends(bearer_tenant)) -> Any:
    return video_object(await service.get(tenant, video_id))


async def list_videos(
    request: Request, service: Tasks, tenant: ApiKey = Depends(bearer_tenant)
) -> Any:
    """OpenAI's cursor page: ``after`` (the last id of the previous page), ``limit``, ``order``."""
    limit = query_int(request, "limit", DEFAULT_PAGE, minimum=1, maximum=MAX_PAGE)
    order = request.query_params.get("order") or "desc"
    if order not in ("asc", "desc"):
        raise InvalidRequest(msg.ORDER_ASC_DESC(), field="order")
    after = request.query_params.get("after") or None
    found, more = await service.page(tenant, limit=limit, after=after, oldest_first=order == "asc")
    data = [video_object(task) for task in found]
    return {
        "object": "list",
        "data": data,
        "first_id": data[0]["id"] if data else None,
        "last_id": data[-1]["id"] if data else None,
        "has_more": more,
    }


async def delete_video(
    video_id: str, service: Tasks, tenant: ApiKey = Depends(bearer_tenant)
) -> Any:
    """OpenAI's delete: an unfinished video is cancelled first (refunded, its result never
    shown), then the video is gone for the caller (hidden; the billing record stays)."""
    if not (await service.get(tenant, video_id)).is_terminal:
        with contextlib.suppress(TaskAlreadyEnded):  # it ended meanwhile: just delete it
            await service.cancel(tenant, video_id)
    await service.hide(tenant, video_id)
    return {"id": video_id, "object": "video.deleted", "deleted": True}


async def video_content(
    video_id: str, request: Request, contents: VideoContent, tenant: ApiKey = Depends(bearer_tenant)
) -> Response:
    variant = request.query_params.get("variant") or "video"
    content = await contents.open(tenant, video_id, variant)
    name = {"video": "mp4", "thumbnail": "jpg", "spritesheet": "spritesheet.jpg"}[variant]
    disposition = {"Content-Disposition": f'inline; filename="{video_id}.{name}"'}
    if isinstance(content, LocalContent):
        return FileResponse(content.path, media_type=content.media_type, headers=disposition)
    headers = dict(disposition)
    if content.length:
        headers["Content-Length"] = content.length
    return StreamingResponse(
        content.chunks(),
        media_type=content.media_type,
        headers=headers,
        background=BackgroundTask(content.close),
    )


VIDEO_EXAMPLE = {
    "id": "4665a07c-7641-4809-a133-10786201bb56",
    "object": "video",
    "model": "ray-2",
    "prompt": "a hummingbird hovering over a red flower",
    "status": "in_progress",
    "progress": 40,
    "created_at": 1734874720,
    "completed_at": None,
    "expires_at": None,
    "seconds": "5",
    "size": "1280x720",
    "remixed_from_video_id": None,
    "error": None,
}


async def callback_body(task: Task, service: TaskService) -> Any:
    """Callbacks (when a notify url is set through another dialect) carry the video object."""
    return video_object(task)


QUEUED_EXAMPLE = {**VIDEO_EXAMPLE, "status": "queued", "progress": 0}


def _collection_routes(router: APIRouter) -> None:
    """``/v1/videos``: create one, list them."""
    documented_route(
        router,
        "/v1/videos",
        create_video,
        "POST",
        "Create a video (JSON or multipart)",
        QUEUED_EXAMPLE,
        body=(
            VideoCreateBody,
            {
                "prompt": "a hummingbird hovering",
                "model": "ray-2",
                "seconds": "5",
                "size": "1280x720",
            },
        ),
    )
    first = last = VIDEO_EXAMPLE["id"]
    page = {"object": "list", "data": [VIDEO_EXAMPLE], "first_id": first, "last_id": last}
    documented_route(
        router,
        "/v1/videos",
        list_videos,
        "GET",
        "The caller's videos, a page at a time (after, limit, order)",
        {**page, "has_more": False},
    )


def _video_routes(router: APIRouter) -> None:
    """``/v1/videos/{video_id}``: read, remix, delete, its content."""
    documented_route(router, "/v1/videos/{video_id}", get_video, "GET", "One video", VIDEO_EXAMPLE)
    documented_route(
        router,
        "/v1/videos/{video_id}/remix",
        remix_video,
        "POST",
        "Remix a completed video with a new prompt (done as an extend)",
        {**QUEUED_EXAMPLE, "remixed_from_video_id": "0e3c2f0a-…"},
        body=(RemixBody, {"prompt": "the same scene at night"}),
    )
    documented_route(
        router,
        "/v1/videos/{video_id}",
        delete_video,
        "DELETE",
        "Delete a video: cancel it if unfinished (refunded), then hide it",
        {"id": "…", "object": "video.deleted", "deleted": True},
    )
    router.add_api_route(
        "/v1/videos/{video_id}/content",
        video_content,
        methods=["GET"],
        response_class=Response,
        summary=(
            "The mp4 bytes (variant=video), the thumbnail (variant=thumbnail) or a 5x5 "
            "spritesheet JPEG (variant=spritesheet)"
        ),
        responses={200: {"content": {"video/mp4": {}, "image/jpeg": {}}}},
    )


def build_router(app: FastAPI) -> APIRouter:
    router = app_router(app, tags=[TAG])
    _collection_routes(router)
    _video_routes(router)
    return router


def install(app: FastAPI) -> None:
    # Errors use the default OpenAI shape ({"error": {message, type, code}}).
    add_routes(app, build_router(app))
