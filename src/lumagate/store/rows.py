"""Mapping between table rows and domain objects.

JSON columns are read through :func:`lumagate.domain.limits.scrub`: rows stored before input
was checked may hold lone surrogates, which would break every response that shows them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from lumagate.domain.channels import Channel, parse_channels
from lumagate.domain.clock import ensure_utc
from lumagate.domain.limits import scrub
from lumagate.domain.request import GenerationRequest
from lumagate.domain.states import TaskState
from lumagate.domain.task import Task, TaskMedia
from lumagate.domain.tenant import ApiKey


def _dt(value: Any) -> Any:
    return None if value is None else ensure_utc(value)


def media_to_json(media: TaskMedia | None) -> dict[str, Any] | None:
    if media is None:
        return None
    return {
        "video": media.video,
        "width": media.width,
        "height": media.height,
        "download": media.download,
        "video_raw": media.video_raw,
        "thumbnail": media.thumbnail,
        "last_frame": media.last_frame,
    }


def media_from_json(data: dict[str, Any] | None) -> TaskMedia | None:
    if not data:
        return None
    return TaskMedia(
        video=data["video"],
        width=int(data["width"]),
        height=int(data["height"]),
        download=data.get("download"),
        video_raw=data.get("video_raw"),
        thumbnail=data.get("thumbnail"),
        last_frame=data.get("last_frame"),
    )


def task_from_row(row: Mapping[Any, Any]) -> Task:
    return Task(
        id=row["id"],
        tenant_id=row["tenant_id"],
        channel=Channel(row["channel"]),
        dialect=row["dialect"],
        request=GenerationRequest.model_validate(scrub(row["request"])),
        state=TaskState(row["state"]),
        created_at=ensure_utc(row["created_at"]),
        updated_at=ensure_utc(row["updated_at"]),
        account_id=row["account_id"],
        upstream_id=row["upstream_id"],
        progress=row["progress"],
        media=media_from_json(scrub(row["media"])),
        failure_reason=row["failure_reason"],
        notify_url=row["notify_url"],
        submitted_at=_dt(row["submitted_at"]),
        started_at=_dt(row["started_at"]),
        finished_at=_dt(row["finished_at"]),
        server_id=row["server_id"],
        attempts=row["attempts"],
        media_removed_at=_dt(row.get("media_removed_at")),
        deadline_at=_dt(row["deadline_at"]),
    )


def key_from_row(row: Mapping[Any, Any]) -> ApiKey:
    return ApiKey(
        id=row["id"],
        name=row["name"],
        prefix=row["key_prefix"],
        credits=row["credits"],
        channels=parse_channels(row["channels"]),
        rpm=row["rpm"],
        max_running=row["max_running"],
        plan=row["plan"],
        created_at=ensure_utc(row["created_at"]),
        expires_at=_dt(row["expires_at"]),
        revoked_at=_dt(row["revoked_at"]),
        deadline_minutes=row["deadline_minutes"],
    )
