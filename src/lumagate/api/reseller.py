"""The reseller dialect (CONTRACT §1, seeds 000/001/002/004): ``{p}/luma/...`` with flat objects.

Every path works under the prefixes none, ``/vip`` and ``/pro`` (the channel), with
``/luma/generations``, ``/luma/v1/generations`` and ``/luma/V1/generations``, with or without
a trailing slash. Responses are the flat generation object, never wrapped; the list is a JSON
array of them. Clients of the Go project that defined ``/luma/*`` also find its ``GET /ping``,
``POST …/download_video_url`` and the ``detail: {reason, code}`` beside ``error`` in errors.
``POST …/{id}/cancel`` cancels an unfinished task (shown as ``failed`` with its reason).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt, StrictStr

from lumagate.api import deliveries
from lumagate.api.body import read_model
from lumagate.api.deps import Tasks, Usage, bearer_tenant, max_body
from lumagate.api.dialect_common import query_int
from lumagate.api.errors import ErrorDialect, openai_style_body, register_error_dialect
from lumagate.api.luma_shapes import flat_generation, task_record
from lumagate.api.routers import add_routes, app_router
from lumagate.domain import messages as msg
from lumagate.domain.channels import Channel
from lumagate.domain.errors import GatewayError, InvalidRequest
from lumagate.domain.tenant import ApiKey
from lumagate.service.auth import Authenticator
from lumagate.service.create_command import CreateFields
from lumagate.service.tasks import CreateCommand

PREFIXES: dict[str, Channel] = {"": Channel.DEFAULT, "/vip": Channel.VIP, "/pro": Channel.PRO}
GENERATION_BASES = ("/luma/generations", "/luma/v1/generations", "/luma/V1/generations")
MAX_BATCH = 100
DEFAULT_PAGE = 10
MAX_PAGE = 100
GO_ERROR_CODE = 1
DIALECT = "reseller"
TAG = "Reseller API (/luma)"
RESELLER_FIELDS = CreateFields()  # the defaults are the reseller's names
MODEL_ONLY_FIELDS = CreateFields(model="model")  # the body named the model ``model``


class GenerationBody(BaseModel):
    """Create/extend body. Types are strict so a wrong type is a clear 400 naming the field."""

    model_config = ConfigDict(extra="ignore")

    user_prompt: StrictStr | None = Field(default=None, examples=["a red fox running"])
    aspect_ratio: StrictStr | None = Field(default=None, examples=["16:9"])
    expand_prompt: StrictBool | None = None
    loop: StrictBool | None = None
    image_url: StrictStr | None = None
    image_end_url: StrictStr | None = None
    notify_hook: StrictStr | None = None
    model_name: StrictStr | None = Field(default=None, examples=["ray-v2"])
    model: StrictStr | None = None
    resolution: StrictStr | None = Field(default=None, examples=["720p"])
    duration: StrictStr | StrictInt | None = Field(default=None, examples=["5s"])

    def command(self, channel: Channel, idempotency_key: str | None) -> CreateCommand:
        return CreateCommand(
            channel=channel,
            dialect=DIALECT,
            prompt=(self.user_prompt or "").strip(),
            aspect_ratio=self.aspect_ratio or "16:9",
            loop=bool(self.loop),
            expand_prompt=True if self.expand_prompt is None else self.expand_prompt,
            model=self.model_name or self.model,
            resolution=self.resolution or "720p",
            duration=self.duration if self.duration is not None else "5s",
            start_image=self.image_url,
            end_image=self.image_end_url,
            notify_url=_notify_url(self.notify_hook),
            idempotency_key=idempotency_key,
            fields=RESELLER_FIELDS if self.model_name or not self.model else MODEL_ONLY_FIELDS,
        )


class BatchBody(BaseModel):
    model_config = ConfigDict(extra="ignore")
    ids: list[StrictStr] = Field(max_length=MAX_BATCH)


class UploadBody(BaseModel):
    model_config = ConfigDict(extra="ignore")
    url: StrictStr


def _notify_url(value: str | None) -> str | None:
    if not value:
        return None
    if not value.startswith(("http://", "https://")):
        raise InvalidRequest(msg.HTTP_URL(field="notify_hook"), field="notify_hook")
    return value


def _channel_route(channel: Channel) -> Callable[..., Awaitable[Any]]:
    """Handlers bound to one channel (the prefix the route was registered under)."""

    async def create(
        request: Request, service: Tasks, tenant: ApiKey = Depends(bearer_tenant)
    ) -> Any:
        Authenticator.require_channel(tenant, channel)
        body = await read_model(request, GenerationBody, max_body(request))
        task = await service.create(
            tenant, body.command(channel, request.headers.get("idempotency-key"))
        )
        # A Response skips FastAPI's jsonable_encoder walk of the body (the hot GET does too).
        return JSONResponse(await flat_generation(task, service))

    return create


def _extend_route(channel: Channel) -> Callable[..., Awaitable[Any]]:
    async def extend(
        task_id: str, request: Request, service: Tasks, tenant: ApiKey = Depends(bearer_tenant)
    ) -> Any:
        Authenticator.require_channel(tenant, channel)
        body = await read_model(request, GenerationBody, max_body(request))
        if not (body.user_prompt or "").strip():
            raise InvalidRequest(msg.EXTEND_NEEDS_PROMPT(field="user_prompt"), field="user_prompt")
        task = await service.extend(
            tenant, task_id, body.command(channel, request.headers.get("idempotency-key"))
        )
        return await flat_generation(task, service)

    return extend


async def get_generation(
    task_id: str, service: Tasks, tenant: ApiKey = Depends(bearer_tenant)
) -> Any:
    return await flat_generation(await service.get(tenant, task_id), service)


async def cancel_generation(
    task_id: str, service: Tasks, tenant: ApiKey = Depends(bearer_tenant)
) -> Any:
    """Cancel the caller's unfinished task: the flat object, ``failed`` with the reason (the
    dialect has no cancelled state); refunded. 409 ``task_already_ended`` once it has ended."""
    return await flat_generation(await service.cancel(tenant, task_id), service)


async def download_video_url(
    task_id: str, service: Tasks, tenant: ApiKey = Depends(bearer_tenant)
) -> Any:
    return {"url": await service.download_url(tenant, task_id)}


async def list_generations(
    request: Request, service: Tasks, tenant: ApiKey = Depends(bearer_tenant)
) -> Any:
    """The Go project's list: a JSON array of flat objects, newest first (its swagger's shape).

    ``offset``/``limit`` as it pages; ``state`` (public names, comma-separated) filters;
    ``after=<id>`` continues after that task by keyset, stable while new tasks arrive.
    """
    offset = query_int(request, "offset", 0, minimum=0)
    limit = query_int(request, "limit", DEFAULT_PAGE, minimum=1, maximum=MAX_PAGE)
    raw_states = request.query_params.get("state") or ""
    states = tuple(part.strip() for part in raw_states.split(",") if part.strip())
    after = request.query_params.get("after") or None
    found, _more = await service.page(
        tenant, limit=limit, offset=offset, after=after, states=states
    )
    return [await flat_generation(task, service) for task in found]


async def ping() -> Any:
    """The Go project's liveness probe, without a key."""
    return {"message": "pong"}


