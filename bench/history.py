"""GET, list and batch p99 with a small and a large history (1k and ``Plan.history`` tasks).

Two gateways, one per history size, each seeded by cloning one completed task of its own tenant
(direct inserts, see ``seed.py``); the probe a client polls is a processing task. Latency is
taken at a fixed moderate request rate, not at saturation, so p99 shows what a history-bound
query costs a request and not how the queue of requests grows.
"""

from __future__ import annotations

import json
import random
from contextlib import ExitStack

from bench import wrk
from bench.common import Plan, create_task, official_account, wait_state
from bench.harness import gateway, sim_server
from bench.report import Figure, median
from bench.seed import clone_tasks

SECTION = "history"
RATE = 50.0
CONNECTIONS = 8
SMALL = 1_000


def _label(count: int) -> str:
    return f"{count // 1000}k"


def measure(plan: Plan) -> list[Figure]:
    endpoints: dict[str, dict[str, tuple[str, str, str | None]]] = {}
    with ExitStack() as stack:
        sim = stack.enter_context(sim_server(queued_seconds=0.1, dreaming_seconds=0.3))
        keys: dict[str, str] = {}
        for size in (SMALL, plan.history):
            gw = stack.enter_context(gateway([official_account(sim, 10)], log_level="info"))
            template = create_task(gw, "bench history")
            wait_state(gw, template, ("completed",))
            ids = clone_tasks(gw.database_url, template, size - 1)
            sim.runtime.set_config(sim.runtime.config.updated({"dreaming_seconds": 3600}))
            probe = create_task(gw, "bench history probe")
            wait_state(gw, probe, ("processing",))
            sim.runtime.set_config(sim.runtime.config.updated({"dreaming_seconds": 0.3}))
            batch = json.dumps({"ids": random.Random(size).sample(ids, 100)})
            base = gw.base_url
            endpoints[_label(size)] = {
                "GET": (f"{base}/luma/generations/{probe}", "GET", None),
                "list first page": (f"{base}/dream-machine/v1/generations?limit=10", "GET", None),
                "list offset 900": (
                    f"{base}/dream-machine/v1/generations?limit=10&offset=900",
                    "GET",
                    None,
                ),
                "batch of 100 ids": (f"{base}/luma/tasks", "POST", batch),
            }
            keys[_label(size)] = gw.key
        runs: dict[tuple[str, str], list[wrk.WrkResult]] = {}
        for _ in range(plan.rounds):
            for what in endpoints[_label(SMALL)]:
                for size, urls in endpoints.items():
                    url, method, body = urls[what]
                    result = wrk.run(
                        url,
                        method=method,
                        body=body,
                        key=keys[size],
                        connections=CONNECTIONS,
                        seconds=plan.seconds,
                        rate=RATE,
                    )
                    runs.setdefault((what, size), []).append(result)
    return _figures(runs, _label(SMALL), _label(plan.history))


def _figures(
    runs: dict[tuple[str, str], list[wrk.WrkResult]], small: str, large: str
) -> list[Figure]:
    figures = []
    for what in dict.fromkeys(w for w, _ in runs):
        base = median([r.p99_ms for r in runs[(what, small)]])
        p99 = [r.p99_ms for r in runs[(what, large)]]
        target = "<= 1.5x" if what == "GET" else "<= 2x"
        figures.append(
            Figure(
                SECTION,
                f"{what} p99, {large} tasks in history",
                median(p99),
                "ms",
                base,
                f"{small} tasks in history",
                target,
                p99,
            )
        )
        bad = sum(r.errors + r.non_2xx for key in ((what, small), (what, large)) for r in runs[key])
        if bad:
            figures.append(Figure(SECTION, f"{what} errors/non-2xx", bad, "count"))
    return figures
