"""Callbacks on the service side: turn task state changes into stored deliveries, and show
a task's delivery log.

Listening to task events, :class:`CallbackRecorder` renders the task in the dialect it was
submitted in (with the :class:`~lumagate.service.task_bodies.TaskBodies` it is given) and
stores a delivery BEFORE anything is sent; the engine's sender
(:mod:`lumagate.engine.callback_sender`) does the sending. The body is rendered once, at the
event, so every attempt carries the same bytes.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from lumagate.domain.clock import iso_z, utcnow
from lumagate.domain.states import TaskState
from lumagate.domain.task import Task
from lumagate.service.task_bodies import TaskBodies
from lumagate.service.tasks import TaskService
from lumagate.service.watermark import Watermark
from lumagate.store.deliveries import AttemptRecord, Delivery, DeliveryStore

CALLBACK_EVENTS = frozenset(
    {TaskState.PROCESSING, TaskState.COMPLETED, TaskState.FAILED, TaskState.CANCELLED}
)


def encode_body(body: Any) -> str:
    return json.dumps(body, ensure_ascii=False, separators=(",", ":"))


SWEEP_BATCH = 200


class CallbackRecorder:
    """Stores one delivery per callback event of a task that asked for callbacks."""

    def __init__(
        self,
        deliveries: DeliveryStore,
        tasks: TaskService,
        bodies: TaskBodies,
        *,
        max_age: timedelta,
        on_created: Callable[[], None] | None = None,
    ) -> None:
        self.deliveries = deliveries
        self.tasks = tasks
        self.bodies = bodies
        self.max_age = max_age
        self.on_created = on_created
        self._swept = Watermark()

    async def on_task_changed(self, task: Task) -> None:
        """Task event listener."""
        if task.notify_url and task.state in CALLBACK_EVENTS:
            await self.record(task)

    async def record(self, task: Task) -> Delivery | None:
        if not task.notify_url:
            return None
        body = encode_body(await self.bodies.render(task))
        created = await self.deliveries.create(
            task_id=task.id,
            tenant_id=task.tenant_id,
            event=task.state.value,
            url=task.notify_url,
            body=body,
            now=utcnow(),
        )
        if created is not None and self.on_created is not None:
            self.on_created()
        return created

    async def record_missed(self) -> int:
        """Create final-state deliveries lost to a crash (tasks that ended within the window)."""
        started = utcnow()
        since = started - self.max_age
        if self._swept.since is not None:
            since = max(since, self._swept.since)
        found = await self.deliveries.missing_final(since, limit=SWEEP_BATCH)
        created = 0
        for task_id in found:
            task = await self.tasks.tasks.get(task_id)
            if task is not None and await self.record(task) is not None:
                created += 1
        if len(found) < SWEEP_BATCH:  # a full batch may have left some: look again from here
            self._swept.swept(started)
        return created

    async def log(self, task_id: str) -> list[dict[str, Any]]:
        """The delivery log of one task (the caller has already checked who may see it)."""
        return [delivery_view(d, a) for d, a in await self.deliveries.for_task(task_id)]


def _time(value: datetime | None) -> str | None:
    return iso_z(value)


def delivery_view(delivery: Delivery, attempts: list[AttemptRecord]) -> dict[str, Any]:
    return {
        "id": delivery.id,
        "task_id": delivery.task_id,
        "event": delivery.event,
        "url": delivery.url,
        "state": delivery.state.value,
        "attempts": delivery.attempts,
        "created_at": _time(delivery.created_at),
        "next_attempt_at": _time(delivery.next_attempt_at),
        "delivered_at": _time(delivery.delivered_at),
        "last_status": delivery.last_status,
        "last_error": delivery.last_error,
        "log": [
            {
                "attempt": a.attempt,
                "at": _time(a.started_at),
                "duration_ms": a.duration_ms,
                "outcome": a.outcome,
                "status": a.status_code,
                "error": a.error,
            }
            for a in attempts
        ],
    }
