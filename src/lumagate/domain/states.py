"""Task states and the transitions allowed between them.

The engine works with finer states than clients see: a task is ``queued`` until an account is
leased, ``submitting`` while the submission intent is stored and the upstream call is in flight,
``submitted`` once the upstream id is known, ``processing`` when the upstream reports work, and
then terminal: ``completed``, ``failed`` or ``cancelled`` (the tenant or the operator stopped it;
reachable from every state that is not terminal). Every dialect maps these onto its own
vocabulary; the client dialects, whose vocabularies have no cancelled state, show a cancelled
task as failed with its reason (docs/dialects.md).
"""

from __future__ import annotations

from enum import StrEnum


class TaskState(StrEnum):
    QUEUED = "queued"
    SUBMITTING = "submitting"
    SUBMITTED = "submitted"
    PROCESSING = "processing"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def is_terminal(self) -> bool:
        return self in TERMINAL_STATES

    @property
    def holds_account(self) -> bool:
        """Whether a task in this state occupies one of its account's concurrency slots."""
        return self in ACTIVE_UPSTREAM_STATES

    @property
    def ended_without_video(self) -> bool:
        """Failed or cancelled: the task ended and will never have a video (clients see a
        failure with its reason; the charge is refunded)."""
        return self in (TaskState.FAILED, TaskState.CANCELLED)

    @property
    def public(self) -> str:
        """The state as the reseller dialect (and the luma web app) names it: that vocabulary
        has no cancelled state, so a cancelled task is ``failed`` (its reason says why)."""
        if self in (TaskState.QUEUED, TaskState.SUBMITTING, TaskState.SUBMITTED):
            return "pending"
        if self == TaskState.CANCELLED:
            return "failed"
        return self.value


TERMINAL_STATES = frozenset({TaskState.COMPLETED, TaskState.FAILED, TaskState.CANCELLED})
NON_TERMINAL_STATES = frozenset(set(TaskState) - TERMINAL_STATES)
ACTIVE_UPSTREAM_STATES = frozenset(
    {TaskState.SUBMITTING, TaskState.SUBMITTED, TaskState.PROCESSING}
)

ALLOWED_TRANSITIONS: dict[TaskState, frozenset[TaskState]] = {
    TaskState.QUEUED: frozenset({TaskState.SUBMITTING, TaskState.FAILED, TaskState.CANCELLED}),
    # Back to QUEUED when the account refused before accepting (429, 401, retryable error).
    TaskState.SUBMITTING: frozenset(
        {
            TaskState.QUEUED,
            TaskState.SUBMITTED,
            TaskState.PROCESSING,
            TaskState.COMPLETED,
            TaskState.FAILED,
            TaskState.CANCELLED,
        }
    ),
    TaskState.SUBMITTED: frozenset(
        {TaskState.PROCESSING, TaskState.COMPLETED, TaskState.FAILED, TaskState.CANCELLED}
    ),
    TaskState.PROCESSING: frozenset({TaskState.COMPLETED, TaskState.FAILED, TaskState.CANCELLED}),
    TaskState.COMPLETED: frozenset(),
    TaskState.FAILED: frozenset(),
    TaskState.CANCELLED: frozenset(),
}


class InvalidTransition(ValueError):
    """Raised when code tries to move a task along an edge the state machine does not have."""

    def __init__(self, current: TaskState, target: TaskState) -> None:
        super().__init__(f"task cannot go from {current.value} to {target.value}")
        self.current = current
        self.target = target


def can_transition(current: TaskState, target: TaskState) -> bool:
    return target == current or target in ALLOWED_TRANSITIONS[current]


def check_transition(current: TaskState, target: TaskState) -> None:
    if not can_transition(current, target):
        raise InvalidTransition(current, target)
