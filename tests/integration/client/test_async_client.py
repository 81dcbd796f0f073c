"""``AsyncLumagateClient`` against a real gateway over loopback: every method and the errors."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from lumagate.client import (
    AsyncLumagateClient,
    AuthenticationError,
    GatewayUnreachableError,
    Generation,
    NotFoundError,
    NotReadyError,
    QuotaExceededError,
    RateLimitError,
    TaskFailedError,
    ValidationError,
)
from tests.integration.client.conftest import SMALL, ClientTarget
from tests.support.acceptance import decode_mp4, end_picture, png_bytes, start_picture

pytestmark = pytest.mark.slow
WAIT = {"poll_interval": 0.2, "timeout": 120.0}


async def test_create_wait_download_extend(target: ClientTarget, tmp_path: Path) -> None:
    seen: list[Generation] = []
    async with AsyncLumagateClient(target.url, target.key) as client:
        task = await client.create("a red fox running", aspect_ratio="9:16", resolution="540p")
        done = await client.wait(task, on_progress=seen.append, **WAIT)
        saved = await client.download(done, tmp_path / "fox.mp4")
        extended = await client.extend(done.id, "the fox jumps")
        extended_done = await client.wait(extended, **WAIT)
        url = await client.download_url(extended_done)
    assert done.completed and seen[-1].stage == "completed" and seen[-1].progress == 100
    video = decode_mp4(saved.read_bytes())
    assert (video.width, video.height) == (540, 960) and video.frames > 0
    assert extended.id != task.id and extended_done.completed and url.endswith(".mp4")


async def test_get_status_list_usage(target: ClientTarget) -> None:
    async with AsyncLumagateClient(target.url, target.key) as client:
        before = (await client.usage()).consumed
        first = await client.create("async list one", **SMALL)
        second = await client.create("async list two", **SMALL)
        got = await client.get(first)
        status = await client.status(second.id)
        newest = await client.list(limit=2)
        after = await client.usage()
    assert got.id == first.id and got.prompt == "async list one"
    assert status.id == second.id and status.stage in {"queued", "submitted", "processing"}
    assert [g.id for g in newest] == [second.id, first.id]
    assert after.consumed == before + 2


async def test_images_as_path_bytes_and_url(target: ClientTarget, tmp_path: Path) -> None:
    start = tmp_path / "start.png"
    start.write_bytes(png_bytes(start_picture()))
    async with AsyncLumagateClient(target.url, target.key) as client:
        uploaded = await client.upload(start)
        task = await client.create(
            "a door opening",
            image=uploaded.public_url,
            end_image=png_bytes(end_picture()),
            **SMALL,
        )
        done = await client.wait(task, **WAIT)
    assert uploaded.public_url.startswith(target.url + "/files/") and done.completed


async def test_errors_are_typed(target: ClientTarget) -> None:
    async with AsyncLumagateClient(target.url, "sk-lg-wrong") as client:
        with pytest.raises(AuthenticationError):
            await client.list()
    async with AsyncLumagateClient(target.url, target.key) as client:
        with pytest.raises(NotFoundError):
            await client.get(str(uuid.uuid4()))
        with pytest.raises(ValidationError):
            await client.create("a fox", duration="7s")
        with pytest.raises(NotReadyError):
            await client.download_url(await client.create("not done yet", **SMALL))
        with pytest.raises(TaskFailedError):
            await client.wait(await client.create("async [[fail]]"), **WAIT)
    async with AsyncLumagateClient(target.url, target.broke_key) as client:
        with pytest.raises(QuotaExceededError):
            await client.create("no credits")
    async with AsyncLumagateClient(target.url, target.slow_key) as client:
        await client.create("first this minute", **SMALL)
        with pytest.raises(RateLimitError) as limited:
            await client.create("second this minute")
    assert limited.value.retry_after is not None and limited.value.retry_after > 0
    async with AsyncLumagateClient(target.closed_url, target.key) as client:
        with pytest.raises(GatewayUnreachableError):
            await client.usage()
