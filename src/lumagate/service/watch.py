"""Following one task until it ends, for dialects that hold a connection open (chat streams).

State changes arrive as task events (anything with ``subscribe``/``unsubscribe``: in the server
the engine's ``TaskEvents``, passed in by the composition root), so a follower wakes up when
something happens instead of polling the database in a loop. Progress changes are not
published as events, so while nothing arrives the follower re-reads the task once per
``poll_seconds`` (one indexed read per open stream and interval).

Following never affects the task: a client that goes away only stops its own follower.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator
from typing import Protocol

from lumagate.domain.task import Task
from lumagate.domain.tenant import ApiKey
from lumagate.service.tasks import TaskService


class TaskUpdates(Protocol):
    """Where a follower hears that a task changed (the engine's ``TaskEvents``)."""

    def subscribe(self, task_id: str) -> asyncio.Queue[Task]: ...

    def unsubscribe(self, task_id: str, queue: asyncio.Queue[Task]) -> None: ...


class TaskWatcher:
    """Yields a tenant's task each time its state or progress changes, until it is terminal."""

    def __init__(self, tasks: TaskService, events: TaskUpdates, poll_seconds: float = 1.0) -> None:
        self.tasks = tasks
        self.events = events
        self.poll_seconds = poll_seconds

    async def follow(self, tenant: ApiKey, task_id: str) -> AsyncGenerator[Task, None]:
        """The task now, then every change. Raises TaskNotFound if it is not the tenant's."""
        queue = self.events.subscribe(task_id)
        try:
            # Subscribed before reading, so no change between the read and the wait is lost.
            task = await self.tasks.get(tenant, task_id)
            yield task
            while not task.is_terminal:
                try:
                    update = await asyncio.wait_for(queue.get(), self.poll_seconds)
                    if not update.is_terminal:
                        update = await self.tasks.get(tenant, task_id)
                except TimeoutError:
                    update = await self.tasks.get(tenant, task_id)
                if update.state != task.state or update.progress != task.progress:
                    yield update
                task = update
        finally:
            self.events.unsubscribe(task_id, queue)
