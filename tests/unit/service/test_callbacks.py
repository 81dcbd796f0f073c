"""CallbackRecorder: one stored delivery per callback event of a task that asked for them,
the body rendered once in the task's dialect, lost final events found again, and the log."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from lumagate.domain.clock import utcnow
from lumagate.domain.states import TaskState
from lumagate.domain.task import Task, TaskMedia
from lumagate.media.store import MediaStore
from lumagate.service.callbacks import CallbackRecorder
from lumagate.service.task_bodies import TaskBodies
from lumagate.service.tasks import TaskService
from lumagate.wiring.stores import Stores
from tests.support.stores import stored_task

HOOK = "https://client.example/hook"


async def _reseller_body(task: Task, service: TaskService) -> Any:
    return {"id": task.id, "state": task.state.value, "dialect": "reseller"}


@pytest.fixture
def created() -> list[str]:
    return []


@pytest.fixture
def recorder(stores: Stores, tmp_path: Path, created: list[str]) -> CallbackRecorder:
    tasks = TaskService(
        stores.tasks,
        stores.accounts,
        MediaStore(tmp_path / "media", "http://127.0.0.1:8000"),
        transactions=stores.transactions,
        default_model="ray-2",
        max_image_bytes=1_000_000,
    )
    bodies = TaskBodies({"reseller": _reseller_body}, tasks)
    return CallbackRecorder(
        stores.deliveries,
        tasks,
        bodies,
        max_age=timedelta(days=1),
        on_created=lambda: created.append("sender woken"),
    )


async def _task(stores: Stores, state: TaskState, notify_url: str | None = HOOK) -> Task:
    key, _ = await stores.keys.create("t", utcnow())
    task = await stored_task(stores, key.id, TaskState.PROCESSING, notify_url=notify_url)
    if state == TaskState.PROCESSING:
        return task
    media = TaskMedia(video="https://cdn.example/v.mp4", width=1, height=1)
    values: dict[str, Any] = {"media": media} if state == TaskState.COMPLETED else {}
    moved = await stores.tasks.transition(task, state, utcnow(), **values)
    assert moved is not None
    return moved


async def test_each_event_is_stored_once_with_the_dialect_body(
    recorder: CallbackRecorder, stores: Stores, created: list[str]
) -> None:
    task = await _task(stores, TaskState.COMPLETED)
    await recorder.on_task_changed(task)
    await recorder.on_task_changed(task)  # the same event again
    log = await recorder.log(task.id)
    assert len(log) == 1 and log[0]["event"] == "completed" and log[0]["url"] == HOOK
    assert log[0]["state"] == "pending" and log[0]["log"] == []
    stored = await stores.deliveries.for_task(task.id)
    assert json.loads(stored[0][0].body) == {
        "id": task.id,
        "state": "completed",
        "dialect": "reseller",
    }
    assert created == ["sender woken"]


async def test_tasks_without_a_url_or_events_without_a_callback_store_nothing(
    recorder: CallbackRecorder, stores: Stores
) -> None:
    silent = await _task(stores, TaskState.COMPLETED, notify_url=None)
    await recorder.on_task_changed(silent)
    assert await recorder.log(silent.id) == []
    key, _ = await stores.keys.create("q", utcnow())
    queued = await stored_task(stores, key.id, notify_url=HOOK)
    await recorder.on_task_changed(queued)  # queued is no callback event
    assert await recorder.log(queued.id) == []


async def test_a_final_event_lost_to_a_crash_is_recorded_by_the_sweep(
    recorder: CallbackRecorder, stores: Stores
) -> None:
    task = await _task(stores, TaskState.FAILED)  # its listener never ran
    assert await recorder.record_missed() == 1
    assert [d["event"] for d in await recorder.log(task.id)] == ["failed"]
    assert await recorder.record_missed() == 0
