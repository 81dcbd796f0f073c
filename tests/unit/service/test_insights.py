"""Bucketing for the operator's overview and usage (pure functions of InsightsService)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from lumagate.service.insights import bucket_counts, usage_rows
from lumagate.store.insights import SpendEntry

T0 = datetime(2026, 5, 1, 10, 0, tzinfo=UTC)


def test_finished_tasks_fall_in_their_hour_and_outside_ones_are_ignored() -> None:
    hour = timedelta(hours=1)
    finished = [
        ("completed", T0 + timedelta(minutes=5)),
        ("failed", T0 + timedelta(minutes=59)),
        ("completed", T0 + timedelta(hours=2, minutes=1)),
        ("completed", T0 - timedelta(seconds=1)),  # before the first bucket
        ("completed", T0 + timedelta(hours=3)),  # after the last
    ]
    buckets = bucket_counts(finished, T0, hour, 3)
    assert [(b.start, b.completed, b.failed) for b in buckets] == [
        (T0, 1, 1),
        (T0 + hour, 0, 0),
        (T0 + 2 * hour, 1, 0),
    ]


def test_usage_per_key_and_day_with_refunds_taking_back_their_generation() -> None:
    day2 = T0 + timedelta(days=1)
    entries = [
        SpendEntry("k1", "charge", -100, T0),
        SpendEntry("k1", "charge", -100, T0 + timedelta(hours=1)),
        SpendEntry("k1", "refund", 100, T0 + timedelta(hours=2)),
        SpendEntry("k2", "charge", -40, T0),
        SpendEntry("k1", "charge", -70, day2),
    ]
    rows = usage_rows(entries)
    start = T0.replace(hour=0)
    assert [(r.day, r.key_id, r.generations, r.credits) for r in rows] == [
        (start + timedelta(days=1), "k1", 1, 70),
        (start, "k2", 1, 40),
        (start, "k1", 1, 100),
    ]
