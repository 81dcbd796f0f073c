"""Waiting for a task to end: the deadline and the outcome rules both clients share."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypedDict

from lumagate.client.errors import TaskFailedError, WaitTimeoutError
from lumagate.client.models import Generation

ProgressCallback = Callable[[Generation], None]
"""Called with the task's latest state after every poll (and once after the last one)."""

DEFAULT_POLL_SECONDS = 1.0
DEFAULT_WAIT_SECONDS = 600.0


class WaitKeywords(TypedDict, total=False):
    """The keyword options of ``wait`` (both clients): ``on_progress``, ``poll_interval``
    (default 1 s) and ``timeout`` (default 600 s; ``None`` waits for ever)."""

    on_progress: ProgressCallback | None
    poll_interval: float
    timeout: float | None


@dataclass
class WaitClock:
    """When to look again, and when to give up."""

    poll_interval: float = DEFAULT_POLL_SECONDS
    timeout: float | None = DEFAULT_WAIT_SECONDS
    started: float = field(default_factory=time.monotonic)

    def __post_init__(self) -> None:
        if self.poll_interval <= 0:
            raise ValueError("poll_interval must be positive")

    def pause_before_next(self, latest: Generation) -> float:
        """Seconds to sleep before the next poll; raises when the deadline has passed."""
        if self.timeout is None:
            return self.poll_interval
        left = self.started + self.timeout - time.monotonic()
        if left <= 0:
            raise WaitTimeoutError(
                f"task {latest.id} still {latest.stage} after {self.timeout:g} s", latest
            )
        return min(self.poll_interval, left)


def outcome(generation: Generation) -> Generation:
    """The completed task, or :class:`TaskFailedError` for a failed one."""
    if generation.state == "failed":
        reason = generation.failure_reason or "no reason given"
        raise TaskFailedError(f"task {generation.id} failed: {reason}", generation)
    return generation
