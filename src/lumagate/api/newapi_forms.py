"""Every form new-api sends to ``POST /v1/video/generations``, mapped onto one create.

new-api has several writers of this body: its Go ``VideoRequest`` (``image``, ``duration``
float, ``width``/``height``, ``fps``, ``seed``, ``n``, ``response_format``, ``user``,
``metadata``), its web video tool (top-level ``aspect_ratio``, ``seconds`` or ``duration``,
``size`` like ``1280x720``, ``image``/``images``, ``media: [{type: "image", url | image_url |
data}]``, ``metadata.*``) and multipart submits. Every value either changes what is rendered
or is refused with a 400 naming the field: nothing is silently dropped. The table of mappings
is in docs/dialects.md; ``user`` is the only field accepted without effect (an end-user label
for abuse tracking, not a render setting).

One setting may come from several places (``seconds``, ``duration``, ``metadata.seconds``…):
they must agree, else 400; an explicit ``aspect_ratio``/``resolution`` wins over the one a
``size`` or ``width``/``height`` implies.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fastapi import Request
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.formparsers import MultiPartException

from lumagate.api.body import read_json
from lumagate.api.dialect_common import parse_size, video_model
from lumagate.domain import messages as msg
from lumagate.domain.errors import InvalidRequest, PayloadTooLarge
from lumagate.domain.messages import Text
from lumagate.domain.video import normalize_duration
from lumagate.service.create_command import CreateFields
from lumagate.service.tasks import TaskService

TOP_LEVEL = frozenset(
    {
        "model",
        "prompt",
        "image",
        "images",
        "media",
        "duration",
        "seconds",
        "width",
        "height",
        "size",
        "aspect_ratio",
        "resolution",
        "loop",
        "expand_prompt",
        "callback_url",
        "fps",
        "seed",
        "n",
        "response_format",
        "user",
        "metadata",
    }
)
METADATA = frozenset(
    {
        "aspect_ratio",
        "resolution",
        "size",
        "seconds",
        "duration",
        "loop",
        "expand_prompt",
        "image_end",
        "image_end_url",
        "callback_url",
        "notify_hook",
    }
)
MEDIA_SOURCES = ("url", "image_url", "data")
FILE_FIELDS = frozenset({"image", "images", "images[]", "input_reference"})
Given = tuple[str, Any]  # a value with the field the caller gave it in: (field, value)
Sized = tuple[str, tuple[str, str]]  # (the field, (aspect ratio, resolution)) of a frame size
BOOL_TEXT = {"true": True, "1": True, "yes": True, "false": False, "0": False, "no": False}


@dataclass(frozen=True)
class VideoForm:
    """What one submit asks for, every source reconciled (values still to be validated)."""

    prompt: str
    model: str | None
    aspect_ratio: str
    resolution: str
    duration: str
    loop: bool
    expand_prompt: bool
    start_image: str | None
    end_image: str | None
    callback_url: str | None
    fields: CreateFields  # the field each value came from, named in 400s about it


def _bad(field: str, problem: Text) -> InvalidRequest:
    """``field: problem``, the problem a catalogue text (``msg.FORM_*``)."""
    return InvalidRequest(msg.FIELD_DETAIL(field=field, detail=problem), field=field)


def _agree(name: str, found: list[Given]) -> Given | None:
    """The one value given for a setting, with its field (None if none); different values are
    a 400."""
    values = [(field, value) for field, value in found if value not in (None, "")]
    if len({json.dumps(v, sort_keys=True) for _, v in values}) > 1:
        named = ", ".join(f"{field}={value!r}" for field, value in values)
        raise InvalidRequest(msg.FORM_DISAGREE(name=name, named=named))
    return values[0] if values else None


def _value(given: Given | None) -> Any:
    return None if given is None else given[1]


def _text(body: dict[str, Any], name: str, prefix: str = "") -> str | None:
    value = body.get(name)
    if value is not None and not isinstance(value, str):
        raise _bad(prefix + name, msg.FORM_STRING())
    return value.strip() if value else None


def _flag(body: dict[str, Any], name: str, prefix: str = "") -> bool | None:
    value = body.get(name)
    if value is not None and not isinstance(value, bool):
        raise _bad(prefix + name, msg.FORM_BOOLEAN())
    return value


def _seconds(body: dict[str, Any], name: str, prefix: str = "") -> str | None:
    value = body.get(name)
    if value in (None, "", 0):  # Go's VideoRequest always sends "duration": 0 when unset
        return None
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise _bad(prefix + name, msg.FORM_SECONDS_NUMBER())
    try:
        return normalize_duration(value)
    except ValueError:
        raise _bad(prefix + name, msg.FORM_SECONDS_UNRENDERABLE(value=repr(value))) from None


def _unsupported(body: dict[str, Any]) -> None:
    """Go fields with no counterpart here: their zero values pass, anything else is a 400."""
    checks = (("fps", (None, 0, 24, "24")), ("n", (None, 0, 1, "1")), ("seed", (None, 0, "0")))
    for name, harmless in checks:
        if body.get(name) not in harmless:
            raise _bad(name, msg.FORM_NOT_SUPPORTED_GO(value=repr(body[name])))
    if body.get("response_format") not in (None, "", "url"):
        raise _bad("response_format", msg.FORM_URL_ONLY())


def _media_image(index: int, item: Any) -> str:
    where = f"media[{index}]"
    if not isinstance(item, dict):
        raise _bad(where, msg.FORM_MEDIA_OBJECT())
    unknown = sorted(set(item) - {"type", *MEDIA_SOURCES})
    if unknown:
        raise _bad(f"{where}.{unknown[0]}", msg.FORM_MEDIA_FIELD())
    if item.get("type") != "image":
        raise _bad(f"{where}.type", msg.FORM_MEDIA_TYPE(value=repr(item.get("type"))))
    sources = [name for name in MEDIA_SOURCES if item.get(name)]
    if len(sources) != 1:
        raise _bad(where, msg.FORM_MEDIA_ONE_SOURCE())
    value = item[sources[0]]
    if sources[0] == "image_url" and isinstance(value, dict):  # OpenAI's {"url": …}
        value = value.get("url")
    if not isinstance(value, str):
        raise _bad(f"{where}.{sources[0]}", msg.FORM_STRING())
    if sources[0] == "data" and not value.startswith("data:"):
        value = "data:image/png;base64," + value  # bare base64; the type is sniffed
    return value


def _frames(body: dict[str, Any]) -> tuple[list[str], str]:
    """The keyframe images of one of the forms ``image``, ``images``, ``media``."""
    forms: list[tuple[str, list[str]]] = []
    image = body.get("image")
    if image:
        if not isinstance(image, str):
            raise _bad("image", msg.FORM_IMAGE_STRING())
        forms.append(("image", [image]))
    images = body.get("images")
    if images:
        if not isinstance(images, list) or not all(isinstance(i, str) for i in images):
            raise _bad("images", msg.FORM_IMAGES_LIST())
        forms.append(("images", [i for i in images if i]))
    media = body.get("media")
    if media:
        if not isinstance(media, list):
            raise _bad("media", msg.FORM_LIST())
        forms.append(("media", [_media_image(n, item) for n, item in enumerate(media)]))
    if len(forms) > 1:
        raise InvalidRequest(
            msg.FORM_ONE_IMAGE_FORM(first=forms[0][0], second=forms[1][0]), field=forms[1][0]
        )
    return (forms[0][1], forms[0][0]) if forms else ([], "images")


def _keyframes(
    body: dict[str, Any], meta: dict[str, Any]
) -> tuple[str | None, str | None, tuple[str, str]]:
    """(start, end, the field names used in 400s about them)."""
    frames, form = _frames(body)
    if len(frames) > 2:
        raise _bad(form, msg.FORM_TWO_IMAGES())
    start = frames[0] if frames else None
    end = frames[1] if len(frames) > 1 else None
    fields = ("image" if form == "image" else f"{form}[0]", f"{form}[1]")
    end_key = next((k for k in ("image_end", "image_end_url") if meta.get(k)), None)
    if end_key is not None:
        if end is not None:
            raise _bad(f"metadata.{end_key}", msg.FORM_END_TWICE(other=f"{form}[1]"))
        end = _text(meta, end_key, "metadata.")
        fields = (fields[0], f"metadata.{end_key}")
    return start, end, fields


def _frame_size(body: dict[str, Any], meta: dict[str, Any]) -> Sized | None:
    sizes = [("size", _text(body, "size")), ("metadata.size", _text(meta, "size", "metadata."))]
    width, height = body.get("width"), body.get("height")
    if width or height:
        if isinstance(width, bool) or isinstance(height, bool):
            raise _bad("width", msg.FORM_WH_INTEGERS())
        if not isinstance(width, int) or not isinstance(height, int):
            raise _bad("width", msg.FORM_WH_BOTH())
        sizes.append(("width/height", f"{width}x{height}"))
    given = _agree("size", sizes)
    return None if given is None else (given[0], parse_size(given[1]))


Reader = Callable[[dict[str, Any], str, str], Any]


def _both(reader: Reader, body: dict[str, Any], meta: dict[str, Any], *names: str) -> Given | None:
    """One setting read from the top level and from ``metadata`` under each of ``names``,
    with the field that gave it."""
    found = [(name, reader(body, name, "")) for name in names if name in TOP_LEVEL]
    found += [(f"metadata.{name}", reader(meta, name, "metadata.")) for name in names]
    return _agree(names[0], found)


def _checked_metadata(body: dict[str, Any]) -> dict[str, Any]:
    unknown = sorted(set(body) - TOP_LEVEL)
    if unknown:
        raise _bad(unknown[0], msg.FORM_NOT_A_FIELD())
    meta = body.get("metadata")
    meta = {} if meta is None else meta
    if not isinstance(meta, dict):
        raise _bad("metadata", msg.FORM_OBJECT())
    unknown = sorted(set(meta) - METADATA)
    if unknown:
        supported = ", ".join(sorted(METADATA))
        raise _bad(f"metadata.{unknown[0]}", msg.FORM_METADATA_UNSUPPORTED(supported=supported))
    _unsupported(body)
    return meta


def _frame_shape(
    body: dict[str, Any], meta: dict[str, Any], sized: Sized | None
) -> tuple[Given, Given]:
    """(aspect_ratio, resolution), each with its field: an explicit one wins over a size's."""
    field, implied = sized or ("", ("16:9", "720p"))
    aspect = _both(_text, body, meta, "aspect_ratio") or (field or "aspect_ratio", implied[0])
    resolution = _both(_text, body, meta, "resolution") or (field or "resolution", implied[1])
    return aspect, resolution


