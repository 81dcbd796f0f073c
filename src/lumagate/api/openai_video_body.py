"""The body of ``POST /v1/videos`` as OpenAI's SDK and other clients send it.

The ``openai`` SDK always posts ``multipart/form-data``, even without a file: an uploaded
``input_reference`` is a file part, the current reference object (``{"image_url": …}``) is
flattened into ``input_reference[image_url]`` form fields. JSON clients send the object as it
is, or (older clients) a URL / data URI string. All three become one start image here;
``file_id`` (a file in OpenAI's Files API) has no counterpart in this gateway and is a 400.
"""

from __future__ import annotations

from typing import Any

from fastapi import Request
from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictFloat, StrictInt, StrictStr
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.formparsers import MultiPartException

from lumagate.api.body import parse_model, read_json
from lumagate.api.dialect_common import max_body
from lumagate.domain import messages as msg
from lumagate.domain.errors import InvalidRequest, PayloadTooLarge
from lumagate.service.create_command import CreateFields
from lumagate.service.tasks import TaskService

REFERENCE_FIELDS = ("image_url", "file_id")


class InputReference(BaseModel):
    """OpenAI's ``ImageInputReferenceParam``: ``image_url`` (a URL or data URL) or ``file_id``."""

    model_config = ConfigDict(extra="forbid")

    image_url: StrictStr | None = None
    file_id: StrictStr | None = None


class VideoCreateBody(BaseModel):
    model_config = ConfigDict(extra="ignore")

    prompt: StrictStr = Field(examples=["a hummingbird hovering over a red flower"])
    model: StrictStr | None = Field(default=None, examples=["ray-2"])
    seconds: StrictStr | StrictInt | StrictFloat | None = Field(default=None, examples=["5"])
    size: StrictStr | None = Field(default=None, examples=["1280x720"])
    input_reference: StrictStr | InputReference | None = Field(
        default=None,
        description=(
            'Start image: a file (multipart), {"image_url": URL or data URL}, or (older '
            "clients) the URL / data URI itself"
        ),
    )
    aspect_ratio: StrictStr | None = None
    resolution: StrictStr | None = None
    loop: StrictBool | None = None

    def start_image(self) -> str | None:
        ref = self.input_reference
        if ref is None or isinstance(ref, str):
            return ref or None
        if ref.file_id:
            raise InvalidRequest(msg.REFERENCE_FILE_ID(), field="input_reference.file_id")
        if not ref.image_url:
            raise InvalidRequest(msg.REFERENCE_NEEDS_IMAGE(), field="input_reference")
        return ref.image_url

    def fields(self) -> CreateFields:
        """The names this body gave each value: a frame shape from ``size`` is named ``size``."""
        by_object = isinstance(self.input_reference, InputReference)  # {"image_url": …}
        return CreateFields(
            prompt="prompt",
            model="model",
            aspect_ratio="aspect_ratio" if self.aspect_ratio or not self.size else "size",
            resolution="resolution" if self.resolution or not self.size else "size",
            duration="seconds",
            start_image="input_reference.image_url" if by_object else "input_reference",
            end_image="input_reference",
        )


class RemixBody(BaseModel):
    """OpenAI's ``VideoRemixParams``."""

    model_config = ConfigDict(extra="ignore")

    prompt: StrictStr = Field(examples=["the same scene at night"])


def _form_value(fields: dict[str, Any], name: str, value: str) -> None:
    if name.startswith("input_reference[") and name.endswith("]"):
        part = name[len("input_reference[") : -1]
        if part not in REFERENCE_FIELDS:
            raise InvalidRequest(msg.REFERENCE_PART(part=part), field="input_reference")
        current = fields.get("input_reference")
        reference = current if isinstance(current, dict) else {}
        reference[part] = value
        fields["input_reference"] = reference
    elif name == "loop":
        fields[name] = value.strip().lower() in ("1", "true", "yes")
    else:
        fields[name] = value


async def read_form(request: Request, service: TaskService, limit: int) -> dict[str, Any]:
    """Form fields of a multipart body; the ``input_reference`` file is stored as an upload."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(msg.BODY_TOO_LARGE(limit=limit))
    fields: dict[str, Any] = {}
    try:
        async with request.form(max_files=1, max_fields=20) as form:
            for name, value in form.multi_items():
                if isinstance(value, UploadFile):
                    if name != "input_reference":
                        raise InvalidRequest(msg.REFERENCE_ONLY_FILE(name=name), field=name)
                    ref = await service.upload_bytes(await value.read(limit + 1))
                    fields[name] = service.link(ref)
                else:
                    _form_value(fields, name, value)
    except (MultiPartException, StarletteHTTPException) as exc:
        detail = exc.message if isinstance(exc, MultiPartException) else exc.detail
        raise InvalidRequest(msg.MALFORMED_MULTIPART(detail=detail)) from None
    return fields


def is_multipart(request: Request) -> bool:
    return request.headers.get("content-type", "").startswith("multipart/form-data")


async def read_create_body(request: Request, service: TaskService) -> VideoCreateBody:
    limit = max_body(request)
    if not is_multipart(request):
        return parse_model(VideoCreateBody, await read_json(request, limit))
    return parse_model(VideoCreateBody, await read_form(request, service, limit))


async def read_remix_body(request: Request, service: TaskService) -> RemixBody:
    limit = max_body(request)
    if not is_multipart(request):
        return parse_model(RemixBody, await read_json(request, limit))
    return parse_model(RemixBody, await read_form(request, service, limit))
