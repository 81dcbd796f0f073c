"""new-api's Go types as strict Pydantic models, field for field, to decode our answers with.

new-api (QuantumNous/new-api) decodes the gateway's JSON into Go structs; a field of the wrong
JSON type there is ``json: cannot unmarshal string into Go struct field … of type int64``.
These models declare the same fields with the same types (``strict=True``: no string for an
int; ``extra="forbid"``: nothing the struct does not declare, so a renamed field shows up).
Go types map as: ``int64``/``int`` -> :data:`Int64`, ``string`` -> ``str``,
``json.RawMessage``/``any`` -> ``Any`` (any JSON), a pointer -> ``X | None`` (Go reads ``null``
as the zero value, so ``completed_at: null`` decodes too). A field Go declares that we do not
send decodes as its zero value there, so it has a default here. Field lists as declared in
new-api's ``dto/task.go`` (``TaskDto``, ``TaskResponse``, ``TaskError``), ``dto/video.go``
(``VideoResponse``) and ``dto/openai_video.go`` (``OpenAIVideo``, ``OpenAIVideoError``).
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

Int64 = Annotated[int, Field(ge=-(2**63), le=2**63 - 1)]


class GoStruct(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class TaskDto(GoStruct):
    """``dto.TaskDto``; ``result_url`` is ``omitempty`` in Go, so it may be absent."""

    id: Int64
    task_id: str
    platform: str
    user_id: Int64
    action: str
    status: str
    fail_reason: str
    result_url: str = ""
    submit_time: Int64
    start_time: Int64
    finish_time: Int64
    progress: str
    created_at: Int64
    updated_at: Int64
    data: Any
    group: str = ""
    channel_id: Int64 = 0
    quota: Int64 = 0
    properties: Any = None
    username: str = ""


class TaskResponse(GoStruct):
    """``GET /v1/video/generations/{id}``: ``{code, message, data}``."""

    code: str
    message: str
    data: TaskDto


class SubmitResponse(GoStruct):
    """What new-api reads from ``POST /v1/video/generations``: the task id and its status."""

    task_id: str
    status: str


class VideoError(GoStruct):
    code: str
    message: str


class OpenAIVideo(BaseModel):
    """``dto.OpenAIVideo``, which new-api's OpenAI-video relay reads (top-level ``status``).

    Strict types, but fields Go does not declare are ignored as Go's decoder ignores them: the
    OpenAI SDK needs ``prompt``, which new-api's struct lacks.
    """

    model_config = ConfigDict(extra="ignore", strict=True)

    id: str
    task_id: str = ""
    object: str
    model: str
    status: str
    progress: Int64
    created_at: Int64
    completed_at: Int64 | None
    expires_at: Int64 | None
    seconds: str
    size: str
    remixed_from_video_id: str | None
    error: VideoError | None
    metadata: dict[str, Any] | None = None


class OpenAIVideoList(GoStruct):
    object: str
    data: list[OpenAIVideo]
    first_id: str | None
    last_id: str | None
    has_more: bool


class TaskError(GoStruct):
    """new-api's ``TaskError`` JSON: ``{code, message, data}``."""

    code: str
    message: str
    data: Any
