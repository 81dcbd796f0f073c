"""Gauges read from the database on each scrape: the same on every replica.

Queue depth and oldest wait per channel, tasks by state, running and limit per account and
its state, callback deliveries by state (the backlog is ``pending``) and attempts by outcome,
credits charged and refunded. Account labels are the operator's account *names* (bounded
by the pool), never ids. A database that does not answer within the timeout gives
``lumagate_database_up 0`` and no database gauges, never a failed scrape.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime

from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from lumagate.domain.accounts import Account
from lumagate.domain.clock import utcnow
from lumagate.store.accounts import AccountStore
from lumagate.store.metrics_queries import DatabaseTotals, MetricsQueries
from lumagate.store.pool import PoolStore

log = logging.getLogger(__name__)
ACCOUNT_STATES = ("enabled", "cooling_down", "disabled")
DEFAULT_TIMEOUT_SECONDS = 3.0


@dataclass(frozen=True)
class DatabaseSnapshot:
    """What one scrape read from the database (``None``: it did not answer)."""

    totals: DatabaseTotals | None
    accounts: list[tuple[Account, int]]
    taken_at: datetime


def account_state(account: Account, now: datetime) -> str:
    if not account.enabled:
        return "disabled"
    if account.cooldown_until is not None and account.cooldown_until > now:
        return "cooling_down"
    return "enabled"


class DatabaseGauges:
    """Reads a :class:`DatabaseSnapshot` (bounded by a timeout)."""

    def __init__(
        self,
        queries: MetricsQueries,
        accounts: AccountStore,
        pool: PoolStore,
        *,
        timeout: float = DEFAULT_TIMEOUT_SECONDS,
    ) -> None:
        self.queries = queries
        self.accounts = accounts
        self.pool = pool
        self.timeout = timeout

    async def snapshot(self) -> DatabaseSnapshot:
        now = utcnow()
        try:
            async with asyncio.timeout(self.timeout):
                totals = await self.queries.totals()
                running = await self.pool.running_by_account()
                accounts = [(a, running.get(a.id, 0)) for a in await self.accounts.all()]
        except Exception as error:  # the scrape still answers, saying the database is down
            log.warning("metrics: database read failed: %s", type(error).__name__)
            return DatabaseSnapshot(None, [], now)
        return DatabaseSnapshot(totals, accounts, now)


class SnapshotCollector(Collector):
    """Exposes one :class:`DatabaseSnapshot` as metric families."""

    def __init__(self, snapshot: DatabaseSnapshot) -> None:
        self.snapshot = snapshot

    def collect(self) -> Iterator[Metric]:
        answered = 1.0 if self.snapshot.totals is not None else 0.0
        yield GaugeMetricFamily(
            "lumagate_database_up", "1 if the database answered this scrape.", value=answered
        )
        if self.snapshot.totals is not None:
            yield from _task_families(self.snapshot.totals, self.snapshot.taken_at)
            yield from _callback_families(self.snapshot.totals, self.snapshot.taken_at)
            yield from _credit_families(self.snapshot.totals)
            yield from _account_families(self.snapshot.accounts, self.snapshot.taken_at)


def _age(then: datetime | None, now: datetime) -> float:
    return max(0.0, (now - then).total_seconds()) if then is not None else 0.0


def _counts(name: str, documentation: str, label: str, counts: Mapping[str, int]) -> Metric:
    """A gauge of ``counts`` with one label (its keys, sorted)."""
    family = GaugeMetricFamily(name, documentation, labels=[label])
    for value, count in sorted(counts.items()):
        family.add_metric([value], count)
    return family


def _task_families(totals: DatabaseTotals, now: datetime) -> Iterable[Metric]:
    states = _counts(
        "lumagate_tasks", "Tasks in the database by state.", "state", totals.tasks_by_state
    )
    depth = GaugeMetricFamily(
        "lumagate_queue_depth", "Queued tasks per channel.", labels=["channel"]
    )
    oldest = GaugeMetricFamily(
        "lumagate_queue_oldest_wait_seconds",
        "How long the oldest queued task of a channel has waited.",
        labels=["channel"],
    )
    for queue in totals.queues:
        depth.add_metric([queue.channel], queue.depth)
        oldest.add_metric([queue.channel], _age(queue.oldest_created_at, now))
    return (states, depth, oldest)


def _callback_families(totals: DatabaseTotals, now: datetime) -> Iterable[Metric]:
    by_state = _counts(
        "lumagate_callback_deliveries",
        "Callback deliveries by state (pending is the backlog).",
        "state",
        totals.deliveries_by_state,
    )
    backlog = GaugeMetricFamily(
        "lumagate_callback_backlog",
        "Deliveries still to be made.",
        value=totals.deliveries_by_state.get("pending", 0),
    )
    oldest = GaugeMetricFamily(
        "lumagate_callback_oldest_pending_seconds",
        "Age of the oldest pending delivery.",
        value=_age(totals.oldest_pending_delivery, now),
    )
    attempts = _counts(
        "lumagate_callback_attempts",
        "Callback delivery attempts made, by outcome (all replicas).",
        "outcome",
        totals.attempts_by_outcome,
    )
    return (by_state, backlog, oldest, attempts)


def _credit_families(totals: DatabaseTotals) -> Iterable[Metric]:
    charged = -totals.ledger_by_kind.get("charge", 0)
    refunded = totals.ledger_by_kind.get("refund", 0)
    return (
        GaugeMetricFamily(
            "lumagate_credits_charged", "Credits charged for tasks, in all.", value=charged
        ),
        GaugeMetricFamily("lumagate_credits_refunded", "Credits refunded, in all.", value=refunded),
    )


def _account_families(accounts: list[tuple[Account, int]], now: datetime) -> Iterable[Metric]:
    labels = ["account", "kind"]
    running = GaugeMetricFamily(
        "lumagate_account_running", "Tasks holding a slot of an account.", labels=labels
    )
    limit = GaugeMetricFamily(
        "lumagate_account_limit", "Concurrency an account allows now.", labels=labels
    )
    state = GaugeMetricFamily(
        "lumagate_account_state", "1 for the account's current state.", labels=[*labels, "state"]
    )
    for account, count in accounts:
        running.add_metric([account.name, account.kind], count)
        limit.add_metric([account.name, account.kind], account.effective_concurrency)
        current = account_state(account, now)
        for name in ACCOUNT_STATES:
            state.add_metric([account.name, account.kind, name], 1.0 if name == current else 0.0)
    return (running, limit, state)
