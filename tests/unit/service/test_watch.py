"""TaskWatcher: following a task through its events and reads, and unsubscribing."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from typing import Any

import pytest

from lumagate.domain.errors import TaskNotFound
from lumagate.domain.states import TaskState
from lumagate.domain.task import Task
from lumagate.engine.events import TaskEvents
from lumagate.service.watch import TaskWatcher
from tests.support.tasks import chat_task
from tests.support.waiting import async_wait_until


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
    tasks = FakeTasks(chat_task(TaskState.QUEUED))
    watcher = TaskWatcher(tasks, events, poll_seconds=0.05)  # type: ignore[arg-type]
    seen: list[tuple[TaskState, int]] = []

    async def drive() -> None:
        await async_wait_until(lambda: len(seen) == 1, "the first read", timeout=10)
        tasks.current = chat_task(TaskState.PROCESSING, 10)
        await events.publish(tasks.current)
        await async_wait_until(lambda: len(seen) == 2, "the event followed", timeout=10)
        tasks.current = chat_task(TaskState.PROCESSING, 60)  # progress: no event, found by a read
        await async_wait_until(lambda: len(seen) == 3, "the progress read", timeout=10)
        tasks.current = replace(chat_task(TaskState.COMPLETED, 100))
        await events.publish(tasks.current)

    driver = asyncio.create_task(drive())
    async with asyncio.timeout(30):  # a watcher that stops following fails, not hangs
        async for task in watcher.follow(object(), "t1"):  # type: ignore[arg-type]
            seen.append((task.state, task.progress))
            if driver.done():
                driver.result()  # a failed wait in the driver ends the test here
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
    watcher = TaskWatcher(FakeTasks(chat_task(TaskState.QUEUED)), events)  # type: ignore[arg-type]
    with pytest.raises(TaskNotFound):
        async for _ in watcher.follow(object(), "other"):  # type: ignore[arg-type]
            pass
    assert events._queues == {}
