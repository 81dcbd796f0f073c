"""GET throughput and p99 at half load, SQLite and PostgreSQL, against bare Starlette.

One gateway per database and the bare app run side by side; every round drives each of them in
turn (interleaved), so machine noise hits all alike. The task read is a processing one, as a
client polling for its video would read it (that read also computes the wait estimate).
"""

from __future__ import annotations

import math
from contextlib import ExitStack

from bench import wrk
from bench.common import Plan, create_task, official_account, wait_state
from bench.harness import bare_server, gateway, sim_server
from bench.report import Figure, median
from bench.seed import postgres_database

SECTION = "read path"


def measure(plan: Plan) -> list[Figure]:
    with ExitStack() as stack:
        sim = stack.enter_context(
            sim_server(queued_seconds=0.2, dreaming_seconds=3600, max_concurrency=100)
        )
        targets: dict[str, tuple[str, str | None]] = {}
        bare = stack.enter_context(bare_server())
        targets["bare"] = (
            bare.base_url + "/luma/generations/0b5f6d3e-4e8f-4b57-9b1e-7a4c2a1d9e10",
            None,
        )
        for name in ("sqlite", "postgresql"):
            database_url = None
            if name == "postgresql":
                database_url = stack.enter_context(postgres_database())
            gw = stack.enter_context(
                gateway([official_account(sim, 10)], log_level="info", database_url=database_url)
            )
            task_id = create_task(gw, f"bench read {name}")
            wait_state(gw, task_id, ("processing",))
            targets[name] = (f"{gw.base_url}/luma/generations/{task_id}", gw.key)
        full = _rounds(plan, targets, rate=None)
        half_rates = {name: median([r.rps for r in runs]) / 2 for name, runs in full.items()}
        half = _rounds(plan, targets, rate=half_rates)
    return _figures(full, half)


def _rounds(
    plan: Plan, targets: dict[str, tuple[str, str | None]], rate: dict[str, float] | None
) -> dict[str, list[wrk.WrkResult]]:
    runs: dict[str, list[wrk.WrkResult]] = {name: [] for name in targets}
    for _ in range(plan.rounds):
        for name, (url, key) in targets.items():
            connections = plan.connections
            if rate is not None:
                # Few enough connections that each pauses ~0.1 s between requests, so even a
                # slow target gets many requests into a short round.
                connections = max(1, min(plan.connections, math.ceil(rate[name] * 0.1)))
            runs[name].append(
                wrk.run(
                    url,
                    key=key,
                    connections=connections,
                    seconds=plan.seconds,
                    rate=None if rate is None else rate[name],
                )
            )
    return runs


def _figures(
    full: dict[str, list[wrk.WrkResult]], half: dict[str, list[wrk.WrkResult]]
) -> list[Figure]:
    bare_rps = median([r.rps for r in full["bare"]])
    bare_p99 = median([r.p99_ms for r in half["bare"]])
    figures = []
    for name in ("sqlite", "postgresql"):
        rps = [r.rps for r in full[name]]
        figures.append(
            Figure(
                SECTION,
                f"GET throughput, {name}",
                median(rps),
                "req/s",
                bare_rps,
                "bare Starlette",
                ">= 0.25x (0.5x stretch)",
                rps,
            )
        )
        p99 = [r.p99_ms for r in half[name]]
        figures.append(
            Figure(
                SECTION,
                f"GET p99 at half load, {name}",
                median(p99),
                "ms",
                bare_p99,
                "bare at its half load",
                "<= 10 ms",
                p99,
            )
        )
        bad = sum(r.errors + r.non_2xx for r in full[name] + half[name])
        if bad:
            figures.append(Figure(SECTION, f"GET errors/non-2xx, {name}", bad, "count"))
    return figures
