"""The observability part of the composition root: metrics, database gauges, readiness.

Built right after the stores, before the services and the engine, because both report into
it: the task service tells it of new tasks, the engine's calls to providers are timed by it
and its task events feed the end counters. The app binds it for ``/metrics`` and ``/readyz``.
"""

from __future__ import annotations

from dataclasses import dataclass

from lumagate.domain.task import Task
from lumagate.observability import log_context
from lumagate.observability.db_gauges import DatabaseGauges
from lumagate.observability.metrics import GatewayMetrics
from lumagate.observability.providers import MeteredProvider
from lumagate.providers.base import Provider
from lumagate.service.readiness import ReadinessCheck, database_revision
from lumagate.store.metrics_queries import MetricsQueries
from lumagate.wiring.stores import Stores


@dataclass(frozen=True)
class Observability:
    """This process's metrics, the database gauges any replica reports, and readiness."""

    metrics: GatewayMetrics
    db_gauges: DatabaseGauges
    readiness: ReadinessCheck

    def task_created(self, task: Task) -> None:
        """The task service stored a new task (not an idempotent replay)."""
        self.metrics.task_created(task)
        log_context.remember_task(task.id)  # the engine's lines for it carry the request id

    def metered(self, provider: Provider) -> Provider:
        """What the engine calls instead of ``provider``: the same, timed and counted."""
        return MeteredProvider(provider, self.metrics)


def build_observability(stores: Stores) -> Observability:
    return Observability(
        metrics=GatewayMetrics(),
        db_gauges=DatabaseGauges(MetricsQueries(stores.db), stores.accounts, stores.pool),
        readiness=ReadinessCheck(database_revision(stores.db)),
    )
