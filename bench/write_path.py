"""Create throughput with an empty queue and with a deep one (``Plan.queue`` queued tasks).

The account takes one task and keeps it (the sim's generations dream for an hour), so every
create stays queued and each dispatcher pass sees the whole queue, as a busy gateway would.
The deep queue is seeded by cloning a queued task; both gateways and the bare app are driven in
interleaved rounds.
"""

from __future__ import annotations

import json
from contextlib import ExitStack

from bench import wrk
from bench.common import Plan, create_task, official_account, wait_state
from bench.harness import bare_server, gateway, sim_server
from bench.report import Figure, median
from bench.seed import clone_tasks, count_tasks

SECTION = "write path"
BODY = json.dumps({"user_prompt": "a red fox running through snow"})


def measure(plan: Plan) -> list[Figure]:
    with ExitStack() as stack:
        sim = stack.enter_context(
            sim_server(queued_seconds=0.2, dreaming_seconds=3600, creates_per_minute=100_000)
        )
        bare = stack.enter_context(bare_server())
        targets: dict[str, tuple[str, str | None]] = {"bare": (bare.base_url, None)}
        queues: dict[str, int] = {}
        for name, depth in (("empty queue", 0), (f"{plan.queue // 1000}k queue", plan.queue)):
            gw = stack.enter_context(gateway([official_account(sim, 1)], log_level="info"))
            running = create_task(gw, "bench write running")
            wait_state(gw, running, ("processing",))
            queued = create_task(gw, "bench write queued")
            if depth > 1:
                clone_tasks(gw.database_url, queued, depth - 1)
            queues[name] = count_tasks(gw.database_url, "queued")
            targets[name] = (gw.base_url, gw.key)
        runs: dict[str, list[wrk.WrkResult]] = {name: [] for name in targets}
        for _ in range(plan.rounds):
            for name, (base, key) in targets.items():
                runs[name].append(
                    wrk.run(
                        base + "/luma/generations",
                        method="POST",
                        body=BODY,
                        key=key,
                        connections=plan.connections,
                        seconds=plan.seconds,
                    )
                )
    return _figures(runs, queues)


def _figures(runs: dict[str, list[wrk.WrkResult]], queues: dict[str, int]) -> list[Figure]:
    bare = median([r.rps for r in runs["bare"]])
    names = list(queues)
    rates = {name: [r.rps for r in runs[name]] for name in names}
    figures = [
        Figure(
            SECTION,
            f"create throughput, {name} (at start: {queues[name]})",
            median(rates[name]),
            "req/s",
            bare,
            "bare Starlette",
            ">= 0.05x",
            rates[name],
        )
        for name in names
    ]
    empty, deep = names
    figures.append(
        Figure(
            SECTION,
            f"create throughput, {deep} vs empty",
            median(rates[deep]),
            "req/s",
            median(rates[empty]),
            "empty queue",
            ">= 0.83x (within 1.2x)",
            rates[deep],
        )
    )
    for name in names:
        bad = sum(r.errors + r.non_2xx for r in runs[name])
        if bad:
            figures.append(Figure(SECTION, f"create errors/non-2xx, {name}", bad, "count"))
    return figures
