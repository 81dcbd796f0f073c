"""What the client returns: small frozen dataclasses over the reseller dialect's JSON.

Each keeps the JSON it was read from in ``raw``, so a field the client does not model yet is
still reachable.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

TERMINAL_STATES = ("completed", "failed")

# The new-api record status (batch query) → the word the client reports as ``stage``.
STAGES = {
    "QUEUED": "queued",
    "SUBMITTED": "submitted",
    "IN_PROGRESS": "processing",
    "SUCCESS": "completed",
    "FAILURE": "failed",
}
_STAGE_OF_STATE = {"pending": "queued", "processing": "processing"}


@dataclass(frozen=True)
class Generation:
    """One video task. ``state`` is ``pending | processing | completed | failed``; ``stage``
    is finer (``queued | submitted | processing | completed | failed``) and ``progress`` a
    percentage when the gateway reported them (``wait`` does; a plain ``get`` infers them)."""

    id: str
    state: str
    prompt: str
    model: str | None
    created_at: str | None
    video_url: str | None
    download_url: str | None
    thumbnail_url: str | None
    width: int | None
    height: int | None
    failure_reason: str | None
    estimate_wait_seconds: float | None
    stage: str
    progress: int | None
    raw: dict[str, Any] = field(repr=False, compare=False)

    @property
    def done(self) -> bool:
        return self.state in TERMINAL_STATES

    @property
    def completed(self) -> bool:
        return self.state == "completed"


@dataclass(frozen=True)
class Usage:
    """The caller's usage: generations this month, and how many the balance still buys."""

    consumed: int
    capacity: int
    available: int
    plan: str | None
    raw: dict[str, Any] = field(repr=False, compare=False)


@dataclass(frozen=True)
class UploadedImage:
    """An image stored by the gateway; ``public_url`` is usable as a start or end frame."""

    id: str
    public_url: str


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _obj(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def parse_generation(
    flat: dict[str, Any], *, status: str | None = None, progress: int | None = None
) -> Generation:
    """A flat generation object, optionally with the batch record's status and progress."""
    state = str(flat.get("state") or "pending")
    video = _obj(flat.get("video"))
    stage = STAGES.get(status or "", _STAGE_OF_STATE.get(state, state))
    if progress is None and state == "completed":
        progress = 100
    wait = flat.get("estimate_wait_seconds")
    return Generation(
        id=str(flat["id"]),
        state=state,
        prompt=str(flat.get("prompt") or ""),
        model=_str(flat.get("model")),
        created_at=_str(flat.get("created_at")),
        video_url=_str(video.get("url")),
        download_url=_str(video.get("download_url")),
        thumbnail_url=_str(video.get("thumbnail")) or _str(_obj(flat.get("thumbnail")).get("url")),
        width=_int(video.get("width")),
        height=_int(video.get("height")),
        failure_reason=_str(flat.get("failure_reason")),
        estimate_wait_seconds=float(wait) if isinstance(wait, int | float) else None,
        stage=stage,
        progress=progress,
        raw=flat,
    )


def parse_record(record: dict[str, Any]) -> Generation:
    """A new-api task record (``POST /luma/tasks``): the flat object plus status and progress."""
    raw_progress = str(record.get("progress") or "").rstrip("%")
    progress = int(raw_progress) if raw_progress.isdigit() else None
    return parse_generation(
        _obj(record.get("data")), status=_str(record.get("status")), progress=progress
    )


def parse_usage(body: dict[str, Any]) -> Usage:
    subscription = _obj(body.get("subscription"))
    return Usage(
        consumed=_int(body.get("consumed")) or 0,
        capacity=_int(body.get("capacity")) or 0,
        available=_int(body.get("available")) or 0,
        plan=_str(subscription.get("plan")),
        raw=body,
    )
