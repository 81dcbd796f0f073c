"""TaskCancels against a fake of its two task-store calls: who may cancel, what an ended task
answers, the retry from the state the engine moved the task to, and the hooks a cancel fires.
(The conditional writes on real databases: tests/integration/service/test_cancels.py.)"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

import pytest

from lumagate.domain.errors import TaskAlreadyEnded, TaskNotFound
from lumagate.domain.states import TaskState
from lumagate.domain.task import Task
from lumagate.service.cancels import ATTEMPTS, TaskCancels
from tests.support.tasks import chat_task


class FakeTasks:
    """One task, owned by ``k1``; ``moves`` are states the engine reaches before each write."""

    def __init__(self, task: Task, moves: list[TaskState] | None = None) -> None:
        self.task = task
        self.moves = list(moves or [])
        self.writes: list[tuple[TaskState, TaskState, dict[str, Any]]] = []

    async def get(self, task_id: str, tenant_id: str | None = None) -> Task | None:
        if task_id != self.task.id or tenant_id not in (None, self.task.tenant_id):
            return None
        return self.task

    async def transition(
        self, task: Task, target: TaskState, now: datetime, **values: Any
    ) -> Task | None:
        self.writes.append((task.state, target, values))
        if self.moves:  # the engine got there first: the row is no longer in the read state
            self.task = self.task.moved_to(self.moves.pop(0), now)
            return None
        assert task.state == self.task.state
        moved = task.moved_to(target, now)
        self.task = replace(moved, failure_reason=values.get("failure_reason"))
        return self.task

    def written(self) -> dict[str, Any]:
        """The values beside the state of the last write."""
        return self.writes[-1][2]


class Hooks:
    def __init__(self) -> None:
        self.ended: list[Task] = []
        self.upstream_wakeups = 0

    async def on_ended(self, task: Task) -> None:
        self.ended.append(task)

    def on_upstream_cancel(self) -> None:
        self.upstream_wakeups += 1


def _cancels(tasks: FakeTasks, hooks: Hooks) -> TaskCancels:
    return TaskCancels(tasks, on_ended=hooks.on_ended, on_upstream_cancel=hooks.on_upstream_cancel)


async def test_a_queued_task_is_cancelled_with_its_reason_and_its_event() -> None:
    tasks, hooks = FakeTasks(chat_task(TaskState.QUEUED)), Hooks()
    cancelled = await _cancels(tasks, hooks).cancel("t1", tenant_id="k1", reason="changed mind")
    assert cancelled.state == TaskState.CANCELLED
    assert cancelled.failure_reason == "changed mind"
    assert tasks.written()["next_poll_at"] is None
    assert hooks.ended == [cancelled]
    assert hooks.upstream_wakeups == 0  # the upstream never had it: nothing to cancel there


async def test_a_task_the_upstream_has_is_left_due_for_its_upstream_cancel() -> None:
    running = replace(chat_task(TaskState.PROCESSING), upstream_id="up-1", account_id="a")
    tasks, hooks = FakeTasks(running), Hooks()
    cancelled = await _cancels(tasks, hooks).cancel("t1", tenant_id=None, reason="operator")
    assert cancelled.state == TaskState.CANCELLED
    assert tasks.written()["next_poll_at"] is not None  # due now: the engine's cancel loop
    assert hooks.upstream_wakeups == 1 and hooks.ended == [cancelled]


async def test_another_tenants_task_is_not_found_and_left_alone() -> None:
    tasks, hooks = FakeTasks(chat_task(TaskState.QUEUED)), Hooks()
    with pytest.raises(TaskNotFound):
        await _cancels(tasks, hooks).cancel("t1", tenant_id="someone-else", reason="r")
    with pytest.raises(TaskNotFound):
        await _cancels(tasks, hooks).cancel("t2", tenant_id="k1", reason="r")
    assert tasks.writes == [] and hooks.ended == []


async def test_an_ended_task_answers_already_ended_with_its_state() -> None:
    tasks, hooks = FakeTasks(chat_task(TaskState.COMPLETED, 100)), Hooks()
    with pytest.raises(TaskAlreadyEnded) as ended:
        await _cancels(tasks, hooks).cancel("t1", tenant_id="k1", reason="r")
    assert "completed" in str(ended.value)
    assert tasks.writes == [] and hooks.ended == []


async def test_a_task_the_engine_moved_is_cancelled_from_its_new_state() -> None:
    tasks = FakeTasks(chat_task(TaskState.QUEUED), moves=[TaskState.SUBMITTING])
    hooks = Hooks()
    cancelled = await _cancels(tasks, hooks).cancel("t1", tenant_id="k1", reason="r")
    assert cancelled.state == TaskState.CANCELLED
    assert [(read, target) for read, target, _ in tasks.writes] == [
        (TaskState.QUEUED, TaskState.CANCELLED),
        (TaskState.SUBMITTING, TaskState.CANCELLED),
    ]
    assert hooks.ended == [cancelled]


async def test_a_task_that_ends_meanwhile_is_not_cancelled() -> None:
    tasks = FakeTasks(chat_task(TaskState.PROCESSING), moves=[TaskState.COMPLETED])
    hooks = Hooks()
    with pytest.raises(TaskAlreadyEnded):
        await _cancels(tasks, hooks).cancel("t1", tenant_id="k1", reason="r")
    assert tasks.task.state == TaskState.COMPLETED and hooks.ended == []


class RestlessTasks(FakeTasks):
    """A row that has always moved by the time the cancel writes (and never ends)."""

    async def transition(
        self, task: Task, target: TaskState, now: datetime, **values: Any
    ) -> Task | None:
        self.writes.append((task.state, target, values))
        return None


async def test_a_task_that_keeps_changing_gives_up_after_its_attempts() -> None:
    tasks, hooks = RestlessTasks(chat_task(TaskState.PROCESSING)), Hooks()
    with pytest.raises(TaskAlreadyEnded):
        await _cancels(tasks, hooks).cancel("t1", tenant_id="k1", reason="r")
    assert len(tasks.writes) == ATTEMPTS and hooks.ended == []


async def test_without_hooks_a_cancel_still_ends_the_task() -> None:
    running = replace(chat_task(TaskState.PROCESSING), upstream_id="up-1")
    tasks = FakeTasks(running)
    cancelled = await TaskCancels(tasks).cancel("t1", tenant_id="k1", reason="r")
    assert cancelled.state == TaskState.CANCELLED and tasks.task is cancelled
