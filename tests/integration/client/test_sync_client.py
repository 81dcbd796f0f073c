"""``LumagateClient`` against a real gateway over loopback: every method and every error."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from lumagate.client import (
    AuthenticationError,
    GatewayUnreachableError,
    Generation,
    LumagateClient,
    NotFoundError,
    NotReadyError,
    QuotaExceededError,
    RateLimitError,
    TaskFailedError,
    ValidationError,
    WaitTimeoutError,
)
from tests.integration.client.conftest import SMALL, ClientTarget
from tests.support.acceptance import decode_mp4, end_picture, png_bytes, start_picture

pytestmark = pytest.mark.slow
WAIT = {"poll_interval": 0.2, "timeout": 120.0}


def test_create_wait_download_decodes(target: ClientTarget, tmp_path: Path) -> None:
    seen: list[Generation] = []
    with LumagateClient(target.url, target.key) as client:
        task = client.create("a red fox running", aspect_ratio="1:1", resolution="540p")
        assert task.state == "pending" and task.stage == "queued"
        done = client.wait(task, on_progress=seen.append, **WAIT)
        saved = client.download(done, tmp_path / "fox.mp4")
    assert done.id == task.id and done.completed and done.download_url
    assert seen[-1].stage == "completed" and seen[-1].progress == 100
    assert all(g.id == task.id for g in seen)
    percents = [g.progress for g in seen if g.progress is not None]
    assert percents == sorted(percents), "progress never goes back"
    video = decode_mp4(saved.read_bytes())
    assert (video.width, video.height) == (540, 540) and video.frames > 0
    assert not list(tmp_path.glob("*.part")), "no partial file left behind"


def test_get_returns_the_same_task(target: ClientTarget) -> None:
    with LumagateClient(target.url, target.key) as client:
        task = client.create("a heron standing still", duration="5s", **SMALL)
        got = client.get(task.id)
        status = client.status(task)
    assert got.id == status.id == task.id
    assert got.prompt == "a heron standing still"
    assert status.stage in {"queued", "submitted", "processing", "completed"}


def test_images_as_path_bytes_and_url(target: ClientTarget, tmp_path: Path) -> None:
    start = tmp_path / "start.png"
    start.write_bytes(png_bytes(start_picture()))
    end_bytes = png_bytes(end_picture())
    with LumagateClient(target.url, target.key) as client:
        uploaded = client.upload(end_bytes)
        from_path = client.create("", image=start, end_image=end_bytes, **SMALL)
        from_str_path = client.create("", image=str(start), **SMALL)
        from_url = client.create("a door opening", image=uploaded.public_url, **SMALL)
        for task in (from_path, from_str_path, from_url):
            done = client.wait(task, **WAIT)
            assert done.completed
    assert uploaded.public_url.startswith(target.url + "/files/")
    request = from_path.raw["request"]
    assert request["prompt"] == ""


def test_extend_continues_a_completed_task(target: ClientTarget) -> None:
    with LumagateClient(target.url, target.key) as client:
        source = client.wait(client.create("a river at dawn", **SMALL), **WAIT)
        extended = client.extend(source, "the sun rises higher")
        done = client.wait(extended, **WAIT)
    assert extended.id != source.id
    assert done.completed and done.prompt == "the sun rises higher"


def test_list_is_newest_first_and_pages(target: ClientTarget) -> None:
    with LumagateClient(target.url, target.key) as client:
        first = client.create("list one", **SMALL)
        second = client.create("list two", **SMALL)
        newest = client.list(limit=2)
        after = client.list(offset=1, limit=1)
    assert [g.id for g in newest] == [second.id, first.id]
    assert [g.id for g in after] == [first.id]


def test_usage_counts_the_callers_generations(target: ClientTarget) -> None:
    with LumagateClient(target.url, target.broke_key) as client:
        usage = client.usage()
    assert usage.available == 0 and usage.consumed == 0
    assert usage.capacity == usage.consumed + usage.available
    with LumagateClient(target.url, target.key) as client:
        before = client.usage().consumed
        client.create("one more for usage", **SMALL)
        assert client.usage().consumed == before + 1


def test_errors_are_typed(target: ClientTarget) -> None:
    with LumagateClient(target.url, "sk-lg-wrong") as client, pytest.raises(AuthenticationError):
        client.get(str(uuid.uuid4()))
    with LumagateClient(target.url, target.key) as client:
        with pytest.raises(NotFoundError) as missing:
            client.get(str(uuid.uuid4()))
        assert missing.value.status == 404 and missing.value.code == "task_not_exist"
        with pytest.raises(NotFoundError):
            client.wait(str(uuid.uuid4()), **WAIT)
        with pytest.raises(ValidationError) as invalid:
            client.create("a fox", aspect_ratio="5:7")
        assert invalid.value.status == 400 and "aspect_ratio" in invalid.value.message
        pending = client.create("not yet done", **SMALL)
        with pytest.raises(NotReadyError):
            client.download_url(pending)
        with pytest.raises(WaitTimeoutError) as slow:
            slow_task = client.create("too slow to wait for", **SMALL)
            client.wait(slow_task, poll_interval=0.05, timeout=0.01)
        assert slow.value.generation.state in {"pending", "processing"}
        with pytest.raises(TaskFailedError) as failed:
            client.wait(client.create("this one [[fail]]s"), **WAIT)
        assert failed.value.generation.state == "failed"
        assert failed.value.generation.failure_reason


def test_quota_and_rate_limit(target: ClientTarget) -> None:
    with (
        LumagateClient(target.url, target.broke_key) as client,
        pytest.raises(QuotaExceededError) as quota,
    ):
        client.create("no credits left")
    assert quota.value.status == 403 and quota.value.code == "quota_not_enough"
    with LumagateClient(target.url, target.slow_key) as client:
        client.create("first within the minute", **SMALL)
        with pytest.raises(RateLimitError) as limited:
            client.create("second within the minute")
    assert limited.value.status == 429
    assert limited.value.retry_after is not None and limited.value.retry_after > 0


def test_unreachable_gateway(target: ClientTarget) -> None:
    with (
        LumagateClient(target.closed_url, target.key) as client,
        pytest.raises(GatewayUnreachableError) as error,
    ):
        client.usage()
    assert error.value.status == 0 and "cannot reach the gateway" in error.value.message


def test_unknown_channel_is_refused_before_sending(target: ClientTarget) -> None:
    with pytest.raises(ValidationError):
        LumagateClient(target.url, target.key, channel="gold")
