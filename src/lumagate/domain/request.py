"""The one generation request every dialect translates into, and its asset references.

Images and produced media are referenced by :class:`AssetRef`: either an absolute http(s) URL
held by someone else, or a key of a file in the gateway's own media store (``media:<key>``).
Keys are turned into public URLs only when a response is written, so changing
``LUMAGATE_PUBLIC_URL`` never invalidates stored tasks.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

MEDIA_SCHEME = "media:"


def media_ref(key: str) -> str:
    return MEDIA_SCHEME + key


def is_media_ref(ref: str) -> bool:
    return ref.startswith(MEDIA_SCHEME)


def media_key(ref: str) -> str:
    if not is_media_ref(ref):
        raise ValueError(f"{ref!r} is not a media reference")
    return ref[len(MEDIA_SCHEME) :]


class GenerationRequest(BaseModel):
    """What to generate, independent of the dialect that asked for it.

    ``start_image``/``end_image`` are asset references (URL or ``media:`` key). For an extend,
    ``extend_of`` is the gateway id of the source task.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    prompt: str = ""
    aspect_ratio: str = "16:9"
    loop: bool = False
    expand_prompt: bool = True
    model: str = "ray-2"
    resolution: str = "720p"
    duration: str = "5s"
    start_image: str | None = None
    end_image: str | None = None
    extend_of: str | None = None
    concepts: tuple[str, ...] = ()
    dropped_fields: tuple[str, ...] = Field(
        default=(), description="Fields the upstream could not honour (recorded, not silent)."
    )
    requested: dict[str, str | bool] = Field(
        default_factory=dict,
        description="What the caller asked where the gateway degraded to what can be delivered.",
    )

    def public_view(self) -> dict[str, Any]:
        """The ``request`` object echoed in responses; ``dropped_fields`` and ``requested`` are
        added when the upstream could not honour everything (docs/dialects.md)."""
        view: dict[str, Any] = {
            "prompt": self.prompt,
            "aspect_ratio": self.aspect_ratio,
            "loop": self.loop,
            "expand_prompt": self.expand_prompt,
            "model": self.model,
            "resolution": self.resolution,
            "duration": self.duration,
        }
        if self.dropped_fields:
            view["dropped_fields"] = list(self.dropped_fields)
        if self.requested:
            view["requested"] = dict(self.requested)
        return view
