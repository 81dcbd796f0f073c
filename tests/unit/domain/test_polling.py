"""Poll times: every account's polls land on one shared grid."""

from __future__ import annotations

from datetime import UTC, datetime

from lumagate.domain.polling import next_poll_at


def test_polls_land_on_a_shared_grid() -> None:
    base = datetime(2026, 1, 1, 0, 0, 0, tzinfo=UTC)
    times = [next_poll_at(base.replace(microsecond=m), 2.0) for m in (100_000, 700_000)]
    assert times[0] == times[1] == datetime(2026, 1, 1, 0, 0, 2, tzinfo=UTC)
    late = next_poll_at(datetime(2026, 1, 1, 0, 0, 1, 800_000, tzinfo=UTC), 2.0)
    assert late == datetime(2026, 1, 1, 0, 0, 4, tzinfo=UTC)  # never sooner than interval/4
