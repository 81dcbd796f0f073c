"""Mapping between task rows and the task and its media.

JSON columns are read through :func:`lumagate.domain.limits.scrub`: rows stored before input
was checked may hold lone surrogates, which would break every response that shows them.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from lumagate.domain.channels import Channel
from lumagate.domain.limits import scrub
from lumagate.domain.request import GenerationRequest
from lumagate.domain.states import TaskState
from lumagate.domain.task import Task, TaskMedia
from lumagate.store.rows import from_row


def media_to_json(media: TaskMedia | None) -> dict[str, Any] | None:
    return None if media is None else dataclasses.asdict(media)


def media_from_json(data: dict[str, Any] | None) -> TaskMedia | None:
    if not data:
        return None
    return from_row(TaskMedia, data, width=int(data["width"]), height=int(data["height"]))


def task_from_row(row: Mapping[Any, Any]) -> Task:
    return from_row(
        Task,
        row,
        channel=Channel(row["channel"]),
        request=GenerationRequest.model_validate(scrub(row["request"])),
        state=TaskState(row["state"]),
        media=media_from_json(scrub(row["media"])),
    )
