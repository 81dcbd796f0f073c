"""Which JSON a task is in the dialect it was submitted in: a registry dialects register into.

Callbacks (CONTRACT §6) carry the task exactly as the GET of the submitting dialect returns it.
The engine must not know dialects, so each dialect module registers its renderer here under the
name it stores in ``Task.dialect`` (``register_task_renderer("reseller", flat_generation)``).
A dialect that registered nothing gets a small neutral body instead of an error.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from lumagate.domain.clock import iso_z
from lumagate.domain.task import Task
from lumagate.service.tasks import TaskService

TaskRenderer = Callable[[Task, TaskService], Awaitable[Any]]

_renderers: dict[str, TaskRenderer] = {}


def register_task_renderer(dialect: str, renderer: TaskRenderer) -> None:
    """Register (or replace) how tasks submitted in ``dialect`` are rendered."""
    _renderers[dialect] = renderer


def renderer_for(dialect: str) -> TaskRenderer | None:
    return _renderers.get(dialect)


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


async def render_task(task: Task, service: TaskService) -> Any:
    renderer = renderer_for(task.dialect)
    if renderer is None:
        return neutral_body(task)
    return await renderer(task, service)
