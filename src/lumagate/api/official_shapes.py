"""Shapes of the official Luma Dream Machine API (CONTRACT §3): request bodies and Generation.

Kept apart from the routes so the JSON the official ``lumaai`` SDK parses
(``lumaai.types.Generation``) is written in one place: ``state`` is
``queued|dreaming|completed|failed``, ``assets`` holds ``video``/``image``/``progress_video``,
and ``request`` echoes the generation request (``generation_type: "video"``, keyframes,
``callback_url``, concepts).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictStr

from lumagate.domain.clock import iso_z
from lumagate.domain.states import TaskState
from lumagate.domain.task import Task, shows_reason
from lumagate.service.tasks import TaskService

OFFICIAL_STATE: dict[TaskState, str] = {
    TaskState.QUEUED: "queued",
    TaskState.SUBMITTING: "queued",
    TaskState.SUBMITTED: "queued",
    TaskState.PROCESSING: "dreaming",
    TaskState.COMPLETED: "completed",
    TaskState.FAILED: "failed",
}

# What ``GET /generations/concepts/list`` answers: Luma's camera-concept keys.
CONCEPT_KEYS: tuple[str, ...] = (
    "aerial",
    "aerial_drone",
    "bolt_cam",
    "crane_down",
    "crane_up",
    "dolly_zoom",
    "elevator_doors",
    "eye_level",
    "ground_level",
    "handheld",
    "high_angle",
    "low_angle",
    "orbit_left",
    "orbit_right",
    "over_the_shoulder",
    "overhead",
    "pan_left",
    "pan_right",
    "pedestal_down",
    "pedestal_up",
    "pov",
    "pull_out",
    "push_in",
    "roll_left",
    "roll_right",
    "selfie",
    "static",
    "tilt_down",
    "tilt_up",
    "tiny_planet",
    "truck_left",
    "truck_right",
    "zoom_in",
    "zoom_out",
)

# What ``GET /generations/camera_motion/list`` answers: phrases to put in a prompt.
CAMERA_MOTIONS: tuple[str, ...] = (
    "Static",
    "Move Left",
    "Move Right",
    "Move Up",
    "Move Down",
    "Push In",
    "Pull Out",
    "Zoom In",
    "Zoom Out",
    "Pan Left",
    "Pan Right",
    "Orbit Left",
    "Orbit Right",
    "Crane Up",
    "Crane Down",
)

MIN_PROMPT = 3
MAX_PROMPT = 5000


class ImageKeyframe(BaseModel):
    model_config = ConfigDict(extra="ignore")
    type: Literal["image"]
    url: StrictStr


class GenerationKeyframe(BaseModel):
    model_config = ConfigDict(extra="ignore")
    type: Literal["generation"]
    id: StrictStr


Keyframe = Annotated[ImageKeyframe | GenerationKeyframe, Field(discriminator="type")]


class Keyframes(BaseModel):
    model_config = ConfigDict(extra="ignore")
    frame0: Keyframe | None = None
    frame1: Keyframe | None = None


class Concept(BaseModel):
    model_config = ConfigDict(extra="ignore")
    key: StrictStr


class OfficialCreateBody(BaseModel):
    """``POST /dream-machine/v1/generations[/video]``. Enumerations are checked here (a wrong
    value is a 422 listing the field, as Luma answers); rules across fields are checked by the
    route with Luma's own messages."""

    model_config = ConfigDict(extra="ignore")

    generation_type: StrictStr | None = Field(default=None, examples=["video"])
    prompt: StrictStr | None = Field(default=None, examples=["A tiger walking in snow"])
    model: Literal["ray-2", "ray-flash-2", "ray-1-6"] | None = Field(
        default=None, description="Default: the gateway's default model (ray-2)."
    )
    aspect_ratio: Literal["1:1", "16:9", "9:16", "4:3", "3:4", "21:9", "9:21"] | None = None
    loop: StrictBool | None = None
    resolution: Literal["540p", "720p", "1080p", "4k"] | None = None
    duration: Literal["5s", "9s"] | None = None
    keyframes: Keyframes | None = None
    callback_url: StrictStr | None = None
    concepts: list[Concept] | None = None


CREATE_EXAMPLE: dict[str, Any] = {
    "prompt": "A tiger walking in snow",
    "model": "ray-2",
    "aspect_ratio": "16:9",
    "resolution": "720p",
    "duration": "5s",
    "loop": False,
    "keyframes": {"frame0": {"type": "image", "url": "https://example.com/start.jpg"}},
    "callback_url": "https://example.com/luma-callback",
}

GENERATION_EXAMPLE: dict[str, Any] = {
    "id": "4665a07c-7641-4809-a133-10786201bb56",
    "generation_type": "video",
    "state": "completed",
    "failure_reason": None,
    "created_at": "2024-12-22T13:38:40.139409Z",
    "assets": {
        "video": "http://127.0.0.1:8000/files/videos/…/video.mp4",
        "image": "http://127.0.0.1:8000/files/videos/…/thumbnail.jpg",
        "progress_video": None,
    },
    "model": "ray-2",
    "request": {
        "generation_type": "video",
        "prompt": "A tiger walking in snow",
        "model": "ray-2",
        "aspect_ratio": "16:9",
        "loop": False,
        "resolution": "720p",
        "duration": "5s",
    },
}


def _keyframes_echo(task: Task, service: TaskService) -> dict[str, Any] | None:
    """The keyframes as far as the task model keeps them (see docs/dialects.md)."""
    frames: dict[str, Any] = {}
    request = task.request
    if request.extend_of:
        frames["frame0"] = {"type": "generation", "id": request.extend_of}
    elif request.start_image:
        frames["frame0"] = {"type": "image", "url": service.link(request.start_image)}
    if request.end_image:
        frames["frame1"] = {"type": "image", "url": service.link(request.end_image)}
    return frames or None


def official_generation(task: Task, service: TaskService) -> dict[str, Any]:
    """The Generation object of the official API for any task, whatever dialect created it."""
    media = task.media if task.state == TaskState.COMPLETED else None
    request = task.request
    echo: dict[str, Any] = {
        "generation_type": "video",
        "prompt": request.prompt,
        "model": request.model,
        "aspect_ratio": request.aspect_ratio,
        "loop": request.loop,
        "resolution": request.resolution,
        "duration": request.duration,
    }
    keyframes = _keyframes_echo(task, service)
    if keyframes:
        echo["keyframes"] = keyframes
    if task.notify_url:
        echo["callback_url"] = task.notify_url
    if request.concepts:
        echo["concepts"] = [{"key": key} for key in request.concepts]
    return {
        "id": task.id,
        "generation_type": "video",
        "state": OFFICIAL_STATE[task.state],
        "failure_reason": task.failure_reason if shows_reason(task) else None,
        "created_at": iso_z(task.created_at),
        "assets": {
            "video": service.link(media.best_download) if media else None,
            "image": service.link(media.thumbnail) if media else None,
            "progress_video": None,
        },
        "model": request.model,
        "request": echo,
    }
