"""Pure parts of the dialect modules: sizes, model names, chat prompts, Luma's rules, and the
stream follower's pacing and clean-up (no server)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest

from lumagate.api.chat import ChatMessage, _paced, _prompt_and_images
from lumagate.api.dialect_common import parse_size, size_to_video, video_model
from lumagate.api.official import _check_rules
from lumagate.api.official_shapes import OfficialCreateBody
from lumagate.api.openai_videos import _duration
from lumagate.domain.channels import Channel
from lumagate.domain.errors import InvalidRequest, TaskNotFound
from lumagate.domain.request import GenerationRequest
from lumagate.domain.states import TaskState
from lumagate.domain.task import Task
from lumagate.engine.events import TaskEvents
from lumagate.service.watch import TaskWatcher


@pytest.mark.parametrize(
    ("size", "expected"),
    [
        ("1280x720", ("16:9", "720p")),
        ("720x1280", ("9:16", "720p")),
        ("540x540", ("1:1", "540p")),
        ("1920x1080", ("16:9", "1080p")),
        ("1024x768", ("4:3", "720p")),
        ("2560x1080", ("21:9", "1080p")),
        ("3840*2160", ("16:9", "4k")),
    ],
)
def test_parse_size(size: str, expected: tuple[str, str]) -> None:
    assert parse_size(size) == expected


@pytest.mark.parametrize("size", ["big", "1280", "0x720", "-5x5", "axb"])
def test_parse_size_rejects(size: str) -> None:
    with pytest.raises(InvalidRequest):
        parse_size(size)


def test_size_to_video_rejects_zero() -> None:
    with pytest.raises(InvalidRequest):
        size_to_video(0, 10)


def test_video_model_aliases() -> None:
    assert video_model("luma") is None
    assert video_model("luma-video-ray2-flash") == "ray-flash-2"
    assert video_model("ray-2") == "ray-2"
    assert video_model("  ") is None


def test_openai_seconds() -> None:
    assert _duration(None) == "5s"
    assert _duration("4") == "5s"
    assert _duration(8) == "9s"
    assert _duration("12s") == "9s"
    for bad in ("long", "0", "-3", "nan"):
        with pytest.raises(InvalidRequest):
            _duration(bad)


def test_chat_prompt_is_the_last_user_message() -> None:
    messages = [
        ChatMessage(role="user", content="old prompt"),
        ChatMessage(role="assistant", content="ok"),
        ChatMessage(
            role="user",
            content=[
                {"type": "text", "text": " a boat "},
                {"type": "image_url", "image_url": {"url": "https://x/start.png"}},
                {"type": "image_url", "image_url": "https://x/end.png"},
                {"type": "input_audio"},
            ],
        ),
    ]
    assert _prompt_and_images(messages) == ("a boat", ["https://x/start.png", "https://x/end.png"])
    assert _prompt_and_images([ChatMessage(role="user", content=" hi ")]) == ("hi", [])
    with pytest.raises(InvalidRequest):
        _prompt_and_images([ChatMessage(role="system", content="x")])
    three = [{"type": "image_url", "image_url": {"url": f"https://x/{i}"}} for i in range(3)]
    with pytest.raises(InvalidRequest):
        _prompt_and_images([ChatMessage(role="user", content=three)])


def _rules(**body: Any) -> str:
    return _check_rules(OfficialCreateBody.model_validate(body))


def test_official_rules() -> None:
    image = {"type": "image", "url": "https://x/a.png"}
    assert _rules(prompt="  a cat  ") == "a cat"
    assert _rules(keyframes={"frame0": image}) == ""  # a start frame needs no prompt
    for body, message in [
        ({}, "Prompt is required"),
        ({"prompt": "ab"}, "Prompt is too short, minimum length is 3 characters"),
        ({"prompt": "abc", "keyframes": {}}, "No keyframes provided"),
        ({"prompt": "abc", "loop": True, "keyframes": {"frame1": image}}, "Loop is not supported"),
        ({"prompt": "abc", "generation_type": "add_audio"}, "not supported by this gateway"),
    ]:
        with pytest.raises(InvalidRequest, match=message):
            _rules(**body)


# -- following a task -------------------------------------------------------------------------
NOW = datetime(2024, 1, 1, tzinfo=UTC)


def _task(state: TaskState, progress: int = 0) -> Task:
    return Task(
        id="t1",
        tenant_id="k1",
        channel=Channel.DEFAULT,
        dialect="chat",
        request=GenerationRequest(prompt="x"),
        state=state,
        created_at=NOW,
        updated_at=NOW,
        progress=progress,
    )


class FakeTasks:
    """Stands in for TaskService.get: returns whatever ``current`` is."""

    def __init__(self, task: Task) -> None:
        self.current = task
        self.reads = 0

    async def get(self, tenant: Any, task_id: str) -> Task:
        self.reads += 1
        if task_id != self.current.id:
            raise TaskNotFound("Task not found")
        return self.current


async def test_watcher_follows_events_and_progress_then_unsubscribes() -> None:
    events = TaskEvents()
    tasks = FakeTasks(_task(TaskState.QUEUED))
    watcher = TaskWatcher(tasks, events, poll_seconds=0.05)  # type: ignore[arg-type]
    seen: list[tuple[TaskState, int]] = []

    async def drive() -> None:
        await asyncio.sleep(0.02)
        tasks.current = _task(TaskState.PROCESSING, 10)
        await events.publish(tasks.current)
        await asyncio.sleep(0.1)
        tasks.current = _task(TaskState.PROCESSING, 60)  # progress: no event, found by a read
        await asyncio.sleep(0.1)
        tasks.current = replace(_task(TaskState.COMPLETED, 100))
        await events.publish(tasks.current)

    driver = asyncio.create_task(drive())
    async for task in watcher.follow(object(), "t1"):  # type: ignore[arg-type]
        seen.append((task.state, task.progress))
    await driver
    assert seen == [
        (TaskState.QUEUED, 0),
        (TaskState.PROCESSING, 10),
        (TaskState.PROCESSING, 60),
        (TaskState.COMPLETED, 100),
    ]
    assert events._queues == {}


async def test_unknown_task_raises_and_unsubscribes() -> None:
    events = TaskEvents()
    watcher = TaskWatcher(FakeTasks(_task(TaskState.QUEUED)), events)  # type: ignore[arg-type]
    with pytest.raises(TaskNotFound):
        async for _ in watcher.follow(object(), "other"):  # type: ignore[arg-type]
            pass
    assert events._queues == {}


async def test_paced_heartbeats_times_out_and_closes_the_source() -> None:
    closed: list[bool] = []

    async def never_ends() -> AsyncGenerator[Task, None]:
        try:
            yield _task(TaskState.QUEUED)
            await asyncio.sleep(3600)
            yield _task(TaskState.COMPLETED)
        finally:
            closed.append(True)

    loop = asyncio.get_running_loop()
    items: list[Task | None] = []
    with pytest.raises(TimeoutError):
        async for item in _paced(never_ends(), loop.time() + 0.35, beat=0.1):
            items.append(item)
    assert isinstance(items[0], Task) and items[1:] and all(i is None for i in items[1:])
    assert closed == [True]


async def test_paced_stops_with_its_source_and_on_cancel() -> None:
    async def two() -> AsyncGenerator[Task, None]:
        yield _task(TaskState.QUEUED)
        yield _task(TaskState.COMPLETED)

    loop = asyncio.get_running_loop()
    got = [i async for i in _paced(two(), loop.time() + 5, beat=1)]
    assert [t.state for t in got if t] == [TaskState.QUEUED, TaskState.COMPLETED]

    closed: list[bool] = []

    async def slow() -> AsyncGenerator[Task, None]:
        try:
            await asyncio.sleep(3600)
            yield _task(TaskState.QUEUED)
        finally:
            closed.append(True)

    async def consume() -> None:
        async for _ in _paced(slow(), loop.time() + 60, beat=30):
            pass

    consumer = asyncio.create_task(consume())
    await asyncio.sleep(0.05)
    consumer.cancel()  # what a client disconnect does to the stream
    with pytest.raises(asyncio.CancelledError):
        await consumer
    assert closed == [True]
