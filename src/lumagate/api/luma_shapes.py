"""The Luma web-app generation object ("flat" shape) and the new-api task record.

Several dialects return these shapes (reseller, luma-mock, new-api), so they live here once.
"""

from __future__ import annotations

from typing import Any

from lumagate.domain.clock import iso_z, unix_seconds
from lumagate.domain.states import TaskState
from lumagate.domain.task import Task, shows_reason
from lumagate.service.tasks import TaskService

NEW_API_STATUS = {
    TaskState.QUEUED: "QUEUED",
    TaskState.SUBMITTING: "SUBMITTED",
    TaskState.SUBMITTED: "SUBMITTED",
    TaskState.PROCESSING: "IN_PROGRESS",
    TaskState.COMPLETED: "SUCCESS",
    TaskState.FAILED: "FAILURE",
}


async def flat_generation(task: Task, service: TaskService) -> dict[str, Any]:
    media = task.media if task.state == TaskState.COMPLETED else None
    video = video_raw = thumbnail = last_frame = None
    if media is not None:
        size = {"width": media.width, "height": media.height}
        thumb_url = service.link(media.thumbnail)
        video = {
            "url": service.link(media.video),
            **size,
            "thumbnail": thumb_url,
            "download_url": service.link(media.best_download),
        }
        video_raw = {"url": service.link(media.video_raw or media.best_download), **size}
        thumbnail = {"url": thumb_url, **size} if thumb_url else None
        last_url = service.link(media.last_frame)
        last_frame = {"url": last_url, **size} if last_url else None
    return {
        "id": task.id,
        "prompt": task.request.prompt,
        "state": task.state.public,
        "queue_state": None,
        "created_at": iso_z(task.created_at),
        "batch_id": "",
        "video": video,
        "video_raw": video_raw,
        "thumbnail": thumbnail,
        "last_frame": last_frame,
        "liked": None,
        "estimate_wait_seconds": await service.estimate_wait_seconds(task),
        "failure_reason": task.failure_reason if shows_reason(task) else None,
        "request": task.request.public_view(),
        "model": task.request.model,
        "server_id": task.server_id or "",
    }


async def task_record(task: Task, service: TaskService) -> dict[str, Any]:
    """The new-api task record that batch queries and unified-video reads return."""
    return {
        "id": task.id,
        "task_id": task.id,
        "platform": "luma",
        "action": "LUMA_EXTEND" if task.request.extend_of else "LUMA_VIDEO",
        "status": NEW_API_STATUS[task.state],
        "fail_reason": task.failure_reason or "",
        "submit_time": unix_seconds(task.created_at),
        "start_time": unix_seconds(task.started_at or task.submitted_at),
        "finish_time": unix_seconds(task.finished_at),
        "progress": f"{task.progress}%",
        "created_at": iso_z(task.created_at),
        "updated_at": iso_z(task.updated_at),
        "data": await flat_generation(task, service),
    }
