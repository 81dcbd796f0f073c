"""When a task ends early: its deadline, the reasons clients read, and whether it is refunded.

Plain rules with no I/O, shared by the service that cancels and the engine loop that enforces
deadlines (``docs/billing-and-callbacks.md`` states them for operators):

- a task's deadline is its create time plus the key's ``deadline_minutes`` when the key has one,
  else the ``task_deadline_minutes`` setting; 0 (either) means no deadline;
- past it an unfinished task fails with ``timed out after N minutes``;
- an early end (cancel or deadline) records its reason, and a task the upstream already has is
  left due at once (``next_poll_at``) for the engine to cancel its upstream generation;
- a task that ends without a video (failed, cancelled, timed out) is refunded in full, whatever
  state it was cancelled in: the tenant never receives its video, and the charge is for a
  delivered one. What an upstream already spent on a cancelled generation is the operator's
  (the running and rate limits of the key bound it).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from lumagate.domain.states import TaskState
from lumagate.domain.task import Task

CANCELLED_BY_CALLER = "Cancelled by the caller"
CANCELLED_BY_OPERATOR = "Cancelled by the operator"


def deadline_minutes(key_minutes: int | None, default_minutes: float) -> float | None:
    """The minutes a new task of this key may take; None when it has no deadline."""
    minutes = default_minutes if key_minutes is None else float(key_minutes)
    return minutes if minutes > 0 else None


def deadline_at(
    created_at: datetime, key_minutes: int | None, default_minutes: float
) -> datetime | None:
    minutes = deadline_minutes(key_minutes, default_minutes)
    return None if minutes is None else created_at + timedelta(minutes=minutes)


def timed_out_reason(created_at: datetime, deadline: datetime) -> str:
    """``timed out after N minutes``, N as the deadline was set (``1``, ``0.05``, ``120``)."""
    minutes = round((deadline - created_at).total_seconds() / 60, 2)
    return f"timed out after {minutes:g} minutes"


def early_end(task: Task, now: datetime, reason: str) -> dict[str, Any]:
    """The values an early end writes beside its state (``TaskStore.transition``): the reason,
    and the upstream cancel due ``now`` when the upstream has the task's generation."""
    return {"failure_reason": reason, "next_poll_at": now if task.upstream_id else None}


def refunded(state: TaskState) -> bool:
    """Whether a task that reached ``state`` gets its charge back (in full)."""
    return state.ended_without_video
