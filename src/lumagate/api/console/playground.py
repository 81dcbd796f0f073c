"""``/console/playground``: make a video as a chosen key on any channel, watch it, extend it.

The form posts to the same :class:`TaskService` every dialect uses (dialect ``console``), so a
playground task is charged, queued, dispatched and called back like any other. Images come as
an upload (turned into a data URI the media store validates by its bytes) or a URL. The page
polls ``/console/tasks/{id}/status`` for progress and plays the video when it is done.
"""

from __future__ import annotations

import base64

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.datastructures import FormData

from lumagate.api.console.deps import checked_form, console_of, require_session, text, upload
from lumagate.api.console.session import ConsoleSession
from lumagate.api.console.tasks import any_task, status_view
from lumagate.api.console.views import FormError, back, key_state
from lumagate.api.routers import app_router
from lumagate.domain.channels import ALL_CHANNELS, Channel
from lumagate.domain.errors import GatewayError, KeyNotFound
from lumagate.domain.video import ASPECT_RATIOS, DURATIONS, MODELS, RESOLUTIONS
from lumagate.service.create_command import CreateFields
from lumagate.service.tasks import CreateCommand

PATH = "/console/playground"
DIALECT = "console"
# The form's names (an uploaded image is a data URI: only a URL can be over its bound).
PLAYGROUND_FIELDS = CreateFields.plain("start_image_url", "end_image_url")


async def _image(form: FormData, name: str, max_bytes: int) -> str | None:
    """An uploaded file as a data URI, else the URL field, else None."""
    file = upload(form, name + "_file")
    if file is not None:
        data = await file.read(max_bytes + 1)
        if len(data) > max_bytes:
            raise FormError("error.image_too_large")
        if data:
            mime = file.content_type or "application/octet-stream"
            return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"
    url = text(form, name + "_url")
    return url or None


def _command(form: FormData, start: str | None, end: str | None) -> CreateCommand:
    channel = text(form, "channel") or Channel.DEFAULT.value
    if channel not in {c.value for c in ALL_CHANNELS}:
        raise FormError("error.channels")
    notify = text(form, "callback_url") or None
    if notify is not None and not notify.startswith(("http://", "https://")):
        raise FormError("error.callback_url")
    return CreateCommand(
        channel=Channel(channel),
        dialect=DIALECT,
        prompt=text(form, "prompt"),
        aspect_ratio=text(form, "aspect_ratio") or "16:9",
        loop=text(form, "loop") == "on",
        model=text(form, "model") or None,
        resolution=text(form, "resolution") or "720p",
        duration=text(form, "duration") or "5s",
        start_image=start,
        end_image=end,
        notify_url=notify,
        fields=PLAYGROUND_FIELDS,
    )


async def page(
    request: Request, session: ConsoleSession = Depends(require_session)
) -> HTMLResponse:
    console = console_of(request)
    services = console.services
    keys = [k for k in await services.admin.list_keys() if key_state(k) == "active"]
    task = None
    task_id = request.query_params.get("task", "")
    if task_id:
        task = await any_task(services, task_id)
    return console.pages.render(
        request,
        "playground.html",
        session,
        keys=keys,
        task=task,
        status=status_view(services, task) if task else None,
        channels=[c.value for c in ALL_CHANNELS],
        aspect_ratios=ASPECT_RATIOS,
        models=MODELS,
        resolutions=list(RESOLUTIONS),
        durations=list(DURATIONS),
        chosen_key=request.query_params.get("key", ""),
    )


async def create(request: Request, session: ConsoleSession = Depends(require_session)) -> Response:
    form = await checked_form(request, session)
    services = console_of(request).services
    limit = services.tasks.max_image_bytes
    try:
        tenant = await services.admin.key(text(form, "key"))
        command = _command(
            form,
            await _image(form, "start_image", limit),
            await _image(form, "end_image", limit),
        )
        source = text(form, "extend_of")
        if source:
            task = await services.tasks.extend(tenant, source, command)
        else:
            task = await services.tasks.create(tenant, command)
    except KeyNotFound:
        return back(PATH, err="error.key_not_found")
    except FormError as exc:
        return back(PATH, err=exc.key)
    except GatewayError as exc:
        return back(PATH, err="error.invalid", detail=exc.message)
    return RedirectResponse(f"{PATH}?task={task.id}&key={tenant.id}", 303)


def router(app: FastAPI) -> APIRouter:
    routes = app_router(app, include_in_schema=False)
    routes.add_api_route(PATH, page, methods=["GET"], response_class=HTMLResponse)
    routes.add_api_route(PATH, create, methods=["POST"])
    return routes
