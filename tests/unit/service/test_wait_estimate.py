"""WaitEstimator over fakes of its two reads and the account list: the formula (position over
capacity times the recent run time, or what is left of a running task's), the snapshot's
position rule, and when the reads happen (once at first, then in the background when stale).
Positions against the store's own COUNT: tests/integration/service/test_wait_estimate.py."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import replace
from datetime import datetime, timedelta

import pytest

from lumagate.domain.accounts import Account
from lumagate.domain.channels import Channel
from lumagate.domain.clock import utcnow
from lumagate.domain.states import TaskState
from lumagate.domain.task import Task
from lumagate.service.wait_estimate import (
    RUN_TIME_SECONDS,
    SNAPSHOT_SECONDS,
    QueueSnapshot,
    WaitEstimator,
)
from tests.support.accounts import an_account
from tests.support.tasks import NOW, chat_task
from tests.support.waiting import async_wait_until

RUN = 60.0


class FakeReads:
    """The queue's order and the recent run time, each read counted; ``gate`` holds reads
    after the first until the test sets it, ``error`` makes reads fail."""

    def __init__(self, queue: list[tuple[int, datetime]], run: float | None = RUN) -> None:
        self.queue = queue
        self.run = run
        self.queue_reads = 0
        self.run_reads = 0
        self.gate = asyncio.Event()
        self.gate.set()
        self.error: Exception | None = None

    async def queued_order(self) -> list[tuple[int, datetime]]:
        self.queue_reads += 1
        await self.gate.wait()
        if self.error is not None:
            raise self.error
        return list(self.queue)

    async def recent_run_seconds(self) -> float | None:
        self.run_reads += 1
        await self.gate.wait()
        if self.error is not None:
            raise self.error
        return self.run


class Accounts:
    def __init__(self, *accounts: Account) -> None:
        self.accounts = list(accounts)

    async def all(self) -> list[Account]:
        return self.accounts


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _queued(at_seconds: int, channel: Channel = Channel.DEFAULT) -> Task:
    task = chat_task(TaskState.QUEUED)
    return replace(task, channel=channel, created_at=NOW + timedelta(seconds=at_seconds))


def _queue(*tasks: Task) -> list[tuple[int, datetime]]:
    """(priority, created_at) in dispatch order, as ``TaskStore.queued_order`` answers."""
    return sorted(((t.channel.priority, t.created_at) for t in tasks), key=lambda p: (-p[0], p[1]))


def _estimator(reads: FakeReads, *accounts: Account) -> tuple[WaitEstimator, Clock]:
    clock = Clock()
    pool = accounts or (an_account("relay", max_concurrency=2),)
    return WaitEstimator(reads, Accounts(*pool), clock=clock), clock


def test_a_position_counts_higher_priorities_and_earlier_tasks_of_its_own() -> None:
    snapshot = QueueSnapshot()
    for priority, created in _queue(
        _queued(0, Channel.PRO), _queued(9, Channel.VIP), _queued(1), _queued(2), _queued(3)
    ):
        snapshot.by_priority.setdefault(priority, []).append(created)
    assert snapshot.ahead_of(_queued(2)) == 3  # pro, vip, and the default task of second 1
    assert snapshot.ahead_of(_queued(0)) == 2  # an equal creation time is not ahead
    assert snapshot.ahead_of(_queued(5, Channel.VIP)) == 1  # defaults are behind a vip task
    assert snapshot.ahead_of(_queued(5, Channel.PRO)) == 1


async def test_a_queued_task_waits_its_turns_over_the_channels_capacity() -> None:
    tasks = [_queued(second) for second in range(5)]
    reads = FakeReads(_queue(*tasks))
    waits, _ = _estimator(
        reads,
        an_account("relay", "a", max_concurrency=2),
        an_account("relay", "b", max_concurrency=1),
        an_account("relay", "off", max_concurrency=50, enabled=False),
        an_account("relay", "vip", max_concurrency=50, channels=(Channel.VIP,)),
    )
    # capacity 3: positions 0-2 start in the first round, 3-4 in the second
    assert [await waits.estimate(task) for task in tasks] == [60, 60, 60, 120, 120]
    assert (reads.queue_reads, reads.run_reads) == (1, 1)


async def test_a_channel_without_capacity_counts_as_one_slot() -> None:
    tasks = [_queued(second, Channel.PRO) for second in range(3)]
    waits, _ = _estimator(FakeReads(_queue(*tasks)), an_account("relay", channels=(Channel.VIP,)))
    assert [await waits.estimate(task) for task in tasks] == [60, 120, 180]


async def test_a_running_task_waits_what_is_left_of_the_recent_run_time() -> None:
    waits, _ = _estimator(FakeReads([]))
    twenty_seconds_ago = utcnow() - timedelta(seconds=20)
    running = replace(chat_task(TaskState.PROCESSING), submitted_at=twenty_seconds_ago)
    assert await waits.estimate(running) in (40, 39)  # a second may pass between the two clocks
    late = replace(running, submitted_at=utcnow() - timedelta(hours=1))
    assert await waits.estimate(late) == 0  # overdue: never a negative wait
    never_submitted = replace(chat_task(TaskState.SUBMITTING), created_at=utcnow())
    assert await waits.estimate(never_submitted) in (60, 59)


async def test_no_estimate_for_an_ended_task_or_without_history() -> None:
    reads = FakeReads([], run=None)
    waits, _ = _estimator(reads)
    assert await waits.estimate(chat_task(TaskState.COMPLETED, 100)) is None
    assert reads.run_reads == 0  # an ended task costs no read
    assert await waits.estimate(_queued(0)) is None
    assert reads.queue_reads == 0  # no history, no position needed


async def test_a_stale_snapshot_answers_at_once_and_one_refresh_reads_the_queue() -> None:
    task, urgent = _queued(0), _queued(5, Channel.PRO)
    reads = FakeReads(_queue(task))
    waits, clock = _estimator(reads, an_account("relay"))
    assert await waits.estimate(task) == 60
    reads.queue = _queue(task, urgent)  # a pro task now goes first
    clock.now += SNAPSHOT_SECONDS / 2
    assert await waits.estimate(task) == 60  # fresh enough: the pro task is not seen yet
    assert reads.queue_reads == 1
    clock.now += SNAPSHOT_SECONDS
    reads.gate.clear()
    assert [await waits.estimate(task) for _ in range(3)] == [60] * 3  # not held by a read
    await async_wait_until(lambda: reads.queue_reads == 2, "the refresh began", timeout=10)
    assert await waits.estimate(task) == 60  # still the old snapshot while the refresh reads
    reads.gate.set()
    await waits.settle()
    assert reads.queue_reads == 2  # four stale answers, one refresh
    assert await waits.estimate(task) == 120  # the refreshed snapshot has the pro task ahead


async def test_the_run_time_is_read_again_in_the_background_when_stale() -> None:
    reads = FakeReads([])
    waits, clock = _estimator(reads)
    running = replace(chat_task(TaskState.PROCESSING), submitted_at=utcnow())
    assert await waits.estimate(running) in (60, 59)
    reads.run = 600.0
    clock.now += RUN_TIME_SECONDS + 1
    assert await waits.estimate(running) in (60, 59)  # answered with the old value
    await waits.settle()
    assert reads.run_reads == 2
    assert await waits.estimate(running) in (600, 599)


async def test_concurrent_first_estimates_read_each_value_once() -> None:
    tasks = [_queued(second) for second in range(10)]
    reads = FakeReads(_queue(*tasks))
    waits, _ = _estimator(reads)
    reads.gate.clear()
    pending = [asyncio.create_task(waits.estimate(task)) for task in tasks]
    await async_wait_until(lambda: reads.run_reads, "the first read began", timeout=10)
    reads.gate.set()
    estimates = await asyncio.wait_for(asyncio.gather(*pending), 10)
    assert estimates == [(position // 2 + 1) * 60 for position in range(10)]
    assert (reads.queue_reads, reads.run_reads) == (1, 1)


async def test_a_failed_refresh_keeps_the_old_value_and_the_next_stale_estimate_retries(
    caplog: pytest.LogCaptureFixture,
) -> None:
    task = _queued(0)
    reads = FakeReads(_queue(task))
    waits, clock = _estimator(reads)
    assert await waits.estimate(task) == 60
    reads.error = ConnectionError("database gone")
    clock.now += RUN_TIME_SECONDS + 1
    with caplog.at_level(logging.ERROR, logger="lumagate.service.wait_estimate"):
        assert await waits.estimate(task) == 60
        await waits.settle()
    assert "could not be refreshed" in caplog.text
    reads.error = None
    clock.now += RUN_TIME_SECONDS + 1
    assert await waits.estimate(task) == 60
    await waits.settle()
    assert (reads.queue_reads, reads.run_reads) == (3, 3)  # first, failed, retried
