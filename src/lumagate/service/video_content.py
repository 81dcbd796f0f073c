"""The bytes of a finished task's video (or thumbnail), for dialects that serve content directly.

OpenAI's ``GET /v1/videos/{id}/content`` returns the mp4 itself rather than a link. The file is
either in the gateway's media store (served from disk with byte ranges, or streamed from object
storage) or only at the
upstream's URL, in which case it is streamed through without being buffered in memory.
"""

from __future__ import annotations

import asyncio
import contextlib
import posixpath
import tempfile
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx

from lumagate.domain import messages as msg
from lumagate.domain.errors import GatewayError, InvalidRequest, NotReady, media_removed
from lumagate.domain.request import is_media_ref, media_key
from lumagate.domain.states import TaskState
from lumagate.domain.tenant import ApiKey
from lumagate.media.store import MediaNotFound, MediaUnavailable, content_type_for
from lumagate.service.tasks import TaskService

VARIANTS = ("video", "thumbnail", "spritesheet")
SPRITESHEET_NAME = "spritesheet.jpg"  # media/spritesheet.py's FILE_NAME (a test keeps them equal)


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
class StoredContent:
    """A file in object storage, streamed; iterate :meth:`chunks` once, then :meth:`close`."""

    stream: AsyncIterator[bytes]
    media_type: str
    size: int

    @property
    def length(self) -> str | None:
        return str(self.size)

    async def chunks(self) -> AsyncIterator[bytes]:
        async for chunk in self.stream:
            yield chunk

    async def close(self) -> None:
        return None


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
    ) -> LocalContent | StoredContent | RemoteContent:
        if variant not in VARIANTS:
            raise InvalidRequest(
                msg.ONE_OF(field="variant", choices=", ".join(VARIANTS)), field="variant"
            )
        task = await self.tasks.get(tenant, task_id)
        if task.media_removed:
            raise media_removed(task.failure_reason)
        if task.state != TaskState.COMPLETED or task.media is None:
            raise NotReady(msg.VIDEO_NOT_READY())
        ref = task.media.thumbnail if variant == "thumbnail" else task.media.best_download
        if ref is None:
            raise ContentUnavailable(msg.CONTENT_MISSING(variant=variant))
        if variant == "spritesheet":
            return await self._spritesheet(ref)
        if is_media_ref(ref):
            if self.tasks.media.local is None:
                return await self._stored(media_key(ref), variant)
            return self._local(media_key(ref), variant)
        return await self._remote(ref, variant)

    async def _spritesheet(self, video_ref: str) -> LocalContent | StoredContent:
        """Tiled from the stored MP4 on first request (media/spritesheet.py), then kept beside
        it: on the data dir next to the file, in object storage as an object of its own."""
        if not is_media_ref(video_ref):
            raise SpritesheetUnavailable(msg.SPRITESHEET_UPSTREAM_ONLY())
        key = media_key(video_ref)
        if self.tasks.media.local is not None:
            video = self._local(key, "video").path
            return LocalContent(await self._tile(video, None), "image/jpeg")
        sheet_key = posixpath.join(posixpath.dirname(key), SPRITESHEET_NAME)
        try:
            kept = await self.tasks.media.stat(sheet_key)
            if kept is None:
                await self._tile_stored(key, sheet_key)
        except MediaUnavailable:
            raise ContentUnavailable(msg.MEDIA_STORE_UNAVAILABLE(variant="spritesheet")) from None
        return await self._stored(sheet_key, "spritesheet")

    async def _tile_stored(self, key: str, sheet_key: str) -> None:
        """Copies the video from object storage to a scratch folder, tiles it, stores the sheet."""
        with tempfile.TemporaryDirectory(prefix="lumagate-sheet-") as folder:
            video = Path(folder) / "video.mp4"
            with video.open("wb") as handle:
                async for chunk in self._stored_chunks(key):
                    handle.write(chunk)
            sheet = await self._tile(video, Path(folder) / SPRITESHEET_NAME)
            await self.tasks.media.put_file(sheet_key, sheet, "image/jpeg")

    async def _stored_chunks(self, key: str) -> AsyncIterator[bytes]:
        content = await self._stored(key, "video")
        async for chunk in content.chunks():
            yield chunk

    @staticmethod
    async def _tile(video: Path, target: Path | None) -> Path:
        # PyAV and Pillow (~40 MiB) load on the first spritesheet, not with the app.
        from lumagate.media.spritesheet import make_spritesheet

        try:
            return await asyncio.to_thread(make_spritesheet, video, target)
        except (ValueError, OSError) as exc:
            raise ContentUnavailable(msg.SPRITESHEET_FAILED(detail=exc)) from None

    async def _stored(self, key: str, variant: str) -> StoredContent:
        try:
            found = await self.tasks.media.stat(key)
        except MediaUnavailable:
            raise ContentUnavailable(msg.MEDIA_STORE_UNAVAILABLE(variant=variant)) from None
        if found is None:
            raise ContentUnavailable(msg.FILE_MISSING(variant=variant))
        stream = self.tasks.media.backend.read_range(key, 0, found.size)
        return StoredContent(stream, found.content_type, found.size)

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
                msg.UPSTREAM_FILE_STATUS(variant=variant, status=response.status_code)
            )
        media_type = response.headers.get("content-type", "").split(";")[0].strip() or fallback
        return RemoteContent(response, media_type)
