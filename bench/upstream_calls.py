"""Upstream calls per completed task, counted at the sim (``/_sim/stats`` routes per credential).

With upstream callbacks an official task costs about 2 calls: the create and at most one read
when the "completed" callback arrives (several tasks finishing together share one list call).
Polling instead reads one list page per account per refresh, so its cost per task falls as more
tasks run on the account at once: reported for batch sizes 1, 10 and 50 (the account runs that
many at once and gets that many tasks per wave, three waves). The web account sometimes
needs a poll more (``video: null``); its download is the listed ``video_raw``. Upkeep calls
(credits, keep-alive, usage) are counted too: one each per run and upkeep period.

Every request the sim's API routes received is counted, whatever credential it carried (each
measurement has a sim of its own); media downloads are not API calls and are not counted, as
a pass-through proxy's client would fetch the video too. The issue's lone figure is for a
2-minute task: ``figures`` runs the official and the web lone tasks at once, each with its own
sim and gateway, so the section takes one lone run's time.

Run: ``python -m bench.upstream_calls`` (4 s tasks) or ``python -m bench --only upstream``.
Ratios compare runs on one machine; absolute timings mean nothing here.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from bench.common import Plan
from bench.harness import gateway, run_tasks, sim_server
from bench.report import Figure
from lumagate.sim.testing import SimServer

QUEUED_SECONDS = 1.0
DREAMING_SECONDS = 3.0
TASK_SECONDS = QUEUED_SECONDS + DREAMING_SECONDS  # the short task of the batch rows
ISSUE_LONE_SECONDS = 120.0  # the issue's lone polled task runs 2 minutes
REFRESH_SECONDS = "1.0"
WAVES = 3
CLIENT_POLL_SECONDS = 5.0  # what a pass-through proxy's client polls at
SECTION = "engine"


@dataclass(frozen=True)
class Spec:
    """One measurement: which upstream, callbacks or polling, how many at once, how long."""

    upstream: str
    callbacks: bool
    batch: int
    seconds: float = TASK_SECONDS


@dataclass(frozen=True)
class Row:
    upstream: str
    follow: str
    batch: int
    tasks: int
    calls: int
    routes: dict[str, int]
    seconds: float = TASK_SECONDS  # how long each task runs upstream
    started: int = 0  # tasks created; ``tasks`` of them completed

    @property
    def per_task(self) -> float:
        return self.calls / self.tasks if self.tasks else float("nan")

    @property
    def proxy(self) -> int:
        """A pass-through proxy's calls for this row's task: 1 create + 1 read per 5 s."""
        return 1 + math.ceil(self.seconds / CLIENT_POLL_SECONDS)


def _measure(kind: str, callbacks: bool, batch: int, seconds: float = TASK_SECONDS) -> Row:
    """Calls per completed task for ``WAVES`` waves of ``batch`` tasks running ``seconds``."""
    with sim_server(
        queued_seconds=QUEUED_SECONDS,
        dreaming_seconds=seconds - QUEUED_SECONDS,
        max_concurrency=max(10, batch),
        creates_per_minute=100_000,
        callback_duplicate_rate=0.1,
        web_null_video_rate=0.3,
        seed=7,
    ) as sim:
        if kind == "luma-official":
            credential = "luma-bench"
            args = [
                "luma-official",
                "--api-key",
                credential,
                "--base-url",
                sim.base_url + "/dream-machine/v1",
            ]
            if not callbacks:
                args.append("--no-callbacks")
        else:
            credential = "bench-web-session"
            args = [
                "luma-web",
                "--cookie",
                f"access_token={credential}",
                "--base-url",
                sim.base_url,
            ]
        args += ["--max-concurrency", str(batch)]
        with gateway([args], refresh_interval_seconds=REFRESH_SECONDS) as gw:
            prompts = [f"bench {kind} {batch} {i}" for i in range(batch * WAVES)]
            states = run_tasks(gw, prompts)
        # Read after the gateway stopped: every call it made, shutdown included.
        completed = sum(1 for s in states.values() if s == "completed")
        routes = sim_calls(sim, credential)
    follow = "callbacks" if callbacks else "polling"
    return Row(kind, follow, batch, completed, sum(routes.values()), routes, seconds, len(prompts))


def sim_calls(sim: SimServer, credential: str) -> dict[str, int]:
    """Every API request the sim counted, by route; another credential's are named with it."""
    with sim.client() as debug:
        stats: dict[str, dict[str, object]] = debug.get("/_sim/stats").json()
    routes: dict[str, int] = {}
    for who, counters in stats.items():
        counted = counters.get("routes")
        assert isinstance(counted, dict)
        for route, count in counted.items():
            name = route if who == credential else f"{who}: {route}"
            routes[name] = routes.get(name, 0) + int(count)
    return routes