def to_form(body: dict[str, Any]) -> VideoForm:
    """Reconcile a submit's fields (JSON, or multipart already decoded) into one create."""
    meta = _checked_metadata(body)
    sized = _frame_size(body, meta)
    callback_field, callback = _both(_text, body, meta, "callback_url", "notify_hook") or (
        "callback_url",
        None,
    )
    if callback is not None and not callback.startswith(("http://", "https://")):
        raise _bad(callback_field, msg.FORM_HTTP_URL())
    start, end, images = _keyframes(body, meta)
    prompt = _text(body, "prompt") or ""
    if not prompt and start is None:
        raise InvalidRequest(msg.PROMPT_OR_IMAGE(field="prompt"), field="prompt")
    expand = _value(_both(_flag, body, meta, "expand_prompt"))
    aspect, resolution = _frame_shape(body, meta, sized)
    duration = _both(_seconds, body, meta, "duration", "seconds") or ("duration", "5s")
    return VideoForm(
        prompt=prompt,
        model=video_model(_text(body, "model")),
        aspect_ratio=aspect[1],
        resolution=resolution[1],
        duration=duration[1],
        loop=bool(_value(_both(_flag, body, meta, "loop"))),
        expand_prompt=True if expand is None else bool(expand),
        start_image=start,
        end_image=end,
        callback_url=callback,
        fields=CreateFields(
            prompt="prompt",
            model="model",
            notify_url=callback_field,
            aspect_ratio=aspect[0],
            resolution=resolution[0],
            duration=duration[0],
            start_image=images[0],
            end_image=images[1],
        ),
    )


