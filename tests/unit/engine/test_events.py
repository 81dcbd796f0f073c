"""Task events: subscribers of a task get its changes, slow queues drop the oldest, a failing
listener does not stop the others."""

from __future__ import annotations

import dataclasses

import pytest

from lumagate.domain.states import TaskState
from lumagate.domain.task import Task
from lumagate.engine.events import TaskEvents
from tests.support.tasks import chat_task


async def test_subscribers_get_only_their_tasks_changes() -> None:
    events = TaskEvents()
    mine = events.subscribe("t1")
    other = events.subscribe("t2")
    await events.publish(chat_task(TaskState.PROCESSING, 40))
    assert mine.get_nowait().progress == 40
    assert other.empty()
    events.unsubscribe("t1", mine)
    await events.publish(chat_task(TaskState.COMPLETED, 100))
    assert mine.empty()


async def test_a_full_queue_drops_its_oldest_event() -> None:
    events = TaskEvents()
    queue = events.subscribe("t1")
    for progress in range(70):
        await events.publish(chat_task(TaskState.PROCESSING, progress))
    assert queue.qsize() == 64
    assert queue.get_nowait().progress == 6  # 0..5 dropped


async def test_a_failing_listener_is_logged_and_the_next_still_runs(
    caplog: pytest.LogCaptureFixture,
) -> None:
    events = TaskEvents()
    heard: list[Task] = []

    async def broken(task: Task) -> None:
        raise RuntimeError("boom")

    async def good(task: Task) -> None:
        heard.append(task)

    events.add_listener(broken)
    events.add_listener(good)
    task = dataclasses.replace(chat_task(TaskState.FAILED), id="t9")
    await events.publish(task)
    assert heard == [task]
    assert "task listener failed for t9" in caplog.text
