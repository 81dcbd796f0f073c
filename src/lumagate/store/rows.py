"""Mapping between table rows and domain objects: the generic mapping and the key's.

The task's and its media's are in :mod:`lumagate.store.task_rows`, so the key and ledger stores
(``lumagate keys create``, which reads no task) do not import the task's types and the
request's pydantic model (``tests/unit/cli/test_main.py``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar

from lumagate.domain.channels import parse_channels
from lumagate.domain.clock import ensure_utc
from lumagate.domain.tenant import ApiKey

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

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


def key_from_row(row: Mapping[Any, Any]) -> ApiKey:
    return from_row(ApiKey, row, prefix=row["key_prefix"], channels=parse_channels(row["channels"]))
