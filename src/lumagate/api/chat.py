"""OpenAI chat completions as a front door for video (CONTRACT §5), plus ``GET /v1/models``.

Chat clients (ChatGPT-style UIs, the ``openai`` SDK) pick a model named ``luma…`` and type a
prompt: the last user message is the prompt and its ``image_url`` parts are the start and end
images. With ``stream: true`` the answer is Server-Sent Events of ``chat.completion.chunk``s:
a line per state/progress change while the task runs, then a markdown link to the mp4 and
``data: [DONE]``. Without it, one ``chat.completion`` arrives when the task is done.

Waiting is bounded by ``chat_timeout_seconds``: past it the client gets an OpenAI-shaped error
(an ``error`` event when streaming) naming the task id, and the task keeps running. A client
that disconnects only stops its own stream; the task is never cancelled by it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncGenerator, AsyncIterator
from typing import Any

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt, StrictStr

from lumagate.api.body import read_model
from lumagate.api.deps import SettingsDep, Tasks, Watcher, bearer_tenant
from lumagate.api.dialect_common import (
    LUMA_MODEL_NAMES,
    channel_for,
    documented_route,
    idempotency_key,
    max_body,
)
from lumagate.api.routers import add_routes, app_router
from lumagate.domain import messages as msg
from lumagate.domain.errors import GatewayError, InvalidRequest
from lumagate.domain.messages import ENGLISH, Language, preferred_language
from lumagate.domain.states import TaskState
from lumagate.domain.task import Task
from lumagate.domain.tenant import ApiKey
from lumagate.domain.video import MODELS
from lumagate.service.create_command import CreateFields
from lumagate.service.tasks import CreateCommand, TaskService
from lumagate.service.watch import TaskWatcher

TAG = "OpenAI chat (/v1/chat/completions)"
DIALECT = "chat"
HEARTBEAT_SECONDS = 15.0
CHAT_IMAGE_FIELD = "messages.content.image_url"  # the name in every 400 about an image
# Chat model name -> official model (None: the gateway's default model).
CHAT_MODELS = LUMA_MODEL_NAMES


class ModelNotFound(GatewayError):
    status = 404
    code = "model_not_found"


class ChatTimeout(GatewayError):
    status = 504
    kind = "timeout_error"
    code = "generation_timeout"


class ChatMessage(BaseModel):
    model_config = ConfigDict(extra="ignore")
    role: StrictStr
    content: StrictStr | list[dict[str, Any]] | None = None


class ChatBody(BaseModel):
    """The OpenAI request, plus optional video settings a client may add at the top level."""

    model_config = ConfigDict(extra="ignore")

    model: StrictStr = Field(examples=["luma-video-ray2"])
    messages: list[ChatMessage] = Field(min_length=1)
    stream: StrictBool | None = None
    aspect_ratio: StrictStr | None = None
    resolution: StrictStr | None = None
    duration: StrictStr | StrictInt | None = None
    loop: StrictBool | None = None


EXAMPLE_BODY = {
    "model": "luma-video-ray2",
    "stream": True,
    "messages": [
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "a paper boat drifting on a pond"},
                {"type": "image_url", "image_url": {"url": "https://example.com/start.jpg"}},
            ],
        }
    ],
}
COMPLETION_EXAMPLE = {
    "id": "chatcmpl-…",
    "object": "chat.completion",
    "model": "luma-video-ray2",
    "choices": [
        {
            "index": 0,
            "message": {
                "role": "assistant",
                "content": "✅ Video ready: [Download video](http://…/video.mp4)",
            },
            "finish_reason": "stop",
        }
    ],
}


def _prompt_and_images(messages: list[ChatMessage]) -> tuple[str, list[str]]:
    """The last user message's text and its image URLs (first = start, second = end)."""
    last = next((m for m in reversed(messages) if m.role == "user"), None)
    if last is None:
        raise InvalidRequest(msg.CHAT_USER_MESSAGE(), field="messages")
    if isinstance(last.content, str) or last.content is None:
        return (last.content or "").strip(), []
    texts: list[str] = []
    images: list[str] = []
    for index, part in enumerate(last.content):
        kind = part.get("type")
        if kind == "text" and isinstance(part.get("text"), str):
            texts.append(part["text"])
        elif kind == "image_url":
            value = part.get("image_url")
            url = value.get("url") if isinstance(value, dict) else value
            if not isinstance(url, str) or not url:
                raise InvalidRequest(
                    msg.CHAT_IMAGE_URL_STRING(index=index),
                    field=CHAT_IMAGE_FIELD,
                )
            images.append(url)
    if len(images) > 2:
        raise InvalidRequest(msg.CHAT_TWO_IMAGES(), field="messages")
    return "\n".join(t.strip() for t in texts if t.strip()), images


