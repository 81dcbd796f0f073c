"""The requests the client makes, and how their answers are read: shared by both clients.

:class:`~lumagate.client.LumagateClient` and :class:`~lumagate.client.AsyncLumagateClient`
differ only in how they send a :class:`Call`; everything about paths, bodies and decoding is
here once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, TypedDict
from urllib.parse import quote

import httpx

from lumagate.client.errors import NotFoundError, ServerError, ValidationError
from lumagate.client.images import ImageInput, image_reference
from lumagate.client.models import Generation, UploadedImage, parse_generation, parse_record

CHANNEL_PREFIXES = {None: "", "default": "", "vip": "/vip", "pro": "/pro"}
GenerationRef = str | Generation
"""A task id, or a :class:`Generation` (its ``id`` is used)."""


@dataclass(frozen=True)
class Call:
    """One HTTP request to the gateway (path relative to the base URL)."""

    method: str
    path: str
    json: dict[str, Any] | None = None
    params: dict[str, Any] | None = None
    headers: dict[str, str] = field(default_factory=dict)


class VideoKeywords(TypedDict, total=False):
    """The keyword options of ``create`` and ``extend`` (both clients), as :class:`VideoOptions`."""

    aspect_ratio: str | None
    model: str | None
    resolution: str | None
    duration: str | None
    loop: bool | None
    expand_prompt: bool | None
    notify_hook: str | None


@dataclass(frozen=True)
class VideoOptions:
    """Options of a create or extend; ``None`` leaves the gateway's default."""

    aspect_ratio: str | None = None
    model: str | None = None
    resolution: str | None = None
    duration: str | None = None
    loop: bool | None = None
    expand_prompt: bool | None = None
    notify_hook: str | None = None

    def body(self) -> dict[str, Any]:
        values = {
            "aspect_ratio": self.aspect_ratio,
            "model_name": self.model,
            "resolution": self.resolution,
            "duration": self.duration,
            "loop": self.loop,
            "expand_prompt": self.expand_prompt,
            "notify_hook": self.notify_hook,
        }
        return {name: value for name, value in values.items() if value is not None}


def task_id(ref: GenerationRef) -> str:
    return ref.id if isinstance(ref, Generation) else ref


def prefix(channel: str | None) -> str:
    try:
        return CHANNEL_PREFIXES[channel]
    except KeyError:
        raise ValidationError(
            f"unknown channel {channel!r} (default, vip or pro)", code="invalid_channel"
        ) from None


def _id_path(ref: GenerationRef) -> str:
    return quote(task_id(ref), safe="")


def _idempotency(key: str | None) -> dict[str, str]:
    return {"Idempotency-Key": key} if key else {}


class CreateKeywords(VideoKeywords, total=False):
    """Every keyword of ``create`` (both clients): the images, channel and idempotency key
    beside the video options."""

    image: ImageInput | None
    end_image: ImageInput | None
    channel: str | None
    idempotency_key: str | None


class ExtendKeywords(VideoKeywords, total=False):
    """Every keyword of ``extend`` (both clients)."""

    end_image: ImageInput | None
    channel: str | None
    idempotency_key: str | None


def _split(
    keywords: CreateKeywords | ExtendKeywords, default_channel: str | None
) -> tuple[dict[str, Any], VideoOptions, str, dict[str, str]]:
    """(images, video options, the channel's path prefix, headers) of a create's keywords."""
    values: dict[str, Any] = dict(keywords)
    images = {name: values.pop(name, None) for name in ("image", "end_image")}
    channel = values.pop("channel", None) or default_channel
    headers = _idempotency(values.pop("idempotency_key", None))
    return images, VideoOptions(**values), prefix(channel), headers


def create_call(prompt: str, default_channel: str | None, keywords: CreateKeywords) -> Call:
    images, options, channel_prefix, headers = _split(keywords, default_channel)
    body: dict[str, Any] = {"user_prompt": prompt, **options.body()}
    start, end = image_reference(images["image"]), image_reference(images["end_image"])
    if start is not None:
        body["image_url"] = start
    if end is not None:
        body["image_end_url"] = end
    return Call("POST", f"{channel_prefix}/luma/generations", json=body, headers=headers)


def extend_call(
    ref: GenerationRef, prompt: str, default_channel: str | None, keywords: ExtendKeywords
) -> Call:
    images, options, channel_prefix, headers = _split(keywords, default_channel)
    body: dict[str, Any] = {"user_prompt": prompt, **options.body()}
    end = image_reference(images["end_image"])
    if end is not None:
        body["image_end_url"] = end
    path = f"{channel_prefix}/luma/generations/{_id_path(ref)}/extend"
    return Call("POST", path, json=body, headers=headers)


def get_call(ref: GenerationRef) -> Call:
    return Call("GET", f"/luma/generations/{_id_path(ref)}")


def status_call(ref: GenerationRef) -> Call:
    return Call("POST", "/luma/tasks", json={"ids": [task_id(ref)]})


def download_url_call(ref: GenerationRef) -> Call:
    return Call("GET", f"/luma/generations/{_id_path(ref)}/download_video_url")


def list_call(offset: int, limit: int) -> Call:
    # The reseller dialect has no list route; the luma-mock dialect's list reads the same
    # tasks and accepts the same Bearer key.
    return Call("GET", "/api/generations", params={"offset": offset, "limit": limit})


def usage_call() -> Call:
    return Call("GET", "/luma/subscription/usage")


def upload_call(image: ImageInput) -> Call:
    return Call("POST", "/luma/generations/file_upload", json={"url": image_reference(image)})


def json_object(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        body = None
    if not isinstance(body, dict):
        raise ServerError(
            f"the gateway answered {response.request.url.path} with something other than a "
            "JSON object",
            status=response.status_code,
        )
    return body


def read_generation(response: httpx.Response) -> Generation:
    return parse_generation(json_object(response))


def read_status(response: httpx.Response, ref: GenerationRef) -> Generation:
    records = json_object(response).get("data")
    if not isinstance(records, list) or not records or not isinstance(records[0], dict):
        raise NotFoundError("Task not found", status=404, code="task_not_exist")
    return parse_record(records[0])


def read_list(response: httpx.Response) -> list[Generation]:
    items = json_object(response).get("data")
    if not isinstance(items, list):
        raise ServerError("the list answer has no data list", status=response.status_code)
    return [parse_generation(item) for item in items if isinstance(item, dict)]


def read_url(response: httpx.Response) -> str:
    url = json_object(response).get("url")
    if not isinstance(url, str) or not url:
        raise ServerError("the gateway gave no download URL", status=response.status_code)
    return url


def read_upload(response: httpx.Response) -> UploadedImage:
    body = json_object(response)
    url = body.get("public_url")
    if not isinstance(url, str) or not url:
        raise ServerError("the upload answer has no public_url", status=response.status_code)
    return UploadedImage(id=str(body.get("id") or ""), public_url=url)
