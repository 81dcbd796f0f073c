"""The official Luma Dream Machine dialect (CONTRACT §3) under ``/dream-machine/v1``.

The official ``lumaai`` SDK works against the gateway unmodified
(``LUMAAI_BASE_URL=http://<gateway>/dream-machine/v1``). Errors are Luma's ``{"detail": …}``:
a string for rule violations (400, with Luma's messages such as ``Prompt is required``) and a
list of ``{"type", "loc", "msg"}`` for schema problems (422), like the FastAPI service Luma runs.

Keyframes become the one task model: ``frame0`` of type ``generation`` is an extend of that
earlier task; a ``frame1`` generation (or both generations) is an interpolation between images
taken from the earlier tasks (``frame0``: its last frame, ``frame1``: its thumbnail), which is
what every provider, the sandbox included, can render. See docs/dialects.md.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Depends, FastAPI, Request, Response
from pydantic import ValidationError

from lumagate.api.body import read_json
from lumagate.api.deps import SettingsDep, Tasks, bearer_tenant
from lumagate.api.dialect_common import (
    FieldError,
    channel_for,
    example_response,
    idempotency_key,
    json_body_doc,
    max_body,
    query_int,
)
from lumagate.api.errors import ErrorDialect, register_error_dialect
from lumagate.api.official_shapes import (
    CAMERA_MOTIONS,
    CONCEPT_KEYS,
    CREATE_EXAMPLE,
    GENERATION_EXAMPLE,
    MAX_PROMPT,
    MIN_PROMPT,
    GenerationKeyframe,
    ImageKeyframe,
    OfficialCreateBody,
    official_generation,
)
from lumagate.api.routers import add_routes, app_router
from lumagate.domain import messages as msg
from lumagate.domain.errors import GatewayError, InvalidRequest, TaskNotFound
from lumagate.domain.states import TaskState
from lumagate.domain.task import Task
from lumagate.domain.tenant import ApiKey
from lumagate.service.create_command import CreateFields
from lumagate.service.spend import credit_balance_cents
from lumagate.service.tasks import CreateCommand, TaskService

BASE = "/dream-machine/v1"
TAG = "Official Luma API (/dream-machine/v1)"
DIALECT = "official"
MAX_PAGE = 100
IMAGE_PREFIXES = ("http://", "https://", "data:image/")
OFFICIAL_FIELDS = CreateFields.plain("keyframes.frame0.url", "keyframes.frame1.url")


class OfficialValidationError(InvalidRequest):
    """A 422 whose ``detail`` is a list of ``{"type", "loc", "msg"}``, as Luma answers."""

    status = 422
    code = "validation_error"

    def __init__(self, errors: list[dict[str, Any]]) -> None:
        super().__init__(
            msg.VERBATIM(text=str(errors[0]["msg"])) if errors else msg.OFFICIAL_INVALID()
        )
        self.errors = errors

    @classmethod
    def from_field(cls, error: FieldError) -> OfficialValidationError:
        return cls([{"type": error.error_type, "loc": list(error.loc), "msg": error.detail}])


class NotSupported(InvalidRequest):
    code = "not_supported"


def detail_body(error: GatewayError) -> dict[str, Any]:
    """Luma's error shape: ``{"detail": "…"}`` or, for validation, ``{"detail": [...]}``."""
    if isinstance(error, OfficialValidationError):
        return {"detail": error.errors}
    return {"detail": error.message}


async def _read_body(request: Request) -> OfficialCreateBody:
    try:
        data = await read_json(request, max_body(request))
    except InvalidRequest as exc:
        if exc.code != "invalid_json":
            raise
        raise OfficialValidationError(
            [{"type": "json_invalid", "loc": ["body"], "msg": exc.message}]
        ) from None
    if not isinstance(data, dict):
        raise OfficialValidationError(
            [
                {
                    "type": "model_attributes_type",
                    "loc": ["body"],
                    "msg": "Input should be a valid dictionary or object to extract fields from",
                }
            ]
        )
    try:
        return OfficialCreateBody.model_validate(data)
    except ValidationError as exc:
        raise OfficialValidationError(
            [
                {"type": e["type"], "loc": ["body", *[str(p) for p in e["loc"]]], "msg": e["msg"]}
                for e in exc.errors()
            ]
        ) from None


