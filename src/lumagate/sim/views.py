"""How a sim generation looks on the wire, in the official dialect and in the web-app dialect.

Keeping the JSON shapes apart from the routes means callbacks, GETs, lists and creates all
render the same object the same way. Sizes are reported for the requested aspect ratio and
resolution (the web app is treated as 720p), even though the served clip is smaller.
"""

from __future__ import annotations

import math
import uuid
from typing import Any

from lumagate.domain.video import frame_size
from lumagate.sim.media_links import MediaLinks
from lumagate.sim.world import Phase, SimGeneration

PLAIN_LINKS = MediaLinks()  # links that never expire (views rendered without a runtime)

WEB_STATES: dict[Phase, str] = {
    "queued": "pending",
    "dreaming": "processing",
    "completed": "completed",
    "failed": "failed",
}
WEB_QUEUE_STATES: dict[Phase, str | None] = {
    "queued": "waiting",
    "dreaming": "running",
    "completed": None,
    "failed": None,
}


def video_url(generation: SimGeneration, *, watermark: bool = False) -> str:
    url = f"{generation.base_url}/media/{generation.id}.mp4"
    return f"{url}?wm=1" if watermark else url


def progress_url(generation: SimGeneration) -> str:
    return f"{generation.base_url}/media/{generation.id}.mp4?progress=1"


def download_url(generation: SimGeneration, links: MediaLinks = PLAIN_LINKS) -> str:
    """The web app's watermark-free, presigned URL (expiring with ``--media-ttl-seconds``)."""
    return links.sign(f"{generation.base_url}/media/{generation.id}.mp4?download=1")


def thumbnail_url(generation: SimGeneration) -> str:
    return f"{generation.base_url}/media/{generation.id}.jpg"


def last_frame_url(generation: SimGeneration) -> str:
    return f"{generation.base_url}/media/{generation.id}-last.jpg"


def official_view(
    generation: SimGeneration, state: Phase | None = None, links: MediaLinks = PLAIN_LINKS
) -> dict[str, Any]:
    """The official Generation object; ``state`` renders an earlier state (for callbacks)."""
    shown: Phase = state or generation.state
    done = shown == "completed"
    sign = links.sign
    return {
        "id": generation.id,
        "generation_type": "video",
        "state": shown,
        "failure_reason": generation.failure_reason if shown == "failed" else None,
        "created_at": generation.created_at,
        "assets": {
            "video": sign(video_url(generation)) if done else None,
            "image": sign(thumbnail_url(generation)) if done else None,
            "progress_video": sign(progress_url(generation)) if shown == "dreaming" else None,
        },
        "model": generation.model,
        "request": {"generation_type": "video", **generation.request},
    }


def _sized(url: str, width: int, height: int) -> dict[str, Any]:
    return {"url": url, "width": width, "height": height}


def web_view(
    generation: SimGeneration,
    now: float,
    *,
    hide_video: bool = False,
    links: MediaLinks = PLAIN_LINKS,
) -> dict[str, Any]:
    """The web-app generation object; ``hide_video`` renders the ``video: null`` quirk."""
    sign = links.sign
    size = frame_size(generation.aspect_ratio, generation.resolution)
    done = generation.state == "completed"
    show_video = done and not hide_video
    video: dict[str, Any] | None = None
    video_raw: dict[str, Any] | None = None
    if show_video:
        video = {
            **_sized(sign(video_url(generation, watermark=True)), size.width, size.height),
            "thumbnail": sign(thumbnail_url(generation)),
        }
        video_raw = _sized(sign(video_url(generation)), size.width, size.height)
    return {
        "id": generation.id,
        "prompt": generation.prompt,
        "state": WEB_STATES[generation.state],
        "created_at": generation.created_at,
        "video": video,
        "video_raw": video_raw,
        "thumbnail": (
            _sized(sign(thumbnail_url(generation)), size.width, size.height) if done else None
        ),
        "last_frame": (
            _sized(sign(last_frame_url(generation)), size.width, size.height) if done else None
        ),
        "liked": None,
        "estimate_wait_seconds": (
            None if generation.terminal else math.ceil(generation.seconds_left(now))
        ),
        "batch_id": str(uuid.uuid5(uuid.NAMESPACE_URL, generation.id)),
        "queue_state": WEB_QUEUE_STATES[generation.state],
        "failure_reason": generation.failure_reason,
        "aspect_ratio": generation.aspect_ratio,
        "loop": generation.loop,
    }
