"""The rules of a task's early end: deadline, timed-out reason, what it writes, refund rule."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from lumagate.domain.channels import Channel
from lumagate.domain.request import GenerationRequest
from lumagate.domain.states import TaskState
from lumagate.domain.task import Task
from lumagate.domain.task_end import (
    deadline_at,
    deadline_minutes,
    early_end,
    refunded,
    timed_out_reason,
)

T0 = datetime(2026, 12, 1, 12, 0, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("key_minutes", "default", "expected"),
    [
        (None, 120.0, 120.0),  # the setting
        (5, 120.0, 5.0),  # the key's own deadline wins
        (0, 120.0, None),  # the key has none, whatever the setting
        (None, 0.0, None),  # no setting: no deadline
        (30, 0.0, 30.0),  # a key may have one when the setting has none
        (None, 0.05, 0.05),  # fractions (seconds in tests)
    ],
    ids=["setting", "key", "key-none", "no-setting", "key-only", "fraction"],
)
def test_deadline_minutes(key_minutes: int | None, default: float, expected: float | None) -> None:
    assert deadline_minutes(key_minutes, default) == expected


def test_deadline_at_is_the_create_time_plus_the_minutes() -> None:
    assert deadline_at(T0, 1, 120.0) == T0 + timedelta(minutes=1)
    assert deadline_at(T0, None, 0.0) is None


@pytest.mark.parametrize(
    ("minutes", "reason"),
    [
        (1.0, "timed out after 1 minutes"),
        (120.0, "timed out after 120 minutes"),
        (0.05, "timed out after 0.05 minutes"),
    ],
    ids=["one", "default", "test-fraction"],
)
def test_the_timed_out_reason_names_the_deadline(minutes: float, reason: str) -> None:
    assert timed_out_reason(T0, T0 + timedelta(minutes=minutes)) == reason


@pytest.mark.parametrize(
    ("state", "refund"),
    [
        (TaskState.QUEUED, False),
        (TaskState.SUBMITTING, False),
        (TaskState.SUBMITTED, False),
        (TaskState.PROCESSING, False),
        (TaskState.COMPLETED, False),
        (TaskState.FAILED, True),
        (TaskState.CANCELLED, True),
    ],
    ids=lambda v: v.value if isinstance(v, TaskState) else str(v),
)
def test_refund_rule_every_task_that_ends_without_a_video_is_refunded(
    state: TaskState, refund: bool
) -> None:
    assert refunded(state) is refund


@pytest.mark.parametrize(
    ("upstream_id", "cancel_due"), [(None, None), ("gen-1", T0)], ids=["local", "upstream"]
)
def test_an_early_end_records_the_reason_and_leaves_an_upstream_cancel_due(
    upstream_id: str | None, cancel_due: datetime | None
) -> None:
    task = Task(
        "t-1",
        "tenant",
        Channel.DEFAULT,
        "reseller",
        GenerationRequest(prompt="cat dance"),
        TaskState.PROCESSING,
        T0,
        T0,
        upstream_id=upstream_id,
    )
    assert early_end(task, T0, "Cancelled by the caller") == {
        "failure_reason": "Cancelled by the caller",
        "next_poll_at": cancel_due,
    }
