"""The in-memory poll schedule: it holds unchanged tasks' next polls, and yields to the store
whenever the stored ``next_poll_at`` moves (a state change, a callback's poke)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from lumagate.engine.poll_schedule import PollSchedule

NOW = datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)
PAST = NOW - timedelta(seconds=5)


def test_tasks_it_does_not_hold_are_due_and_held_ones_wait() -> None:
    schedule = PollSchedule()
    assert schedule.due([("a", PAST), ("b", None)], NOW) == ["a", "b"]
    schedule.hold("a", PAST, NOW + timedelta(seconds=30))
    schedule.hold("b", None, NOW + timedelta(seconds=10))
    assert schedule.due([("a", PAST), ("b", None)], NOW) == []
    assert schedule.next_due() == NOW + timedelta(seconds=10)
    later = NOW + timedelta(seconds=10)
    assert schedule.due([("a", PAST), ("b", None)], later) == ["b"]


def test_a_stored_poll_that_moved_takes_over_again() -> None:
    schedule = PollSchedule()
    schedule.hold("a", PAST, NOW + timedelta(seconds=300))
    poked = NOW - timedelta(milliseconds=1)  # poll_soon wrote next_poll_at = now
    assert schedule.due([("a", poked)], NOW) == ["a"]
    assert len(schedule) == 0 and schedule.next_due() is None


def test_tasks_no_longer_due_in_the_store_are_forgotten() -> None:
    schedule = PollSchedule()
    schedule.hold("ended", PAST, NOW + timedelta(seconds=30))
    schedule.hold("running", PAST, NOW + timedelta(seconds=30))
    assert schedule.due([("running", PAST)], NOW) == []
    assert len(schedule) == 1 and schedule.stored_at("running") == PAST
    assert schedule.stored_at("ended") is None
