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
from lumagate.service.tasks import TaskService
from lumagate.service.video_content import (
    ContentUnavailable,
    SpritesheetUnavailable,
    VideoContentService,
)
from tests.unit.media.test_spritesheet import grey_clip

NOW = datetime(2026, 12, 1, tzinfo=UTC)


class _Media:
    def __init__(self, root: Path) -> None:
        self.root = root

    def path_for(self, key: str) -> Path:
        return self.root / key


class _Tasks:
    """What VideoContentService uses of TaskService: ``get`` and ``media.path_for``."""

    def __init__(self, root: Path, task: Task) -> None:
        self.media = _Media(root)
        self.task = task

    async def get(self, tenant: Any, task_id: str) -> Task:
        return self.task


def _task(video: str, state: TaskState = TaskState.COMPLETED) -> Task:
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


async def _open(tmp_path: Path, task: Task, variant: str) -> Any:
    async with httpx.AsyncClient() as http:
        service = VideoContentService(cast(TaskService, _Tasks(tmp_path, task)), http)
        return await service.open(cast(ApiKey, None), task.id, variant)


async def test_a_stored_video_gives_a_spritesheet_beside_it(tmp_path: Path) -> None:
    (tmp_path / "videos" / "a").mkdir(parents=True)
    grey_clip(tmp_path / "videos" / "a" / "video.mp4")
    content = await _open(tmp_path, _task("media:videos/a/video.mp4"), "spritesheet")
    assert content.media_type == "image/jpeg"
    assert content.path == tmp_path / "videos" / "a" / "spritesheet.jpg" and content.path.is_file()


async def test_refusals_name_what_is_missing(tmp_path: Path) -> None:
    with pytest.raises(SpritesheetUnavailable) as remote:
        await _open(tmp_path, _task("https://cdn.example/v.mp4"), "spritesheet")
    assert remote.value.status == 400 and "variant=video" in remote.value.message
    with pytest.raises(ContentUnavailable):  # stored, but the file is gone
        await _open(tmp_path, _task("media:videos/gone/video.mp4"), "spritesheet")
    with pytest.raises(NotReady):
        await _open(tmp_path, _task("", TaskState.PROCESSING), "spritesheet")
    with pytest.raises(InvalidRequest) as bad:
        await _open(tmp_path, _task("media:videos/a/video.mp4"), "gif")
    assert bad.value.field == "variant"
