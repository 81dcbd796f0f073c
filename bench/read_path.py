"""GET throughput and p99 at half load, SQLite and PostgreSQL, against bare Starlette.

One gateway per database and the bare app run side by side; every round drives each of them in
turn (interleaved), so machine noise hits all alike. The task read is a processing one, as a
client polling for its video would read it (that read also computes the wait estimate).

Besides the wrk figures, each full-load run reads the server process's CPU time (user + system,
``/proc/<pid>/stat``) before and after: CPU per request, against bare Starlette's, is a figure
that a busy machine moves far less than throughput (a server descheduled for others' work
spends no CPU meanwhile), so it shows the server's own cost when the machine is shared.
"""

from __future__ import annotations

import math
import os
from contextlib import ExitStack
from pathlib import Path

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
        pids: dict[str, int] = {}
        bare = stack.enter_context(bare_server())
        targets["bare"] = (
            bare.base_url + "/luma/generations/0b5f6d3e-4e8f-4b57-9b1e-7a4c2a1d9e10",
            None,
        )
        pids["bare"] = bare.pid
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
            pids[name] = gw.pid
        cpu: dict[str, list[float]] = {name: [] for name in targets}
        full = _rounds(plan, targets, rate=None, pids=pids, cpu=cpu)
        half_rates = {name: median([r.rps for r in runs]) / 2 for name, runs in full.items()}
        half = _rounds(plan, targets, rate=half_rates)
    return _figures(full, half) + _cpu_figures(cpu)


def _rounds(
    plan: Plan,
    targets: dict[str, tuple[str, str | None]],
    rate: dict[str, float] | None,
    pids: dict[str, int] | None = None,
    cpu: dict[str, list[float]] | None = None,
) -> dict[str, list[wrk.WrkResult]]:
    """Each target in turn per round; with ``pids``, the server's CPU ms per request into
    ``cpu``."""
    runs: dict[str, list[wrk.WrkResult]] = {name: [] for name in targets}
    for _ in range(plan.rounds):
        for name, (url, key) in targets.items():
            connections = plan.connections
            if rate is not None:
                # Few enough connections that each pauses ~0.1 s between requests, so even a
                # slow target gets many requests into a short round.
                connections = max(1, min(plan.connections, math.ceil(rate[name] * 0.1)))
            before = _cpu_seconds(pids[name]) if pids else 0.0
            result = wrk.run(
                url,
                key=key,
                connections=connections,
                seconds=plan.seconds,
                rate=None if rate is None else rate[name],
            )
            runs[name].append(result)
            if pids and cpu is not None and result.requests:
                spent = _cpu_seconds(pids[name]) - before
                cpu[name].append(spent * 1000 / result.requests)
    return runs


def _cpu_seconds(pid: int) -> float:
    """User + system CPU of process ``pid`` so far (fields 14 and 15 of /proc/pid/stat)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _cpu_figures(cpu: dict[str, list[float]]) -> list[Figure]:
    bare = median(cpu["bare"])
    return [
        Figure(
            SECTION,
            f"server CPU per GET, {name}",
            median(cpu[name]),
            "ms",
            bare,
            "bare Starlette",
            "",
            cpu[name],
        )
        for name in ("sqlite", "postgresql")
    ]


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
