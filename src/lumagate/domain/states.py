"""Task states and the transitions allowed between them.

The engine works with finer states than clients see: a task is ``queued`` until an account is
leased, ``submitting`` while the submission intent is stored and the upstream call is in flight,
``submitted`` once the upstream id is known, ``processing`` when the upstream reports work, and
then terminal. Every dialect maps these onto its own vocabulary.
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

    @property
    def is_terminal(self) -> bool:
        return self in TERMINAL_STATES

    @property
    def holds_account(self) -> bool:
        """Whether a task in this state occupies one of its account's concurrency slots."""
        return self in ACTIVE_UPSTREAM_STATES

    @property
    def public(self) -> str:
        """The state as the reseller dialect (and the luma web app) names it."""
        if self in (TaskState.QUEUED, TaskState.SUBMITTING, TaskState.SUBMITTED):
            return "pending"
        return self.value


TERMINAL_STATES = frozenset({TaskState.COMPLETED, TaskState.FAILED})
ACTIVE_UPSTREAM_STATES = frozenset(
    {TaskState.SUBMITTING, TaskState.SUBMITTED, TaskState.PROCESSING}
)

ALLOWED_TRANSITIONS: dict[TaskState, frozenset[TaskState]] = {
    TaskState.QUEUED: frozenset({TaskState.SUBMITTING, TaskState.FAILED}),
    # Back to QUEUED when the account refused before accepting (429, 401, retryable error).
    TaskState.SUBMITTING: frozenset(
        {
            TaskState.QUEUED,
            TaskState.SUBMITTED,
            TaskState.PROCESSING,
            TaskState.COMPLETED,
            TaskState.FAILED,
        }
    ),
    TaskState.SUBMITTED: frozenset({TaskState.PROCESSING, TaskState.COMPLETED, TaskState.FAILED}),
    TaskState.PROCESSING: frozenset({TaskState.COMPLETED, TaskState.FAILED}),
    TaskState.COMPLETED: frozenset(),
    TaskState.FAILED: frozenset(),
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