def reseller_error_body(error: GatewayError) -> dict[str, Any]:
    """OpenAI's ``error`` object, and the Go project's ``detail: {reason, code}`` beside it
    (its clients read ``detail.reason``; ``code`` is the 1 that project always sends)."""
    return {**openai_style_body(error), "detail": {"reason": error.message, "code": GO_ERROR_CODE}}


async def batch_query(
    request: Request, service: Tasks, tenant: ApiKey = Depends(bearer_tenant)
) -> Any:
    body = await read_model(request, BatchBody, max_body(request))
    found = await service.get_many(tenant, body.ids)
    return {
        "code": "success",
        "message": "",
        "data": [await task_record(task, service) for task in found],
    }


async def file_upload(
    request: Request, service: Tasks, tenant: ApiKey = Depends(bearer_tenant)
) -> Any:
    body = await read_model(request, UploadBody, max_body(request))
    ref = await service.upload_image(body.url)
    url = service.link(ref)
    return {"id": ref.rsplit("/", 1)[-1].split(".")[0], "presigned_url": url, "public_url": url}


async def subscription_usage(usage: Usage, tenant: ApiKey = Depends(bearer_tenant)) -> Any:
    return (await usage.usage(tenant)).luma_shape()


async def users_me(usage: Usage, tenant: ApiKey = Depends(bearer_tenant)) -> Any:
    profile = usage.profile(tenant)
    profile["usage"] = (await usage.usage(tenant)).luma_shape()
    return profile


