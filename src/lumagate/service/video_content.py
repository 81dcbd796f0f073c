"""The bytes of a finished task's video (or thumbnail), for dialects that serve content directly.

OpenAI's ``GET /v1/videos/{id}/content`` returns the mp4 itself rather than a link. The file is
either in the gateway's media store (served from disk, with byte ranges) or only at the
upstream's URL, in which case it is streamed through without being buffered in memory.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx

from lumagate.domain import messages as msg
from lumagate.domain.errors import GatewayError, InvalidRequest, NotReady
from lumagate.domain.request import is_media_ref, media_key
from lumagate.domain.states import TaskState
from lumagate.domain.tenant import ApiKey
from lumagate.media.spritesheet import make_spritesheet
from lumagate.media.store import MediaNotFound, content_type_for
from lumagate.service.tasks import TaskService

VARIANTS = ("video", "thumbnail", "spritesheet")


class SpritesheetUnavailable(GatewayError):
    """A spritesheet is tiled from the stored MP4; a video only at the upstream has none."""

    status = 400
    code = "spritesheet_unavailable"


class ContentUnavailable(GatewayError):
    """The task completed but its file cannot be produced right now."""

    status = 502
    kind = "upstream_error"
    code = "content_unavailable"


@dataclass(frozen=True)
class LocalContent:
    path: Path
    media_type: str


@dataclass
class RemoteContent:
    """An open upstream response; iterate :meth:`chunks` once, then :meth:`close`."""

    response: httpx.Response
    media_type: str

    @property
    def length(self) -> str | None:
        value: str | None = self.response.headers.get("content-length")
        return value

    async def chunks(self) -> AsyncIterator[bytes]:
        async for chunk in self.response.aiter_bytes(64 * 1024):
            yield chunk

    async def close(self) -> None:
        await self.response.aclose()


class VideoContentService:
    def __init__(self, tasks: TaskService, http: httpx.AsyncClient) -> None:
        self.tasks = tasks
        self.http = http

    async def open(
        self, tenant: ApiKey, task_id: str, variant: str = "video"
    ) -> LocalContent | RemoteContent:
        if variant not in VARIANTS:
            raise InvalidRequest(
                msg.ONE_OF(field="variant", choices=", ".join(VARIANTS)), field="variant"
            )
        task = await self.tasks.get(tenant, task_id)
        if task.state != TaskState.COMPLETED or task.media is None:
            raise NotReady(msg.VIDEO_NOT_READY())
        ref = task.media.thumbnail if variant == "thumbnail" else task.media.best_download
        if ref is None:
            raise ContentUnavailable(msg.CONTENT_MISSING(variant=variant))
        if variant == "spritesheet":
            return await self._spritesheet(ref)
        if is_media_ref(ref):
            return self._local(media_key(ref), variant)
        return await self._remote(ref, variant)

    async def _spritesheet(self, video_ref: str) -> LocalContent:
        """Tiled from the stored MP4 on first request (media/spritesheet.py), then kept."""
        if not is_media_ref(video_ref):
            raise SpritesheetUnavailable(
                "variant=spritesheet is available only for videos this gateway stores; this "
                "video is served from the upstream: use variant=video or variant=thumbnail"
            )
        video = self._local(media_key(video_ref), "video").path
        try:
            path = await asyncio.to_thread(make_spritesheet, video)
        except (ValueError, OSError) as exc:
            raise ContentUnavailable(f"The spritesheet cannot be made: {exc}") from None
        return LocalContent(path, "image/jpeg")

    def _local(self, key: str, variant: str) -> LocalContent:
        try:
            path = self.tasks.media.path_for(key)
        except MediaNotFound:
            raise ContentUnavailable(msg.FILE_MISSING(variant=variant)) from None
        if not path.is_file():
            raise ContentUnavailable(msg.FILE_MISSING(variant=variant))
        with path.open("rb") as handle:
            head = handle.read(64)
        return LocalContent(path, content_type_for(path.name, head))

    async def _remote(self, url: str, variant: str) -> RemoteContent:
        fallback = "video/mp4" if variant == "video" else "image/jpeg"
        try:
            request = self.http.build_request("GET", url)
            response = await self.http.send(request, stream=True, follow_redirects=True)
        except httpx.HTTPError as exc:
            raise ContentUnavailable(msg.FETCH_FAILED(variant=variant, detail=exc)) from None
        if not response.is_success:
            with contextlib.suppress(httpx.HTTPError):
                await response.aclose()
            raise ContentUnavailable(
                f"Fetching the {variant} failed: upstream answered HTTP {response.status_code}"
            )
        media_type = response.headers.get("content-type", "").split(";")[0].strip() or fallback
        return RemoteContent(response, media_type)
