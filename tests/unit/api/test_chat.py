"""The chat dialect: the prompt and images of a conversation; the stream's pacing and clean-up."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator

import pytest

from lumagate.api.chat import ChatMessage, _paced, _prompt_and_images
from lumagate.domain.errors import InvalidRequest
from lumagate.domain.states import TaskState
from lumagate.domain.task import Task
from tests.support.tasks import chat_task
from tests.support.waiting import async_wait_until


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


async def test_paced_heartbeats_times_out_and_closes_the_source() -> None:
    closed: list[bool] = []

    async def never_ends() -> AsyncGenerator[Task, None]:
        try:
            yield chat_task(TaskState.QUEUED)
            await asyncio.sleep(3600)
            yield chat_task(TaskState.COMPLETED)
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
        yield chat_task(TaskState.QUEUED)
        yield chat_task(TaskState.COMPLETED)

    loop = asyncio.get_running_loop()
    got = [i async for i in _paced(two(), loop.time() + 5, beat=1)]
    assert [t.state for t in got if t] == [TaskState.QUEUED, TaskState.COMPLETED]

    closed: list[bool] = []

    started: list[bool] = []

    async def slow() -> AsyncGenerator[Task, None]:
        try:
            started.append(True)
            await asyncio.sleep(3600)
            yield chat_task(TaskState.QUEUED)
        finally:
            closed.append(True)

    async def consume() -> None:
        async for _ in _paced(slow(), loop.time() + 60, beat=30):
            pass

    consumer = asyncio.create_task(consume())
    await async_wait_until(lambda: started, "the source started", timeout=10)
    consumer.cancel()  # what a client disconnect does to the stream
    with pytest.raises(asyncio.CancelledError):
        await consumer
    assert closed == [True]
