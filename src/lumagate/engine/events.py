"""In-process task events: who wants to hear that a task changed (streams, callbacks, tests)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from lumagate.domain.task import Task

TaskListener = Callable[[Task], Awaitable[None]]


class TaskEvents:
    """Fan-out of task changes. Listener errors are contained; a slow queue drops old events."""

    def __init__(self) -> None:
        self._listeners: list[TaskListener] = []
        self._queues: dict[str, set[asyncio.Queue[Task]]] = {}

    def add_listener(self, listener: TaskListener) -> None:
        self._listeners.append(listener)

    def subscribe(self, task_id: str) -> asyncio.Queue[Task]:
        queue: asyncio.Queue[Task] = asyncio.Queue(maxsize=64)
        self._queues.setdefault(task_id, set()).add(queue)
        return queue

    def unsubscribe(self, task_id: str, queue: asyncio.Queue[Task]) -> None:
        queues = self._queues.get(task_id)
        if queues is not None:
            queues.discard(queue)
            if not queues:
                del self._queues[task_id]

    async def publish(self, task: Task) -> None:
        for queue in self._queues.get(task.id, ()):
            if queue.full():
                queue.get_nowait()
            queue.put_nowait(task)
        for listener in self._listeners:
            try:
                await listener(task)
            except Exception:  # a listener must never break the engine
                logging.getLogger(__name__).exception("task listener failed for %s", task.id)