def _paths(path: str) -> tuple[str, str]:
    return path, path + "/"


def _route(
    router: APIRouter,
    root: str,
    handler: Callable[..., Any],
    method: str,
    summary: str,
    *,
    docs: bool,
    name: str | None = None,
) -> None:
    """``root`` and ``root/``; /docs shows the one without the slash when ``docs``."""
    for path in _paths(root):
        router.add_api_route(
            path,
            handler,
            methods=[method],
            include_in_schema=docs and not path.endswith("/"),
            summary=summary,
            name=None if name is None else f"{name}_{path}",
        )


def _generation_routes(
    router: APIRouter, root: str, channel: Channel, handlers: tuple[Any, Any], *, docs: bool
) -> None:
    """Create, upload, extend, cancel, list, download link and get under one generations base.

    ``docs``: this is the base /docs shows; channel prefixes show only create and extend."""
    main = docs and root.startswith("/luma/")
    _write_routes(router, root, channel.value, handlers, docs=docs, main=main)
    _read_routes(router, root, channel.value, main=main)


def _write_routes(
    router: APIRouter, root: str, kind: str, handlers: tuple[Any, Any], *, docs: bool, main: bool
) -> None:
    """Create, upload, extend and cancel (``main``: the base whose every route /docs shows)."""
    create, extend = handlers
    _route(
        router,
        root,
        create,
        "POST",
        f"Create a video task ({kind} channel)",
        docs=docs,
        name=f"create_{kind}",
    )
    _route(
        router,
        root + "/file_upload",
        file_upload,
        "POST",
        "Upload an image (URL or data URI)",
        docs=main,
    )
    _route(
        router,
        root + "/{task_id}/extend",
        extend,
        "POST",
        f"Extend a completed video ({kind})",
        docs=docs,
        name=f"extend_{kind}",
    )
    _route(
        router,
        root + "/{task_id}/cancel",
        cancel_generation,
        "POST",
        "Cancel an unfinished task (refunded; 409 once it has ended)",
        docs=main,
        name=f"cancel_{kind}",
    )


def _read_routes(router: APIRouter, root: str, kind: str, *, main: bool) -> None:
    """List, download link and get (shown in /docs on the ``main`` base only)."""
    _route(
        router,
        root,
        list_generations,
        "GET",
        "The caller's tasks, newest first (offset, limit, state, after)",
        docs=main,
        name=f"list_{kind}",
    )
    for method in ("GET", "POST"):  # the Go project's swagger says POST; /docs shows the GET
        _route(
            router,
            root + "/{task_id}/download_video_url",
            download_video_url,
            method,
            "The watermark-free mp4 link of a completed task",
            docs=main and method == "GET",
            name=f"download_video_url_{method.lower()}",
        )
    _route(router, root + "/{task_id}", get_generation, "GET", "One task", docs=main)


def build_router(app: FastAPI) -> APIRouter:
    router = app_router(app, tags=[TAG])
    for prefix, channel in PREFIXES.items():
        handlers = (_channel_route(channel), _extend_route(channel))
        for base in GENERATION_BASES:
            shown = base == "/luma/generations"
            _generation_routes(router, prefix + base, channel, handlers, docs=shown)
        for suffix, handler, method, summary in (
            ("/luma/tasks", batch_query, "POST", "Batch query by ids (at most 100)"),
            ("/luma/v1/tasks", batch_query, "POST", "Batch query by ids"),
            ("/luma/subscription/usage", subscription_usage, "GET", "Usage of the caller"),
            ("/luma/users/me", users_me, "GET", "The caller: key, channels, credits"),
        ):
            docs = prefix == "" and "/v1/" not in suffix
            _route(router, prefix + suffix, handler, method, summary, docs=docs)
    return router


def _is_reseller_path(path: str) -> bool:
    for prefix in ("/vip", "/pro"):
        if path.startswith(prefix + "/"):
            path = path[len(prefix) :]
    return path.startswith("/luma/") or path == "/luma"


def install(app: FastAPI) -> None:
    register_error_dialect(ErrorDialect("reseller", _is_reseller_path, reseller_error_body))
    add_routes(app, deliveries.build_router(app, tuple(PREFIXES), GENERATION_BASES, TAG))
    add_routes(app, build_router(app))
    app.add_api_route("/ping", ping, methods=["GET"], tags=[TAG], summary="Liveness (no key)")
