"""The spritesheet variant: tiled from a stored MP4, refused clearly for an upstream-only one."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

import httpx
import pytest

from lumagate.domain.channels import Channel
from lumagate.domain.errors import InvalidRequest, NotReady
from lumagate.domain.request import GenerationRequest
from lumagate.domain.states import TaskState
from lumagate.domain.task import Task, TaskMedia
from lumagate.domain.tenant import ApiKey
from lumagate.media.store import MediaStore
from lumagate.service.tasks import TaskService
from lumagate.service.video_content import (
    ContentUnavailable,
    SpritesheetUnavailable,
    VideoContentService,
)
from tests.unit.media.test_spritesheet import grey_clip

NOW = datetime(2026, 12, 1, tzinfo=UTC)


class _Tasks:
    """What VideoContentService uses of TaskService: ``get`` and ``media`` (a real store)."""

    def __init__(self, media: MediaStore, task: Task) -> None:
        self.media = media
        self.task = task

    async def get(self, tenant: Any, task_id: str) -> Task:
        return self.task


def stored_task(video: str, state: TaskState = TaskState.COMPLETED) -> Task:
    media = TaskMedia(video=video, width=64, height=36) if state == TaskState.COMPLETED else None
    return Task(
        id="t-1",
        tenant_id="k-1",
        channel=Channel.DEFAULT,
        dialect="openai_videos",
        request=GenerationRequest(prompt="p"),
        state=state,
        created_at=NOW,
        updated_at=NOW,
        media=media,
    )


async def open_content(media: MediaStore, task: Task, variant: str) -> Any:
    """``VideoContentService.open`` for ``task`` over ``media``."""
    async with httpx.AsyncClient() as http:
        service = VideoContentService(cast(TaskService, _Tasks(media, task)), http)
        return await service.open(cast(ApiKey, None), task.id, variant)


async def _open(tmp_path: Path, task: Task, variant: str) -> Any:
    return await open_content(MediaStore(tmp_path, "http://gateway.test"), task, variant)


async def test_a_stored_video_gives_a_spritesheet_beside_it(tmp_path: Path) -> None:
    (tmp_path / "videos" / "a").mkdir(parents=True)
    grey_clip(tmp_path / "videos" / "a" / "video.mp4")
    content = await _open(tmp_path, stored_task("media:videos/a/video.mp4"), "spritesheet")
    assert content.media_type == "image/jpeg"
    assert content.path == tmp_path / "videos" / "a" / "spritesheet.jpg" and content.path.is_file()


async def test_refusals_name_what_is_missing(tmp_path: Path) -> None:
    with pytest.raises(SpritesheetUnavailable) as remote:
        await _open(tmp_path, stored_task("https://cdn.example/v.mp4"), "spritesheet")
    assert remote.value.status == 400 and "variant=video" in remote.value.message
    with pytest.raises(ContentUnavailable):  # stored, but the file is gone
        await _open(tmp_path, stored_task("media:videos/gone/video.mp4"), "spritesheet")
    with pytest.raises(NotReady):
        await _open(tmp_path, stored_task("", TaskState.PROCESSING), "spritesheet")
    with pytest.raises(InvalidRequest) as bad:
        await _open(tmp_path, stored_task("media:videos/a/video.mp4"), "gif")
    assert bad.value.field == "variant"


def test_the_spritesheet_name_is_the_one_the_tiler_writes() -> None:
    from lumagate.media.spritesheet import FILE_NAME
    from lumagate.service.video_content import SPRITESHEET_NAME

    assert SPRITESHEET_NAME == FILE_NAME
