"""Reading the Luma web-app generation object, which both the web API and relays return.

The luma-web upstream and a relay (another reseller gateway) answer with the same "flat"
generation shape; both providers turn its media fields into :class:`TaskMedia` here, and
read the ``public_url`` their image uploads answer with.
"""

from __future__ import annotations

from typing import Any

from lumagate.domain.task import TaskMedia
from lumagate.providers.base import TransientError

DEFAULT_WIDTH = 1280
DEFAULT_HEIGHT = 720


def asset_url(value: Any) -> str | None:
    """A URL from a string or an ``{"url": …}`` object; None when absent or empty."""
    if isinstance(value, dict):
        value = value.get("url")
    return value if isinstance(value, str) and value else None


def upload_public_url(answer: Any, who: str) -> str:
    """The ``public_url`` of an image upload's answer; without one the upload is retried
    (:class:`TransientError` saying ``who`` gave none)."""
    url = asset_url(answer.get("public_url")) if isinstance(answer, dict) else None
    if url is None:
        raise TransientError(f"The {who} gave no public URL for the upload")
    return url


def flat_media(flat: dict[str, Any], *, download: str | None) -> TaskMedia | None:
    """The media of a completed flat generation; None while its video is not there yet."""
    video = flat.get("video")
    video_url = asset_url(video)
    if video_url is None or not isinstance(video, dict):
        return None
    return TaskMedia(
        video=video_url,
        width=int(video.get("width") or DEFAULT_WIDTH),
        height=int(video.get("height") or DEFAULT_HEIGHT),
        download=download or video_url,
        video_raw=asset_url(flat.get("video_raw")),
        thumbnail=asset_url(flat.get("thumbnail")) or asset_url(video.get("thumbnail")),
        last_frame=asset_url(flat.get("last_frame")),
    )
