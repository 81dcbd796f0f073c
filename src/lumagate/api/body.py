"""Reading JSON bodies into Pydantic models with errors that name the field (never a 500)."""

from __future__ import annotations

import json
from typing import Any, TypeVar

from fastapi import Request
from pydantic import BaseModel, ValidationError

from lumagate.domain import messages as msg
from lumagate.domain.errors import InvalidRequest, PayloadTooLarge

Model = TypeVar("Model", bound=BaseModel)


async def read_json(request: Request, max_bytes: int) -> Any:
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > max_bytes:
        raise PayloadTooLarge(msg.BODY_TOO_LARGE(limit=max_bytes))
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > max_bytes:
            raise PayloadTooLarge(msg.BODY_TOO_LARGE(limit=max_bytes))
        chunks.append(chunk)
    raw = b"".join(chunks)
    if not raw.strip():
        return {}
    try:
        return json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InvalidRequest(msg.MALFORMED_JSON(detail=exc), code="invalid_json") from None


def parse_model(model: type[Model], data: Any) -> Model:
    if not isinstance(data, dict):
        raise InvalidRequest(msg.BODY_NOT_OBJECT(), code="invalid_json")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"]) or None
        raise InvalidRequest(
            msg.FIELD_DETAIL(field=field, detail=first["msg"])
            if field
            else msg.VERBATIM(text=first["msg"]),
            field=field,
        ) from None


async def read_model(request: Request, model: type[Model], max_bytes: int) -> Model:
    return parse_model(model, await read_json(request, max_bytes))
