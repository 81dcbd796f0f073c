"""Mapping between table rows and domain objects.

JSON columns are read through :func:`lumagate.domain.limits.scrub`: rows stored before input
was checked may hold lone surrogates, which would break every response that shows them.

The task's types (its pydantic request model above all) are imported by the first task row,
not with this module: the key and ledger stores use it too, and ``lumagate keys create`` reads
no task (``tests/unit/cli/test_main.py``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar

from lumagate.domain.channels import Channel, parse_channels
from lumagate.domain.clock import ensure_utc
from lumagate.domain.limits import scrub
from lumagate.domain.states import TaskState
from lumagate.domain.tenant import ApiKey

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

    from lumagate.domain.task import Task, TaskMedia

T = TypeVar("T", bound="DataclassInstance")


def utc_or_none(value: datetime | None) -> datetime | None:
    return None if value is None else ensure_utc(value)


def from_row(cls: type[T], row: Mapping[Any, Any], **converted: Any) -> T:
    """A ``cls`` from the row's columns named like its fields (times made UTC-aware: SQLite
    gives them naive); ``converted`` holds the fields whose column needs more than that (an
    enum, a parse, a column of another name). Columns without a field are left out."""
    values: dict[str, Any] = {}
    for field in dataclasses.fields(cls):
        if field.name in converted:
            values[field.name] = converted[field.name]
        elif field.name in row:
            value = row[field.name]
            values[field.name] = ensure_utc(value) if isinstance(value, datetime) else value
    return cls(**values)


def media_to_json(media: TaskMedia | None) -> dict[str, Any] | None:
    return None if media is None else dataclasses.asdict(media)


def media_from_json(data: dict[str, Any] | None) -> TaskMedia | None:
    if not data:
        return None
    from lumagate.domain.task import TaskMedia

    return from_row(TaskMedia, data, width=int(data["width"]), height=int(data["height"]))


def task_from_row(row: Mapping[Any, Any]) -> Task:
    from lumagate.domain.request import GenerationRequest
    from lumagate.domain.task import Task

    return from_row(
        Task,
        row,
        channel=Channel(row["channel"]),
        request=GenerationRequest.model_validate(scrub(row["request"])),
        state=TaskState(row["state"]),
        media=media_from_json(scrub(row["media"])),
    )


def key_from_row(row: Mapping[Any, Any]) -> ApiKey:
    return from_row(ApiKey, row, prefix=row["key_prefix"], channels=parse_channels(row["channels"]))
