"""Time helpers: UTC everywhere, and the ISO 8601 form every dialect prints."""

from __future__ import annotations

from datetime import UTC, datetime


def utcnow() -> datetime:
    return datetime.now(UTC)


def ensure_utc(value: datetime) -> datetime:
    """SQLite hands back naive datetimes; they were stored as UTC."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def iso_z(value: datetime | None) -> str | None:
    """``2024-12-22T13:38:40.139409Z``: microseconds always, ``Z`` for UTC."""
    if value is None:
        return None
    return ensure_utc(value).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def unix_seconds(value: datetime | None) -> int:
    return 0 if value is None else int(ensure_utc(value).timestamp())