def _check_rules(body: OfficialCreateBody) -> str:
    """Luma's cross-field rules, with its messages; returns the stripped prompt."""
    if body.generation_type not in (None, "video"):
        raise NotSupported(msg.GENERATION_TYPE(value=repr(body.generation_type)))
    frames = body.keyframes
    if frames is not None and frames.frame0 is None and frames.frame1 is None:
        raise InvalidRequest(msg.NO_KEYFRAMES(), field="keyframes")
    prompt = (body.prompt or "").strip()
    frame0 = frames.frame0 if frames else None
    frame1 = frames.frame1 if frames else None
    if not prompt and frame0 is None:
        raise InvalidRequest(msg.PROMPT_REQUIRED(), field="prompt")
    if prompt and len(prompt) < MIN_PROMPT:
        raise InvalidRequest(msg.PROMPT_TOO_SHORT(minimum=MIN_PROMPT), field="prompt")
    if len(prompt) > MAX_PROMPT:
        raise InvalidRequest(msg.PROMPT_TOO_LONG(maximum=MAX_PROMPT), field="prompt")
    if body.loop and frame1 is not None:
        raise InvalidRequest(msg.LOOP_END_FRAME(), field="loop")
    for name, frame in (("frame0", frame0), ("frame1", frame1)):
        if isinstance(frame, ImageKeyframe) and not frame.url.startswith(IMAGE_PREFIXES):
            raise InvalidRequest(
                msg.KEYFRAME_URL(name=name),
                field=f"keyframes.{name}.url",
            )
    if body.callback_url is not None and not body.callback_url.startswith(("http://", "https://")):
        raise InvalidRequest(msg.HTTP_URL(field="callback_url"), field="callback_url")
    for concept in body.concepts or ():
        if not concept.key.strip():
            raise InvalidRequest(msg.CONCEPT_KEY_EMPTY(), field="concepts")
    return prompt


async def _source(service: TaskService, tenant: ApiKey, frame: GenerationKeyframe) -> Task:
    """A referenced earlier generation: the tenant's own, and completed."""
    try:
        task = await service.get(tenant, frame.id)
    except TaskNotFound:
        raise InvalidRequest(msg.GENERATION_ID_NOT_FOUND(id=frame.id), field="keyframes") from None
    if task.state != TaskState.COMPLETED or task.media is None:
        raise InvalidRequest(msg.GENERATION_NOT_COMPLETED(id=frame.id), field="keyframes")
    return task


async def _image_of(
    service: TaskService,
    tenant: ApiKey,
    frame: ImageKeyframe | GenerationKeyframe | None,
    end: bool,
) -> str | None:
    if frame is None:
        return None
    if isinstance(frame, ImageKeyframe):
        return frame.url
    media = (await _source(service, tenant, frame)).media
    assert media is not None
    ref = (media.thumbnail or media.last_frame) if end else (media.last_frame or media.thumbnail)
    if ref is None:
        raise InvalidRequest(msg.GENERATION_NO_FRAME(id=frame.id), field="keyframes")
    return service.link(ref)


async def create_generation(
    request: Request, service: Tasks, tenant: ApiKey = Depends(bearer_tenant)
) -> Any:
    body = await _read_body(request)
    prompt = _check_rules(body)
    frames = body.keyframes
    frame0 = frames.frame0 if frames else None
    frame1 = frames.frame1 if frames else None
    extend_source = (
        frame0
        if isinstance(frame0, GenerationKeyframe) and not isinstance(frame1, GenerationKeyframe)
        else None
    )
    command = CreateCommand(
        channel=channel_for(tenant),
        dialect=DIALECT,
        prompt=prompt,
        aspect_ratio=body.aspect_ratio or "16:9",
        loop=bool(body.loop),
        model=body.model,
        resolution=body.resolution or "720p",
        duration=body.duration or "5s",
        start_image=None if extend_source else await _image_of(service, tenant, frame0, False),
        end_image=await _image_of(service, tenant, frame1, True),
        notify_url=body.callback_url,
        idempotency_key=idempotency_key(request),
        concepts=tuple(c.key.strip() for c in body.concepts or ()),
        fields=OFFICIAL_FIELDS,
    )
    if extend_source is not None:
        await _source(service, tenant, extend_source)
        task = await service.extend(tenant, extend_source.id, command)
    else:
        task = await service.create(tenant, command)
    return official_generation(task, service)


async def list_generations(
    request: Request, service: Tasks, tenant: ApiKey = Depends(bearer_tenant)
) -> Any:
    try:
        limit = query_int(request, "limit", 10, minimum=1, maximum=MAX_PAGE)
        offset = query_int(request, "offset", 0, minimum=0)
    except FieldError as exc:
        raise OfficialValidationError.from_field(exc) from None
    tasks, has_more = await service.list_tasks(tenant, offset=offset, limit=limit)
    return {
        "generations": [official_generation(task, service) for task in tasks],
        "count": len(tasks),
        "has_more": has_more,
        "limit": limit,
        "offset": offset,
    }


