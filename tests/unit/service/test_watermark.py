"""The catch-up watermark: nothing before the first sweep, then the last start less the margin."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from lumagate.service.watermark import DEFAULT_MARGIN, Watermark


def test_the_first_sweep_reads_everything() -> None:
    assert Watermark().since is None


def test_a_sweep_moves_the_mark_to_its_start_less_the_margin() -> None:
    mark = Watermark(margin=timedelta(seconds=30))
    first = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
    mark.swept(first)
    assert mark.since == first - timedelta(seconds=30)
    mark.swept(first + timedelta(minutes=1))
    assert mark.since == first + timedelta(seconds=30)


def test_the_default_margin_is_five_minutes() -> None:
    mark = Watermark()
    now = datetime(2026, 1, 1, tzinfo=UTC)
    mark.swept(now)
    assert timedelta(minutes=5) == DEFAULT_MARGIN and mark.since == now - DEFAULT_MARGIN
