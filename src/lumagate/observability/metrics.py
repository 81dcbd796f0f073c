"""The gateway's Prometheus metrics that each replica counts itself.

One :class:`GatewayMetrics` per process, on its own registry (never the library's global
one, so tests and several apps in one process do not share counters). Labels are bounded by
construction: channels, dialects, models, states, provider kinds, operation names, outcome
classes and route templates; never a task, key or account id, never a raw path. The
cluster-wide gauges (queue depth, accounts, callbacks, credits) are read from the database on
each scrape by :mod:`lumagate.observability.db_gauges`.
"""

from __future__ import annotations

from collections import OrderedDict

from prometheus_client import CollectorRegistry, Counter, Histogram

from lumagate.domain.states import TaskState
from lumagate.domain.task import Task

TASK_LABELS = ("channel", "dialect", "model")
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
TASK_BUCKETS = (5.0, 10.0, 20.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1200.0, 1800.0, 3600.0)
REMEMBERED_TASKS = 10_000


class GatewayMetrics:
    """Counters and histograms of this replica, and the hooks that feed them."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry(auto_describe=True)
        r = self.registry
        self.tasks_created, self.tasks_completed, self.tasks_cancelled, self.tasks_failed = (
            Counter(f"lumagate_tasks_{event}", what, TASK_LABELS, registry=r)
            for event, what in (
                ("created", "Tasks created on this replica."),
                ("completed", "Tasks seen completing here."),
                ("cancelled", "Tasks seen cancelled here."),
                ("failed", "Tasks seen failing here."),
            )
        )
        self.task_seconds = Histogram(
            "lumagate_task_completion_seconds",
            "Time from create to completed.",
            ("channel", "model"),
            buckets=TASK_BUCKETS,
            registry=r,
        )
        self.upstream_calls, self.upstream_seconds = _counted_and_timed(
            r,
            "upstream_call",
            ("provider", "operation"),
            "outcome",
            ("Calls to upstream providers.", "Latency of upstream provider calls."),
        )
        self.http_requests, self.http_seconds = _counted_and_timed(
            r,
            "http_request",
            ("method", "route"),
            "status",
            (
                "HTTP requests answered, by route template and status.",
                "HTTP request latency by route template.",
            ),
        )
        # Task ids whose end was counted, so an event published twice counts once.
        self._ended: OrderedDict[str, None] = OrderedDict()

    @staticmethod
    def _task_labels(task: Task) -> tuple[str, str, str]:
        return task.channel.value, task.dialect, task.request.model

    def task_created(self, task: Task) -> None:
        self.tasks_created.labels(*self._task_labels(task)).inc()

    async def on_task_changed(self, task: Task) -> None:
        """A :class:`~lumagate.engine.events.TaskEvents` listener: count ends once."""
        if not task.state.is_terminal or task.id in self._ended:
            return
        self._ended[task.id] = None
        if len(self._ended) > REMEMBERED_TASKS:
            self._ended.popitem(last=False)
        labels = self._task_labels(task)
        if task.state == TaskState.CANCELLED:
            self.tasks_cancelled.labels(*labels).inc()
            return
        if task.state == TaskState.FAILED:
            self.tasks_failed.labels(*labels).inc()
            return
        self.tasks_completed.labels(*labels).inc()
        if task.finished_at is not None:
            seconds = (task.finished_at - task.created_at).total_seconds()
            self.task_seconds.labels(task.channel.value, task.request.model).observe(seconds)

    def upstream_call(self, provider: str, operation: str, outcome: str, seconds: float) -> None:
        self.upstream_calls.labels(provider, operation, outcome).inc()
        self.upstream_seconds.labels(provider, operation).observe(seconds)


def _counted_and_timed(
    registry: CollectorRegistry,
    name: str,
    labels: tuple[str, ...],
    result: str,
    texts: tuple[str, str],
) -> tuple[Counter, Histogram]:
    """``lumagate_<name>s`` by ``labels`` and ``result``, and ``lumagate_<name>_seconds`` (the
    latency by ``labels``): how often something is done and how long it takes."""
    count_help, latency_help = texts
    counter = Counter(f"lumagate_{name}s", count_help, (*labels, result), registry=registry)
    latency = Histogram(
        f"lumagate_{name}_seconds",
        latency_help,
        labels,
        buckets=LATENCY_BUCKETS,
        registry=registry,
    )
    return counter, latency