async def get_generation(
    task_id: str, request: Request, service: Tasks, tenant: ApiKey = Depends(bearer_tenant)
) -> Any:
    try:
        return official_generation(await service.get(tenant, task_id), service)
    except TaskNotFound:
        raise TaskNotFound(msg.GENERATION_NOT_FOUND()) from None


async def delete_generation(
    task_id: str, service: Tasks, tenant: ApiKey = Depends(bearer_tenant)
) -> Response:
    try:
        await service.hide(tenant, task_id)
    except TaskNotFound:
        raise TaskNotFound(msg.GENERATION_NOT_FOUND()) from None
    return Response(status_code=204)


async def concepts(tenant: ApiKey = Depends(bearer_tenant)) -> list[str]:
    return list(CONCEPT_KEYS)


async def camera_motions(tenant: ApiKey = Depends(bearer_tenant)) -> list[str]:
    return list(CAMERA_MOTIONS)


async def credits(settings: SettingsDep, tenant: ApiKey = Depends(bearer_tenant)) -> Any:
    return {"credit_balance": credit_balance_cents(tenant, settings)}


async def ping() -> dict[str, str]:
    return {"message": "pong"}


def _unsupported(what: str) -> Any:
    async def handler(tenant: ApiKey = Depends(bearer_tenant)) -> Any:
        raise NotSupported(msg.NOT_SUPPORTED_HERE(what=what))

    return handler


UNSUPPORTED: tuple[tuple[str, str], ...] = (
    ("/generations/image", "Image generation"),
    ("/generations/image/reframe", "Image reframe"),
    ("/generations/video/modify", "Video modify"),
    ("/generations/video/reframe", "Video reframe"),
    ("/generations/{task_id}/upscale", "Upscale"),
    ("/generations/{task_id}/audio", "Adding audio"),
)


_LIST_EXAMPLE = {
    "generations": [GENERATION_EXAMPLE],
    "count": 1,
    "has_more": False,
    "limit": 10,
    "offset": 0,
}
# The GET routes: path, handler, summary and the example /docs shows.
_READS: tuple[tuple[str, Callable[..., Any], str, Any], ...] = (
    ("/generations", list_generations, "The caller's generations, newest first", _LIST_EXAMPLE),
    ("/generations/concepts/list", concepts, "Concept keys", list(CONCEPT_KEYS[:3])),
    (
        "/generations/camera_motion/list",
        camera_motions,
        "Camera-motion phrases",
        list(CAMERA_MOTIONS[:3]),
    ),
    ("/generations/{task_id}", get_generation, "One generation", GENERATION_EXAMPLE),
    ("/credits", credits, "Credit balance in USD cents", {"credit_balance": 1500.0}),
    ("/ping", ping, "Liveness (no key needed)", {"message": "pong"}),
)


def build_router(app: FastAPI) -> APIRouter:
    router = app_router(app, prefix=BASE, tags=[TAG])
    created = example_response(201, GENERATION_EXAMPLE, "The generation (state queued)")
    for path in ("/generations", "/generations/video"):
        router.add_api_route(
            path,
            create_generation,
            methods=["POST"],
            status_code=201,
            summary="Create a video generation (also extend/interpolate through keyframes)",
            openapi_extra=json_body_doc(OfficialCreateBody, CREATE_EXAMPLE),
            responses=created,
            name=f"official_create_{path}",
        )
    for path, what in UNSUPPORTED:
        router.add_api_route(
            path,
            _unsupported(what),
            methods=["POST"],
            summary=f"{what}: not supported (400)",
            name=f"official_unsupported_{path}",
        )
    for path, handler, summary, example in _READS:
        responses = example_response(200, example)
        router.add_api_route(path, handler, methods=["GET"], summary=summary, responses=responses)
    router.add_api_route(
        "/generations/{task_id}",
        delete_generation,
        methods=["DELETE"],
        status_code=204,
        response_class=Response,
        summary="Hide a generation from the caller (its billing record is kept)",
    )
    return router


async def callback_body(task: Task, service: TaskService) -> Any:
    """Callbacks of tasks created here carry the Generation, as Luma's callbacks do."""
    return official_generation(task, service)


def _is_official_path(path: str) -> bool:
    return path == BASE or path.startswith(BASE + "/") or path.startswith("/dream-machine/")


def install(app: FastAPI) -> None:
    register_error_dialect(
        ErrorDialect("official", _is_official_path, detail_body, validation_status=422)
    )
    add_routes(app, build_router(app))
