"""Cancelling a task: what the reseller ``…/cancel``, OpenAI's ``DELETE /v1/videos/{id}``, the
admin API and the console call.

A cancel is one conditional transition to ``cancelled`` from the state the task was read in
(``WHERE state = <read>``), retried from the new state when the engine moved the task meanwhile,
so it is race-safe against the dispatcher's claim: a queued task is either cancelled (and the
claim finds no queued row, so it is never submitted) or claimed first (and then cancelled as a
running one). A task the upstream already has keeps ``next_poll_at`` as the due time of its
upstream cancel, which the engine's cancel loop makes where the provider can; the upstream's
eventual result is discarded (no edge leaves ``cancelled``). The event is published, so the
charge is refunded (``domain/task_end.py``) and a callback stored, as for a failure.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any, Protocol

from lumagate.domain import messages as msg
from lumagate.domain.clock import utcnow
from lumagate.domain.errors import TaskAlreadyEnded, TaskNotFound
from lumagate.domain.states import TaskState
from lumagate.domain.task import Task
from lumagate.domain.task_end import early_end

ATTEMPTS = 8  # a task moves through at most four states before it ends


class CancellableTasks(Protocol):
    """The two task-store calls a cancel makes (``TaskStore``'s): read, conditional move."""

    async def get(self, task_id: str, tenant_id: str | None = None) -> Task | None: ...

    async def transition(
        self, task: Task, target: TaskState, now: datetime, **values: Any
    ) -> Task | None: ...


class TaskCancels:
    """Cancels one task of a tenant (or of any tenant, for the operator)."""

    def __init__(
        self,
        tasks: CancellableTasks,
        *,
        on_ended: Callable[[Task], Awaitable[None]] | None = None,
        on_upstream_cancel: Callable[[], None] | None = None,
    ) -> None:
        self.tasks = tasks
        self.on_ended = on_ended  # the task events: refund, callback, metrics
        self.on_upstream_cancel = on_upstream_cancel  # wake the engine's cancel loop

    async def cancel(self, task_id: str, *, tenant_id: str | None, reason: str) -> Task:
        """Cancel ``task_id``; :class:`TaskNotFound` if it is not the tenant's (or hidden),
        :class:`TaskAlreadyEnded` if it has already ended."""
        for _ in range(ATTEMPTS):
            task = await self.tasks.get(task_id, tenant_id)
            if task is None:
                raise TaskNotFound(msg.TASK_NOT_FOUND())
            if task.is_terminal:
                raise TaskAlreadyEnded(msg.TASK_ALREADY_ENDED(state=task.state.value))
            now = utcnow()
            changed = await self.tasks.transition(
                task, TaskState.CANCELLED, now, **early_end(task, now, reason)
            )
            if changed is None:
                continue  # the engine moved it meanwhile: cancel it from where it is now
            if self.on_ended is not None:
                await self.on_ended(changed)
            if changed.upstream_id and self.on_upstream_cancel is not None:
                self.on_upstream_cancel()
            return changed
        raise TaskAlreadyEnded(msg.TASK_KEPT_CHANGING())