async def _paced(
    updates: AsyncGenerator[Task, None], deadline: float, beat: float
) -> AsyncIterator[Task | None]:
    """``updates`` until the deadline (then TimeoutError); None after ``beat`` s of silence."""
    loop = asyncio.get_running_loop()
    pending: asyncio.Future[Task] | None = None
    try:
        while True:
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise TimeoutError
            if pending is None:
                pending = asyncio.ensure_future(anext(updates))
            done, _ = await asyncio.wait({pending}, timeout=min(beat, remaining))
            if not done:
                if loop.time() >= deadline:
                    raise TimeoutError
                yield None
                continue
            finished, pending = pending, None
            try:
                item = finished.result()
            except StopAsyncIteration:
                return
            yield item
    finally:
        if pending is not None:
            pending.cancel()
            with contextlib.suppress(BaseException):
                await pending
        with contextlib.suppress(RuntimeError):
            await updates.aclose()


def _progress_line(task: Task) -> str:
    if task.state == TaskState.PROCESSING:
        return f"> generating… {task.progress}%\n"
    if task.state in (TaskState.QUEUED, TaskState.SUBMITTING, TaskState.SUBMITTED):
        return "> queued\n"
    return ""


async def _final_text(task: Task, tenant: ApiKey, service: TaskService) -> str:
    if task.state == TaskState.COMPLETED:
        url = await service.download_url(tenant, task.id)
        return f"\n✅ Video ready: [Download video]({url})\n"
    reason = task.failure_reason or "the generation failed"
    return f"\n❌ Video generation failed: {reason} (task `{task.id}`)\n"


def _timeout_error(task_id: str, seconds: float) -> ChatTimeout:
    return ChatTimeout(msg.CHAT_TIMEOUT(seconds=f"{seconds:g}", task=task_id))


def _chunk(cid: str, model: str, created: int, delta: dict[str, Any], finish: str | None) -> str:
    body = {
        "id": cid,
        "object": "chat.completion.chunk",
        "created": created,
        "model": model,
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }
    return f"data: {json.dumps(body, ensure_ascii=False)}\n\n"


async def _stream(
    watcher: TaskWatcher,
    tenant: ApiKey,
    task: Task,
    model: str,
    deadline: float,
    timeout: float,
    language: Language = ENGLISH,
) -> AsyncIterator[str]:
    cid, created = f"chatcmpl-{task.id}", int(time.time())
    yield _chunk(cid, model, created, {"role": "assistant", "content": ""}, None)
    intro = f"Video task `{task.id}` accepted ({task.request.model}).\n\n"
    yield _chunk(cid, model, created, {"content": intro}, None)
    last_line, final = "", task
    try:
        async for current in _paced(watcher.follow(tenant, task.id), deadline, HEARTBEAT_SECONDS):
            if current is None:
                yield ": keep-alive\n\n"
                continue
            final = current
            line = _progress_line(current)
            if line and line != last_line:
                last_line = line
                yield _chunk(cid, model, created, {"content": line}, None)
    except TimeoutError:
        error = _timeout_error(task.id, timeout).localized(language)
        payload = {"error": {"message": error.message, "type": error.kind, "code": error.code}}
        yield f"data: {json.dumps(payload)}\n\n"
        yield "data: [DONE]\n\n"
        return
    except GatewayError as exc:  # e.g. the task was deleted meanwhile
        exc = exc.localized(language)
        payload = {"error": {"message": exc.message, "type": exc.kind, "code": exc.code}}
        yield f"data: {json.dumps(payload)}\n\n"
        yield "data: [DONE]\n\n"
        return
    text = await _final_text(final, tenant, watcher.tasks)
    yield _chunk(cid, model, created, {"content": text}, None)
    yield _chunk(cid, model, created, {}, "stop")
    yield "data: [DONE]\n\n"


def _prompt_field(messages: list[ChatMessage]) -> str:
    """Where the prompt was read: the content of the last user message (there is one)."""
    index = max(i for i, message in enumerate(messages) if message.role == "user")
    return f"messages[{index}].content"


