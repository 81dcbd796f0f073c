"""Task and upstream counters: ends are counted once per task, outcomes by error class."""

from __future__ import annotations

from datetime import timedelta

import pytest

from lumagate.domain.channels import Channel
from lumagate.domain.clock import utcnow
from lumagate.domain.request import GenerationRequest
from lumagate.domain.states import TaskState
from lumagate.domain.task import Task
from lumagate.observability.metrics import GatewayMetrics
from lumagate.observability.providers import outcome_of
from lumagate.providers.base import AuthenticationFailed, RateLimited, Rejected, TransientError

LABELS = {"channel": "vip", "dialect": "official", "model": "ray-flash-2"}


def _task(state: TaskState, task_id: str = "t-1") -> Task:
    created = utcnow() - timedelta(seconds=42)
    return Task(
        id=task_id,
        tenant_id="k",
        channel=Channel.VIP,
        dialect="official",
        request=GenerationRequest(prompt="p", model="ray-flash-2"),
        state=state,
        created_at=created,
        updated_at=created,
        finished_at=created + timedelta(seconds=42) if state.is_terminal else None,
    )


def _get(metrics: GatewayMetrics, name: str, labels: dict[str, str] = LABELS) -> float:
    return metrics.registry.get_sample_value(name, labels) or 0.0


async def test_each_end_counts_once() -> None:
    metrics = GatewayMetrics()
    metrics.task_created(_task(TaskState.QUEUED))
    for _ in range(3):  # the same completion published three times
        await metrics.on_task_changed(_task(TaskState.COMPLETED))
    await metrics.on_task_changed(_task(TaskState.PROCESSING, "t-2"))
    await metrics.on_task_changed(_task(TaskState.FAILED, "t-2"))
    assert _get(metrics, "lumagate_tasks_created_total") == 1
    assert _get(metrics, "lumagate_tasks_completed_total") == 1
    assert _get(metrics, "lumagate_tasks_failed_total") == 1
    duration = {"channel": "vip", "model": "ray-flash-2"}
    assert _get(metrics, "lumagate_task_completion_seconds_count", duration) == 1
    assert _get(metrics, "lumagate_task_completion_seconds_sum", duration) == pytest.approx(42)


async def test_a_cancel_counts_as_cancelled_once_not_as_failed() -> None:
    metrics = GatewayMetrics()
    for _ in range(2):
        await metrics.on_task_changed(_task(TaskState.CANCELLED, "t-3"))
    assert _get(metrics, "lumagate_tasks_cancelled_total") == 1
    assert _get(metrics, "lumagate_tasks_failed_total") == 0
    assert _get(metrics, "lumagate_tasks_completed_total") == 0


@pytest.mark.parametrize(
    ("error", "outcome"),
    [
        (RateLimited("slow down", 3), "rate_limited"),
        (AuthenticationFailed("bad"), "auth_failed"),
        (TransientError("flaky"), "transient"),
        (Rejected("moderation"), "rejected"),
        (RuntimeError("bug"), "error"),
    ],
)
def test_outcome_by_error_class(error: BaseException, outcome: str) -> None:
    assert outcome_of(error) == outcome
