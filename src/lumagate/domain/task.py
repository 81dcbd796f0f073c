"""The one task model shared by every dialect, provider and the engine."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime

from lumagate.domain import messages as msg
from lumagate.domain.channels import Channel
from lumagate.domain.request import GenerationRequest
from lumagate.domain.states import TaskState, check_transition


@dataclass(frozen=True)
class TaskMedia:
    """What a finished task produced. Every field is an asset reference (URL or media key)."""

    video: str
    width: int
    height: int
    download: str | None = None
    video_raw: str | None = None
    thumbnail: str | None = None
    last_frame: str | None = None

    @property
    def best_download(self) -> str:
        """The best watermark-free link known: the explicit download, raw video, or video."""
        return self.download or self.video_raw or self.video


MEDIA_REMOVED_REASON = msg.MEDIA_REMOVED.en  # the failure reason stored; shown translated


@dataclass(frozen=True)
class Task:
    id: str
    tenant_id: str
    channel: Channel
    dialect: str
    request: GenerationRequest
    state: TaskState
    created_at: datetime
    updated_at: datetime
    account_id: str | None = None
    upstream_id: str | None = None
    progress: int = 0
    media: TaskMedia | None = None
    failure_reason: str | None = None
    notify_url: str | None = None
    submitted_at: datetime | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    server_id: str | None = None
    attempts: int = 0
    deadline_at: datetime | None = None  # past it an unfinished task fails (timed out)
    extra: dict[str, str] = field(default_factory=dict)
    media_removed_at: datetime | None = None
    """When the retention policy removed the task's media (then ``media`` is None)."""

    @property
    def media_removed(self) -> bool:
        return self.media_removed_at is not None

    @property
    def is_terminal(self) -> bool:
        return self.state.is_terminal

    def moved_to(self, target: TaskState, now: datetime) -> Task:
        """A copy in ``target`` state; raises InvalidTransition on an edge that does not exist."""
        check_transition(self.state, target)
        started = self.started_at
        if target == TaskState.PROCESSING and started is None:
            started = now
        finished = now if target.is_terminal and self.finished_at is None else self.finished_at
        return replace(self, state=target, updated_at=now, started_at=started, finished_at=finished)


def shows_reason(task: Task) -> bool:
    """Whether a response shows ``failure_reason``: a failed or cancelled task, or one whose
    media were removed by the retention policy (then ``video`` is null and this says why)."""
    return task.state.ended_without_video or task.media_removed
