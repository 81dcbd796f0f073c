"""TaskBodies: a task is rendered by the renderer of the dialect it was submitted in."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from lumagate.domain.channels import Channel
from lumagate.domain.request import GenerationRequest
from lumagate.domain.states import TaskState
from lumagate.domain.task import Task
from lumagate.service.task_bodies import TaskBodies, neutral_body
from lumagate.service.tasks import TaskService


def _task(dialect: str) -> Task:
    return Task(
        id="6f1c4a2e-0000-4000-8000-000000000001",
        tenant_id="tenant",
        channel=Channel.DEFAULT,
        dialect=dialect,
        state=TaskState.COMPLETED,
        request=GenerationRequest(prompt="a fox"),
        created_at=datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
        updated_at=datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
    )


class _Service:
    """Stands in for the TaskService a renderer receives (identity is all that is checked)."""


async def test_each_dialect_renders_its_own_tasks_with_the_given_service() -> None:
    seen: list[tuple[str, object]] = []

    def renderer(name: str) -> Any:
        async def render(task: Task, service: TaskService) -> Any:
            seen.append((name, service))
            return {"by": name, "id": task.id}

        return render

    service = _Service()
    bodies = TaskBodies({"a": renderer("a"), "b": renderer("b")}, service)  # type: ignore[arg-type]
    assert bodies.dialects == frozenset({"a", "b"})
    assert await bodies.render(_task("b")) == {"by": "b", "id": _task("b").id}
    assert await bodies.render(_task("a")) == {"by": "a", "id": _task("a").id}
    assert seen == [("b", service), ("a", service)]


async def test_a_dialect_without_a_renderer_gets_the_neutral_body() -> None:
    bodies = TaskBodies({}, _Service())  # type: ignore[arg-type]
    task = _task("chat")
    body = await bodies.render(task)
    assert body == neutral_body(task)
    assert body["state"] == "completed"
    assert body["request"]["prompt"] == "a fox"


async def test_renderers_given_to_one_instance_do_not_leak_into_another() -> None:
    async def render(task: Task, service: TaskService) -> Any:
        return "custom"

    first = TaskBodies({"x": render}, _Service())  # type: ignore[arg-type]
    second = TaskBodies({}, _Service())  # type: ignore[arg-type]
    assert await first.render(_task("x")) == "custom"
    assert await second.render(_task("x")) == neutral_body(_task("x"))