def _command(body: ChatBody, tenant: ApiKey, idempotency: str | None) -> CreateCommand:
    prompt, images = _prompt_and_images(body.messages)
    if not prompt and not images:
        raise InvalidRequest(msg.CHAT_NO_TEXT(), field="messages")
    return CreateCommand(
        channel=channel_for(tenant),
        dialect=DIALECT,
        prompt=prompt,
        aspect_ratio=body.aspect_ratio or "16:9",
        loop=bool(body.loop),
        model=CHAT_MODELS.get(body.model, body.model),  # an alias, or an official model
        resolution=body.resolution or "720p",
        duration=body.duration if body.duration is not None else "5s",
        start_image=images[0] if images else None,
        end_image=images[1] if len(images) > 1 else None,
        idempotency_key=idempotency,
        fields=CreateFields(
            prompt=_prompt_field(body.messages),
            model="model",
            start_image=CHAT_IMAGE_FIELD,
            end_image=CHAT_IMAGE_FIELD,
        ),
    )


async def chat_completions(
    request: Request,
    service: Tasks,
    watcher: Watcher,
    settings: SettingsDep,
    tenant: ApiKey = Depends(bearer_tenant),
) -> Any:
    loop = asyncio.get_running_loop()
    timeout = settings.chat_timeout_seconds
    deadline = loop.time() + timeout
    body = await read_model(request, ChatBody, max_body(request))
    if body.model not in model_names():
        raise ModelNotFound(msg.MODEL_NOT_FOUND(model=body.model, choices=", ".join(model_names())))
    task = await service.create(tenant, _command(body, tenant, idempotency_key(request)))
    if body.stream:
        return StreamingResponse(
            _stream(
                watcher,
                tenant,
                task,
                body.model,
                deadline,
                timeout,
                preferred_language(request.headers.get("accept-language")),
            ),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
        )
    final = task
    try:
        async for current in _paced(watcher.follow(tenant, task.id), deadline, HEARTBEAT_SECONDS):
            if current is not None:
                final = current
    except TimeoutError:
        raise _timeout_error(task.id, timeout) from None
    content = f"Video task `{task.id}` finished.\n" + await _final_text(final, tenant, service)
    return {
        "id": f"chatcmpl-{task.id}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": body.model,
        "task_id": task.id,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": content},
                "finish_reason": "stop",
            }
        ],
        "usage": {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0},
    }


def _model(name: str) -> dict[str, Any]:
    return {"id": name, "object": "model", "created": 0, "owned_by": "lumagate"}


def model_names() -> tuple[str, ...]:
    """What ``/v1/models`` lists: the chat aliases and the official models (``/v1/videos``
    and new-api take both)."""
    return (*CHAT_MODELS, *(m for m in MODELS if m not in CHAT_MODELS))


async def list_models(tenant: ApiKey = Depends(bearer_tenant)) -> Any:
    return {"object": "list", "data": [_model(name) for name in model_names()]}


async def retrieve_model(model_id: str, tenant: ApiKey = Depends(bearer_tenant)) -> Any:
    """OpenAI's ``models.retrieve``; an unknown model is OpenAI's 404 ``model_not_found``."""
    if model_id not in model_names():
        raise ModelNotFound(msg.MODEL_DOES_NOT_EXIST(model=model_id), field="model")
    return _model(model_id)


def build_router(app: FastAPI) -> APIRouter:
    router = app_router(app, tags=[TAG])
    documented_route(
        router,
        "/v1/chat/completions",
        chat_completions,
        "POST",
        "Generate a video from a chat message (stream for progress)",
        COMPLETION_EXAMPLE,
        body=(ChatBody, EXAMPLE_BODY),
        description="One completion (or, with stream: true, text/event-stream chunks)",
    )
    models = {"object": "list", "data": [_model("ray-2")]}
    documented_route(router, "/v1/models", list_models, "GET", "The model names for video", models)
    documented_route(
        router,
        "/v1/models/{model_id}",
        retrieve_model,
        "GET",
        "One model (404 model_not_found for another name)",
        _model("ray-2"),
    )
    return router


def install(app: FastAPI) -> None:
    # Errors use the default OpenAI shape ({"error": {message, type, code}}).
    add_routes(app, build_router(app))
