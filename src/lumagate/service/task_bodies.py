"""Which JSON a task is in the dialect it was submitted in, for callback bodies and /admin.

Callbacks (CONTRACT §6) carry the task exactly as the GET of the submitting dialect returns it.
The engine and the services must not know dialects, so the composition root builds one
:class:`TaskBodies` from the dialects' renderers (keyed by the name each stores in
``Task.dialect``) and passes it to what renders tasks. Nothing is registered globally: a
gateway built without the HTTP app sends the same bodies as one behind it. A dialect without
a renderer gets a small neutral body instead of an error.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from lumagate.domain.clock import iso_z
from lumagate.domain.task import Task
from lumagate.service.tasks import TaskService

TaskRenderer = Callable[[Task, TaskService], Awaitable[Any]]


def neutral_body(task: Task) -> dict[str, Any]:
    """The fallback body for a dialect without a renderer."""
    return {
        "id": task.id,
        "state": task.state.public,
        "created_at": iso_z(task.created_at),
        "failure_reason": task.failure_reason,
        "request": task.request.public_view(),
        "model": task.request.model,
    }


class TaskBodies:
    """The task renderers of every dialect, fixed when the gateway is built."""

    def __init__(self, renderers: Mapping[str, TaskRenderer], tasks: TaskService) -> None:
        self._renderers = dict(renderers)
        self._tasks = tasks

    @property
    def dialects(self) -> frozenset[str]:
        return frozenset(self._renderers)

    async def render(self, task: Task) -> Any:
        """The task as its submitting dialect's GET shows it (or the neutral body)."""
        renderer = self._renderers.get(task.dialect)
        if renderer is None:
            return neutral_body(task)
        return await renderer(task, self._tasks)
