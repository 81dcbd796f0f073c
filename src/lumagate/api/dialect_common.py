"""Small helpers the non-reseller dialects share (luma-mock, official, chat, new-api, videos).

They exist so every dialect picks the channel, reads query integers, honours
``Idempotency-Key`` and documents its JSON bodies the same way, without each module growing its
own copy. Nothing here touches the store or a provider.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel

from lumagate.api import deps
from lumagate.domain import messages as msg
from lumagate.domain.channels import Channel
from lumagate.domain.errors import InvalidRequest
from lumagate.domain.limits import MAX_OFFSET
from lumagate.domain.tenant import ApiKey
from lumagate.domain.video import ASPECT_RATIOS, RESOLUTIONS


class FieldError(InvalidRequest):
    """A bad value in one place of the request (``loc`` like ``("query", "limit")``).

    Dialects that answer validation problems as a list (the official one) turn it into their
    own shape; the others show ``message``.
    """

    def __init__(self, loc: tuple[str, ...], message: msg.Text, error_type: str) -> None:
        super().__init__(msg.FIELD_DETAIL(field=loc[-1], detail=message), field=loc[-1])
        self.loc = loc
        self.error_type = error_type
        self.detail = message.render()  # the official list keeps pydantic's English words


def channel_for(tenant: ApiKey) -> Channel:
    """Dialects without a channel prefix use ``default`` when the key may, else its first one."""
    if Channel.DEFAULT in tenant.channels or not tenant.channels:
        return Channel.DEFAULT
    return tenant.channels[0]


def max_body(request: Request) -> int:
    return deps.max_body(request)


def idempotency_key(request: Request) -> str | None:
    value = request.headers.get("idempotency-key")
    return value.strip() or None if value else None


def query_int(
    request: Request, name: str, default: int, *, minimum: int, maximum: int | None = None
) -> int:
    """An integer query parameter; a non-integer or out-of-range value is a :class:`FieldError`.

    Values above ``maximum`` are clamped (clients ask for "a lot" and expect a full page);
    values above ``MAX_OFFSET`` are refused (no database could page that far anyway).
    """
    raw = request.query_params.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw.strip())
    except ValueError:
        raise FieldError(("query", name), msg.INPUT_INTEGER(), "int_parsing") from None
    if value < minimum:
        raise FieldError(
            ("query", name),
            msg.INPUT_AT_LEAST(minimum=minimum),
            "greater_than_equal",
        )
    if value > MAX_OFFSET:
        raise FieldError(
            ("query", name),
            msg.INPUT_AT_MOST(maximum=MAX_OFFSET),
            "less_than_equal",
        )
    return value if maximum is None else min(value, maximum)


def _inline_refs(schema: Any, defs: dict[str, Any]) -> Any:
    if isinstance(schema, dict):
        ref = schema.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/$defs/"):
            return _inline_refs(copy.deepcopy(defs[ref.rsplit("/", 1)[-1]]), defs)
        return {k: _inline_refs(v, defs) for k, v in schema.items() if k != "$defs"}
    if isinstance(schema, list):
        return [_inline_refs(item, defs) for item in schema]
    return schema


BODY_DOC = "x-lumagate-json-body"  # the openapi_extra key of a body documented on demand


def json_body_doc(model: type[BaseModel], example: dict[str, Any]) -> dict[str, Any]:
    """``openapi_extra`` documenting a JSON body that the handler parses itself.

    Handlers read bodies by hand (so malformed JSON and wrong types get the dialect's own error
    shape), which hides the body from FastAPI; this puts the schema and an example back. The
    schema is made when the document is first built, not for every route at start-up:
    ``api/openapi.py`` replaces this entry with the operation's ``requestBody``
    (:func:`json_request_body`) before FastAPI reads the routes.
    """
    return {BODY_DOC: (model, example)}


def json_request_body(model: type[BaseModel], example: dict[str, Any]) -> dict[str, Any]:
    """The OpenAPI ``requestBody`` of ``model``'s JSON, its ``$defs`` inlined, with ``example``."""
    schema = model.model_json_schema()
    inlined = _inline_refs(schema, schema.get("$defs", {}))
    return {
        "required": True,
        "content": {"application/json": {"schema": inlined, "example": example}},
    }


def example_response(status: int, example: Any, description: str = "") -> dict[int | str, Any]:
    return {
        status: {
            "description": description or "Success",
            "content": {"application/json": {"example": example}},
        }
    }


def documented_route(
    router: APIRouter,
    path: str,
    endpoint: Callable[..., Any],
    method: str,
    summary: str,
    example: Any,
    *,
    body: tuple[type[BaseModel], dict[str, Any]] | None = None,
    extra: dict[str, Any] | None = None,
    description: str = "",
    include_in_schema: bool = True,
) -> None:
    """Add a route whose /docs show ``example`` as its 200 answer (with ``description``) and,
    given ``body`` (a model and an example of it), the JSON body its handler parses itself
    (:func:`json_body_doc`); ``extra`` is other ``openapi_extra`` (e.g. a multipart body)."""
    router.add_api_route(
        path,
        endpoint,
        methods=[method],
        summary=summary,
        openapi_extra=json_body_doc(*body) if body is not None else extra,
        responses=example_response(200, example, description),
        include_in_schema=include_in_schema,
    )


# Model names OpenAI-style clients send for Luma video -> the official model (None: default).
LUMA_MODEL_NAMES: dict[str, str | None] = {
    "luma": None,
    "luma-video": None,
    "luma_video_api": None,
    "luma-video-ray2": "ray-2",
    "luma-video-ray2-flash": "ray-flash-2",
}


def video_model(name: str | None) -> str | None:
    """A client's model name as the service takes it (official names and aliases pass through;
    the service rejects what it does not know, naming the field)."""
    if name is None or not name.strip():
        return None
    key = name.strip()
    return LUMA_MODEL_NAMES.get(key, key)


def size_to_video(width: int, height: int) -> tuple[str, str]:
    """``(aspect_ratio, resolution)`` closest to a pixel size, e.g. 1280x720 -> 16:9, 720p."""
    if width <= 0 or height <= 0:
        raise InvalidRequest(msg.SIZE_TWO_INTEGERS(), field="size")
    ratio = width / height

    def distance(aspect: str) -> float:
        w, h = (int(p) for p in aspect.split(":"))
        return abs(w / h - ratio)

    aspect = min(ASPECT_RATIOS, key=distance)
    short = min(width, height)
    resolution = min(RESOLUTIONS, key=lambda name: abs(RESOLUTIONS[name] - short))
    return aspect, resolution


def parse_size(text: str) -> tuple[str, str]:
    """``"1280x720"`` -> ``("16:9", "720p")``."""
    parts = text.lower().replace("*", "x").split("x")
    try:
        width, height = (int(p.strip()) for p in parts)
    except ValueError:
        raise InvalidRequest(msg.SIZE_FORMAT(), field="size") from None
    return size_to_video(width, height)
