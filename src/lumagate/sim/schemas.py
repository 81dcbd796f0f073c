"""Request bodies the sim accepts, validated the way the real upstreams validate them.

A body that fails here is answered 400 with a readable ``detail`` (see ``app.py``), like Luma
does; checks that need the world (does that generation id exist for this key?) live in routes.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from lumagate.domain.video import ASPECT_RATIOS, DURATIONS, RESOLUTIONS

MIN_PROMPT = 3
MAX_PROMPT = 5000


def _check_aspect_ratio(value: str) -> str:
    if value not in ASPECT_RATIOS:
        raise ValueError(f"aspect_ratio must be one of {', '.join(ASPECT_RATIOS)}")
    return value


def _check_http_url(value: str) -> str:
    if not value.startswith(("http://", "https://")):
        raise ValueError("image url must be a public http(s) URL")
    return value


class ImageKeyframe(BaseModel):
    type: Literal["image"]
    url: str

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        return _check_http_url(value)


class GenerationKeyframe(BaseModel):
    type: Literal["generation"]
    id: str = Field(min_length=1)


Keyframe = Annotated[ImageKeyframe | GenerationKeyframe, Field(discriminator="type")]


class Keyframes(BaseModel):
    model_config = ConfigDict(extra="forbid")

    frame0: Keyframe | None = None
    frame1: Keyframe | None = None

    def generation_ids(self) -> list[str]:
        return [
            frame.id
            for frame in (self.frame0, self.frame1)
            if isinstance(frame, GenerationKeyframe)
        ]

    def image_urls(self) -> list[str]:
        return [
            frame.url for frame in (self.frame0, self.frame1) if isinstance(frame, ImageKeyframe)
        ]


class OfficialCreate(BaseModel):
    """``POST /dream-machine/v1/generations[/video]``."""

    model_config = ConfigDict(extra="allow")

    model: Literal["ray-2", "ray-flash-2", "ray-1-6"]
    prompt: str | None = Field(default=None, max_length=MAX_PROMPT)
    generation_type: Literal["video"] | None = None
    aspect_ratio: str = "16:9"
    loop: bool = False
    resolution: str = "720p"
    duration: str = "5s"
    keyframes: Keyframes | None = None
    callback_url: str | None = None
    concepts: list[dict[str, Any]] | None = None

    @field_validator("aspect_ratio")
    @classmethod
    def _aspect(cls, value: str) -> str:
        return _check_aspect_ratio(value)

    @field_validator("resolution", "duration")
    @classmethod
    def _one_of(cls, value: str, info: ValidationInfo) -> str:
        choices = RESOLUTIONS if info.field_name == "resolution" else DURATIONS
        if value not in choices:
            raise ValueError(f"{info.field_name} must be one of {', '.join(choices)}")
        return value

    @field_validator("callback_url")
    @classmethod
    def _callback(cls, value: str | None) -> str | None:
        return None if value is None else _check_http_url(value)

    @model_validator(mode="after")
    def _prompt_or_keyframes(self) -> OfficialCreate:
        has_frames = self.keyframes is not None and (
            self.keyframes.frame0 is not None or self.keyframes.frame1 is not None
        )
        if not has_frames and len((self.prompt or "").strip()) < MIN_PROMPT:
            raise ValueError(
                f"prompt must be {MIN_PROMPT}-{MAX_PROMPT} characters unless keyframes are given"
            )
        return self


class WebCreate(BaseModel):
    """``POST /api/photon/v1/generations/`` and ``…/{id}/extend``."""

    model_config = ConfigDict(extra="allow")

    user_prompt: str = Field(default="", max_length=MAX_PROMPT)
    aspect_ratio: str | None = None
    expand_prompt: bool = False
    loop: bool = False
    image_url: str | None = None
    image_end_url: str | None = None

    @field_validator("aspect_ratio")
    @classmethod
    def _aspect(cls, value: str | None) -> str | None:
        return None if value is None else _check_aspect_ratio(value)

    @field_validator("image_url", "image_end_url")
    @classmethod
    def _images(cls, value: str | None) -> str | None:
        return None if not value else _check_http_url(value)

    def image_urls(self) -> list[str]:
        return [url for url in (self.image_url, self.image_end_url) if url]


class ExpireSession(BaseModel):
    """``POST /_sim/sessions/expire``."""

    credential: str = Field(min_length=1)
    token: str | None = Field(
        default=None, description="Kill only this token of the identity (e.g. a rotated-out one)."
    )


class MediaSwitch(BaseModel):
    """``POST /_sim/media``: serve media (``ok``), answer 503 (``unavailable``) or 404
    (``gone``), or hold every download halfway until the next switch (``stall``)."""

    mode: Literal["ok", "unavailable", "gone", "stall"]
