"""Poll times: every account's polls land on one shared grid."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from lumagate.domain.polling import PollPlan, next_poll_at, on_grid


def test_polls_land_on_a_shared_grid() -> None:
    base = datetime(2026, 1, 1, 0, 0, 0, tzinfo=UTC)
    times = [next_poll_at(base.replace(microsecond=m), 2.0) for m in (100_000, 700_000)]
    assert times[0] == times[1] == datetime(2026, 1, 1, 0, 0, 2, tzinfo=UTC)
    late = next_poll_at(datetime(2026, 1, 1, 0, 0, 1, 800_000, tzinfo=UTC), 2.0)
    assert late == datetime(2026, 1, 1, 0, 0, 4, tzinfo=UTC)  # never sooner than interval/4


START = datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)


def _plan(expected: float | None) -> PollPlan:
    return PollPlan(cadence=2.0, expected_seconds=expected)


def test_a_polled_task_is_first_read_a_margin_before_its_expected_end() -> None:
    now = START + timedelta(seconds=3)
    plan = _plan(120.0)
    wanted = plan.next_poll(now, 2.0, START)
    assert wanted == START + timedelta(seconds=108)  # 120 s less 10 %
    unaligned = START + timedelta(milliseconds=300)  # tasks of one wave meet on the grid
    assert plan.next_poll(now, 2.0, unaligned) == START + timedelta(seconds=110)
    short = _plan(4.0).next_poll(now, 1.0, now)  # the margin is two intervals at least
    assert short == on_grid(now + timedelta(seconds=2), 1.0)


def test_past_its_expected_end_a_polled_task_backs_off_with_its_overrun() -> None:
    def wait(age: float) -> float:
        now = START + timedelta(seconds=age)
        return (_plan(120.0).next_poll(now, 2.0, START) - now).total_seconds()

    assert wait(121.0) == 1.0  # within the margin around the end: the grid
    assert wait(160.0) == 14.0  # half of the 28 s past end and margin
    assert wait(1000.0) == 20.0  # at most ten intervals


def test_a_called_back_task_is_polled_only_after_its_expected_end() -> None:
    now = START + timedelta(seconds=3)
    wanted = _plan(120.0).next_poll(now, 30.0, START)
    assert wanted == START + timedelta(seconds=132)


def test_without_a_run_time_polling_and_callbacks_back_off_with_age() -> None:
    now = START + timedelta(seconds=400)
    plan = _plan(None)
    assert plan.next_poll(now, 2.0, START) == now + timedelta(seconds=20)  # ten intervals at most
    young = START + timedelta(seconds=12)
    assert _plan(None).next_poll(young, 2.0, START) == young + timedelta(seconds=6)  # half
    first = START + timedelta(seconds=1)
    assert _plan(None).next_poll(first, 2.0, START) == next_poll_at(first, 2.0)
    assert plan.next_poll(now, 30.0, START) == now + timedelta(seconds=200)  # half its age
    old = START + timedelta(hours=5)
    assert _plan(None).next_poll(old, 30.0, START) == old + timedelta(seconds=300)  # cap
