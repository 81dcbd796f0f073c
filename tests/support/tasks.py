"""Task values for unit tests that need a ``Task`` without a store."""

from __future__ import annotations

from datetime import UTC, datetime

from lumagate.domain.channels import Channel
from lumagate.domain.request import GenerationRequest
from lumagate.domain.states import TaskState
from lumagate.domain.task import Task

NOW = datetime(2024, 1, 1, tzinfo=UTC)


def chat_task(state: TaskState, progress: int = 0) -> Task:
    """Task ``t1`` of tenant ``k1``, created through the chat dialect, in ``state``."""
    return Task(
        id="t1",
        tenant_id="k1",
        channel=Channel.DEFAULT,
        dialect="chat",
        request=GenerationRequest(prompt="x"),
        state=state,
        created_at=NOW,
        updated_at=NOW,
        progress=progress,
    )
