"""A finished task's video as bytes: from the media store (with its real type) or streamed
from the upstream's URL; every way it can be missing is a clear error, never a 500."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from lumagate.domain.clock import utcnow
from lumagate.domain.errors import InvalidRequest, NotReady, TaskNotFound
from lumagate.domain.request import media_ref
from lumagate.domain.states import TaskState
from lumagate.domain.task import Task, TaskMedia
from lumagate.domain.tenant import ApiKey
from lumagate.media.store import MediaStore
from lumagate.service.tasks import TaskService
from lumagate.service.video_content import (
    ContentUnavailable,
    LocalContent,
    RemoteContent,
    VideoContentService,
)
from lumagate.wiring.stores import Stores
from tests.support.stores import stored_task

MP4_HEAD = b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2mp41" + b"\x00" * 64
REMOTE = "https://cdn.example/v.mp4"


def _upstream(request: httpx.Request) -> httpx.Response:
    if request.url.path == "/v.mp4":
        return httpx.Response(200, content=MP4_HEAD, headers={"content-type": "video/mp4"})
    return httpx.Response(404)


@pytest.fixture
async def content(stores: Stores, tmp_path: Path) -> AsyncIterator[VideoContentService]:
    media = MediaStore(tmp_path / "media", "http://127.0.0.1:8000")
    tasks = TaskService(
        stores.tasks,
        stores.accounts,
        media,
        transactions=stores.transactions,
        default_model="ray-2",
        max_image_bytes=1_000_000,
    )
    async with httpx.AsyncClient(transport=httpx.MockTransport(_upstream)) as http:
        yield VideoContentService(tasks, http)


async def _finished(
    stores: Stores, video: str, thumbnail: str | None = None
) -> tuple[ApiKey, Task]:
    key, _ = await stores.keys.create("t", utcnow())
    task = await stored_task(stores, key.id, TaskState.PROCESSING)
    media = TaskMedia(video=video, width=1280, height=720, thumbnail=thumbnail)
    done = await stores.tasks.transition(task, TaskState.COMPLETED, utcnow(), media=media)
    assert done is not None
    return key, done


async def test_a_stored_video_is_served_from_disk_with_its_type(
    content: VideoContentService, stores: Stores
) -> None:
    stored = content.tasks.media.save_bytes(MP4_HEAD, "videos", ".mp4")
    key, task = await _finished(stores, media_ref(stored))
    opened = await content.open(key, task.id)
    assert isinstance(opened, LocalContent)
    assert opened.path.read_bytes() == MP4_HEAD and opened.media_type == "video/mp4"


async def test_an_upstream_video_is_streamed(content: VideoContentService, stores: Stores) -> None:
    key, task = await _finished(stores, REMOTE)
    opened = await content.open(key, task.id)
    assert isinstance(opened, RemoteContent) and opened.media_type == "video/mp4"
    try:
        assert b"".join([chunk async for chunk in opened.chunks()]) == MP4_HEAD
    finally:
        await opened.close()


@pytest.mark.parametrize(
    ("video", "variant", "error", "says"),
    [
        ("https://cdn.example/gone.mp4", "video", ContentUnavailable, "HTTP 404"),
        (media_ref("videos/missing.mp4"), "video", ContentUnavailable, "missing"),
        (REMOTE, "thumbnail", ContentUnavailable, "no thumbnail"),
        (REMOTE, "audio", InvalidRequest, "variant"),
    ],
    ids=["upstream-404", "file-missing", "no-thumbnail", "bad-variant"],
)
async def test_what_cannot_be_served_says_why(
    content: VideoContentService,
    stores: Stores,
    video: str,
    variant: str,
    error: type[Exception],
    says: str,
) -> None:
    key, task = await _finished(stores, video)
    with pytest.raises(error, match=says):
        await content.open(key, task.id, variant)


async def test_an_unfinished_or_foreign_task_has_no_content(
    content: VideoContentService, stores: Stores
) -> None:
    key, _ = await stores.keys.create("t", utcnow())
    other, _ = await stores.keys.create("other", utcnow())
    running = await stored_task(stores, key.id, TaskState.PROCESSING)
    with pytest.raises(NotReady):
        await content.open(key, running.id)
    with pytest.raises(TaskNotFound):
        await content.open(other, running.id)
