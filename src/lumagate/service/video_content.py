"""The bytes of a finished task's video (or thumbnail), for dialects that serve content directly.

OpenAI's ``GET /v1/videos/{id}/content`` returns the mp4 itself rather than a link. The file is
either in the gateway's media store (served from disk with byte ranges, or streamed from object
storage) or only at the
upstream's URL, in which case it is streamed through without being buffered in memory.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx

from lumagate.domain.errors import GatewayError, InvalidRequest, MediaRemoved, NotReady
from lumagate.domain.request import is_media_ref, media_key
from lumagate.domain.states import TaskState
from lumagate.domain.task import MEDIA_REMOVED_REASON
from lumagate.domain.tenant import ApiKey
from lumagate.media.store import MediaNotFound, MediaUnavailable, content_type_for
from lumagate.service.tasks import TaskService

VARIANTS = ("video", "thumbnail")


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
            raise InvalidRequest(f"variant must be one of {', '.join(VARIANTS)}", field="variant")
        task = await self.tasks.get(tenant, task_id)
        if task.media_removed:
            raise MediaRemoved(task.failure_reason or MEDIA_REMOVED_REASON)
        if task.state != TaskState.COMPLETED or task.media is None:
            raise NotReady("The video is not ready yet: the task has not completed")
        ref = task.media.best_download if variant == "video" else task.media.thumbnail
        if ref is None:
            raise ContentUnavailable(f"This task has no {variant}")
        if is_media_ref(ref):
            if self.tasks.media.local is None:
                return await self._stored(media_key(ref), variant)
            return self._local(media_key(ref), variant)
        return await self._remote(ref, variant)

    async def _stored(self, key: str, variant: str) -> StoredContent:
        try:
            found = await self.tasks.media.stat(key)
        except MediaUnavailable:
            raise ContentUnavailable(f"The media store is unavailable for the {variant}") from None
        if found is None:
            raise ContentUnavailable(f"The {variant} file is missing")
        stream = self.tasks.media.backend.read_range(key, 0, found.size)
        return StoredContent(stream, found.content_type, found.size)

    def _local(self, key: str, variant: str) -> LocalContent:
        try:
            path = self.tasks.media.path_for(key)
        except MediaNotFound:
            raise ContentUnavailable(f"The {variant} file is missing") from None
        if not path.is_file():
            raise ContentUnavailable(f"The {variant} file is missing")
        with path.open("rb") as handle:
            head = handle.read(64)
        return LocalContent(path, content_type_for(path.name, head))

    async def _remote(self, url: str, variant: str) -> RemoteContent:
        fallback = "video/mp4" if variant == "video" else "image/jpeg"
        try:
            request = self.http.build_request("GET", url)
            response = await self.http.send(request, stream=True, follow_redirects=True)
        except httpx.HTTPError as exc:
            raise ContentUnavailable(f"Fetching the {variant} failed: {exc}") from None
        if not response.is_success:
            with contextlib.suppress(httpx.HTTPError):
                await response.aclose()
            raise ContentUnavailable(
                f"Fetching the {variant} failed: upstream answered HTTP {response.status_code}"
            )
        media_type = response.headers.get("content-type", "").split(";")[0].strip() or fallback
        return RemoteContent(response, media_type)
