"""The polling lease as one replica sees it: when it sends a take, how long it trusts a grant
(from the moment it sent the take, on its own clock), and when a new term begins (an empty
schedule). The statements themselves run against PostgreSQL in
tests/integration/engine/test_poll_lease.py."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from lumagate.engine.poll_lease import POLLING, PollLease
from lumagate.engine.signals import Wakeup

T0 = datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)
SECONDS = 9.0


class FakeLeases:
    """A lease table of one row, whose answers the test decides (None: another holds it)."""

    def __init__(self) -> None:
        self.answer: datetime | None = T0
        self.fail = False
        self.takes: list[tuple[str, str, float]] = []
        self.released: list[tuple[str, str]] = []

    async def take(self, name: str, owner: str, seconds: float) -> datetime | None:
        self.takes.append((name, owner, seconds))
        if self.fail:
            raise ConnectionError("the database is away")
        return self.answer

    async def release(self, name: str, owner: str) -> bool:
        self.released.append((name, owner))
        return True


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def leases() -> FakeLeases:
    return FakeLeases()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def lease(leases: FakeLeases, clock: Clock) -> PollLease:
    return PollLease(leases, "replica-a", SECONDS, clock=clock)


async def test_a_take_is_sent_every_third_of_the_lease_and_a_renewal_keeps_the_term(
    lease: PollLease, leases: FakeLeases, clock: Clock
) -> None:
    assert not lease.held()
    assert await lease.keep()
    assert leases.takes == [(POLLING, "replica-a", SECONDS)] and lease.terms == 1
    clock.now += SECONDS / 3 - 0.01
    assert await lease.keep()
    assert len(leases.takes) == 1  # not due yet: no statement
    clock.now += 0.02
    assert await lease.keep()
    assert len(leases.takes) == 2 and lease.terms == 1  # renewed, same term


async def test_a_grant_is_trusted_only_until_the_lease_length_after_the_take_was_sent(
    lease: PollLease, clock: Clock
) -> None:
    assert await lease.keep()
    clock.now += SECONDS - 0.01
    assert lease.held()
    clock.now += 0.02  # e.g. the process was paused: it stops polling without a statement
    assert not lease.held()


async def test_another_holder_means_no_polling_and_a_later_take_is_a_new_term(
    lease: PollLease, leases: FakeLeases, clock: Clock
) -> None:
    assert await lease.keep()
    leases.answer = None  # the lease ran out here and another replica took it
    clock.now += SECONDS / 3
    assert not await lease.keep()
    assert not lease.held()
    leases.answer = T0 + timedelta(minutes=5)  # that replica died; this one takes it over
    clock.now += SECONDS / 3
    assert await lease.keep()
    assert lease.terms == 2


async def test_a_renewal_after_the_local_end_begins_a_new_term(
    lease: PollLease, clock: Clock
) -> None:
    """Same term at the database, but this replica stopped polling meanwhile: it starts over."""
    assert await lease.keep()
    clock.now += SECONDS + 1
    assert await lease.keep()
    assert lease.terms == 2


async def test_a_failed_take_leaves_the_grant_until_its_local_end_and_retries_soon(
    lease: PollLease, leases: FakeLeases, clock: Clock
) -> None:
    assert await lease.keep()
    leases.fail = True
    clock.now += SECONDS / 3
    assert await lease.keep()  # still within the grant
    clock.now += 1.0
    assert await lease.keep()
    assert len(leases.takes) == 3  # retried a second later, not a third of the lease later
    clock.now += SECONDS
    assert not await lease.keep()


async def test_release_gives_up_only_a_lease_it_holds(lease: PollLease, leases: FakeLeases) -> None:
    await lease.release()
    assert leases.released == []
    assert await lease.keep()
    await lease.release()
    assert leases.released == [(POLLING, "replica-a")]
    assert not lease.held()


async def test_the_keeper_wakes_the_refresher_when_a_term_begins_only(
    lease: PollLease, clock: Clock
) -> None:
    woken = Wakeup()
    await lease.keep_and_wake(woken)
    assert await woken.wait(0)  # the first term: poll at once
    clock.now += SECONDS / 3
    await lease.keep_and_wake(woken)
    assert not await woken.wait(0)  # a renewal wakes nobody