def _form_text(name: str, value: str) -> Any:
    """A multipart text field as the JSON value it stands for."""
    if name in ("metadata", "media") or (name == "images" and value.lstrip().startswith("[")):
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            raise _bad(name, msg.FORM_JSON_IN_MULTIPART()) from None
    if name in ("loop", "expand_prompt"):
        flag = BOOL_TEXT.get(value.strip().lower())
        if flag is None:
            raise _bad(name, msg.FORM_TRUE_FALSE())
        return flag
    if name in ("width", "height", "fps", "seed", "n"):
        try:
            return int(value)
        except ValueError:
            raise _bad(name, msg.FORM_INTEGER()) from None
    return value


async def read_multipart(request: Request, service: TaskService, limit: int) -> dict[str, Any]:
    """A multipart submit as the JSON body it stands for; image files are stored as uploads
    (``image``/``input_reference``: the start, ``images``: in order)."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(msg.BODY_TOO_LARGE(limit=limit))
    body: dict[str, Any] = {}
    images: list[str] = []
    try:
        async with request.form(max_files=2, max_fields=40) as form:
            for name, value in form.multi_items():
                if isinstance(value, UploadFile):
                    if name not in FILE_FIELDS:
                        raise _bad(name, msg.FORM_FILE_FIELDS())
                    ref = await service.upload_bytes(await value.read(limit + 1))
                    link = service.link(ref) or ""
                    if name in ("image", "input_reference"):
                        images.insert(0, link)
                    else:
                        images.append(link)
                elif name in ("images", "images[]") and not value.lstrip().startswith("["):
                    images.append(value)
                else:
                    body[name] = _form_text(name, value)
    except (MultiPartException, StarletteHTTPException) as exc:
        detail = exc.message if isinstance(exc, MultiPartException) else exc.detail
        raise InvalidRequest(msg.MALFORMED_MULTIPART(detail=detail)) from None
    if images:
        if body.get("image") or body.get("images"):
            raise InvalidRequest(msg.FORM_FILES_OR_FIELDS(), field="images")
        body["images"] = images
    return body


async def read_submit(request: Request, service: TaskService, limit: int) -> VideoForm:
    if request.headers.get("content-type", "").startswith("multipart/form-data"):
        return to_form(await read_multipart(request, service, limit))
    data = await read_json(request, limit)
    if not isinstance(data, dict):
        raise InvalidRequest(msg.BODY_NOT_OBJECT(), code="invalid_json")
    return to_form(data)