def measure_together(specs: Sequence[Spec]) -> list[Row]:
    """Run every spec at once, each with its own sim and gateway; rows in the specs' order."""
    with ThreadPoolExecutor(max_workers=len(specs), thread_name_prefix="bench-upstream") as pool:
        futures = [
            pool.submit(_measure, s.upstream, s.callbacks, s.batch, s.seconds) for s in specs
        ]
        return [future.result() for future in futures]


def rows_for(plan: Plan) -> list[tuple[Row, str]]:
    """The section's rows and their targets, in table order; the issue's rows say so."""
    lone = [Spec("luma-official", False, 1, plan.lone_task_seconds)]
    lone.append(Spec("luma-web", False, 1, plan.lone_task_seconds))
    if not plan.quick:
        lone.append(Spec("luma-web", False, 1))  # extra: the lone 4 s web task, for comparison
    lone_rows = measure_together(lone)
    issue_lone = "<= 1x (issue)" if plan.lone_task_seconds == ISSUE_LONE_SECONDS else "<= 1x"
    rows = [(_measure("luma-official", True, 10), "<= 2 (issue)"), (lone_rows[0], issue_lone)]
    rows.append((_measure("luma-official", False, 10), "<= 1x"))
    rows.append((_measure("luma-official", False, 50), "<= 1.2 (issue)"))
    rows.append((lone_rows[1], issue_lone))
    if not plan.quick:
        rows.append((_measure("luma-web", False, 50), "<= 1.2 (issue)"))
        rows.append((lone_rows[2], "- (extra, not the issue's)"))
    return rows


def figures(plan: Plan) -> list[Figure]:
    """The bench's upstream section: calls per task against the pass-through proxy's."""
    result = []
    for row, target in rows_for(plan):
        name = (
            f"upstream calls/task, {row.upstream} {row.follow}, {row.batch} running, "
            f"{row.seconds:.0f} s task"
        )
        print(f"   {name}: {row.calls} calls, {row.tasks}/{row.started} completed, {row.routes}")
        breakdown: dict[str, float] = {"tasks": row.tasks, "created": row.started, **row.routes}
        result.append(
            Figure(
                SECTION,
                name,
                row.per_task,
                "calls",
                row.proxy,
                "pass-through proxy",
                target,
                breakdown=breakdown,
            )
        )
    return result


def measure(batches: tuple[int, ...] = (1, 10, 50)) -> list[Row]:
    rows = [_measure("luma-official", True, 10)]
    rows += [_measure("luma-official", False, b) for b in batches]
    rows += [_measure("luma-web", False, b) for b in batches]
    return rows


def table(rows: list[Row]) -> str:
    lines = [
        f"{'upstream':<14} {'follow':<10} {'batch':>5} {'tasks':>5} {'calls':>6} {'calls/task':>10}"
    ]
    for row in rows:
        lines.append(
            f"{row.upstream:<14} {row.follow:<10} {row.batch:>5} {row.tasks:>5} "
            f"{row.calls:>6} {row.per_task:>10.2f}"
        )
    return "\n".join(lines)


def main() -> None:
    rows = measure()
    print("Upstream calls per completed task (counted at the sim)")
    print(table(rows))
    for row in rows:
        print(f"  {row.upstream} {row.follow} batch {row.batch}: {row.routes}")


if __name__ == "__main__":
    main()
