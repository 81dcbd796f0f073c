"""What the engine costs and how quickly it moves: upstream calls per task, completion→visible
and slot-free→submit latency, and the writes it makes while nothing changes.

Latency is read off the sim's own timeline (it runs in this process, on the same monotonic
clock): a generation completes at ``started + queued + dreaming``; the next one of a
one-slot account is submitted at its ``started``. The client polls the gateway every 10 ms, so
completion→visible is measured to about that. Slot-free→submit starts when the gateway learnt
the slot was free (``bench/slot_watch.py``: the sim answered the read that showed the
completion, or the gateway acknowledged its callback); the older upstream-end→submit, from the
upstream's completion itself, is kept beside it (in polling mode it holds the poll's wait too).
"""

from __future__ import annotations

import itertools
import time
from contextlib import ExitStack

import httpx

from bench import upstream_calls
from bench.common import SIM_KEY, Plan, create_task, official_account, wait_state
from bench.harness import Gateway, gateway, sim_server
from bench.report import Figure, percentile
from bench.seed import clone_tasks, install_write_counter, postgres_database, writes_so_far
from bench.slot_watch import SlotWatch, watched_sim
from lumagate.sim.testing import SimServer

SECTION = "engine"
LATENCY_TARGETS = {"callbacks": (50.0, 50.0), "polling": (50.0, 250.0)}
POLL_LEASE_RENEW_SECONDS = 10.0  # a third of LUMAGATE_LEASE_SECONDS (30 s by default)


def upstream_call_figures(plan: Plan) -> list[Figure]:
    """Upstream calls per task (``bench/upstream_calls.py``: the lone tasks run at once)."""
    return upstream_calls.figures(plan)


def latency_figures(plan: Plan) -> list[Figure]:
    figures = []
    for follow in ("callbacks", "polling"):
        visible, gaps, upstream_gaps = _latencies(plan, callbacks=follow == "callbacks")
        target_visible, target_gap = LATENCY_TARGETS[follow]
        for name, values, target in (
            ("completion→visible", visible, target_visible),
            ("slot-free→submit", gaps, target_gap),
            ("upstream-end→submit", upstream_gaps, None),
        ):
            for q in (50, 95):
                aimed = target if q == 50 else None
                figures.append(
                    Figure(
                        SECTION,
                        f"{name} p{q}, {follow}",
                        percentile(values, q),
                        "ms",
                        aimed,
                        "target" if aimed else "",
                        f"<= {aimed:.0f} ms" if aimed else "",
                        values,
                    )
                )
    return figures


Latencies = tuple[list[float], list[float], list[float]]


def _latencies(plan: Plan, *, callbacks: bool) -> Latencies:
    watch = SlotWatch()
    with (
        watched_sim(
            watch,
            queued_seconds=0.3,
            dreaming_seconds=0.7,
            tick_seconds=0.01,
            creates_per_minute=100_000,
            callback_duplicate_rate=0.0,
        ) as sim,
        gateway([official_account(sim, 1, callbacks=callbacks)]) as gw,
    ):
        prompts = [f"bench latency {i}" for i in range(plan.latency_tasks)]
        ids = [create_task(gw, p) for p in prompts]
        seen = _watch(gw, ids, timeout=120 + 10 * len(prompts))
        by_prompt = {p: seen[i] for i, p in zip(ids, prompts, strict=True) if i in seen}
        return _timeline(sim, by_prompt, watch.learnt)


def _watch(gw: Gateway, ids: list[str], timeout: float) -> dict[str, float]:
    """Poll the batch read every 10 ms; when each task was first seen completed (monotonic)."""
    seen: dict[str, float] = {}
    deadline = time.monotonic() + timeout
    with gw.client() as http:
        while len(seen) < len(ids) and time.monotonic() < deadline:
            pending = [i for i in ids if i not in seen]
            try:
                records = http.post("/luma/tasks", json={"ids": pending}).json()["data"]
            except httpx.HTTPError:
                records = []
            now = time.monotonic()
            for record in records:
                if record["data"]["state"] in ("completed", "failed"):
                    seen[record["id"]] = now
            time.sleep(0.01)
    return seen


def _timeline(sim: SimServer, seen: dict[str, float], learnt: dict[str, float]) -> Latencies:
    """completion→visible per task, and before each next submit the gap since the gateway
    learnt the slot was free and the gap since the upstream completed (ms)."""
    generations = sorted(
        (g for g in sim.runtime.world.generations.values() if g.credential == SIM_KEY),
        key=lambda g: g.started,
    )
    done_at = {g.prompt: g.started + g.queued_seconds + g.dreaming_seconds for g in generations}
    visible = [(when - done_at[p]) * 1000 for p, when in seen.items() if p in done_at]
    pairs = list(itertools.pairwise(generations))
    gaps = [(b.started - learnt[a.id]) * 1000 for a, b in pairs if a.id in learnt]
    upstream_gaps = [(b.started - done_at[a.prompt]) * 1000 for a, b in pairs]
    return visible, gaps, upstream_gaps


def idle_write_figures(plan: Plan) -> list[Figure]:
    """Rows written to ``tasks`` per minute while ``plan.running`` tasks change nothing, on
    SQLite and on PostgreSQL (where the polling lease's renewals are counted apart)."""
    figures = []
    for backend in ("SQLite", "PostgreSQL"):
        with ExitStack() as stack:
            database_url = None
            if backend == "PostgreSQL":
                database_url = stack.enter_context(postgres_database())
            writes, lease_writes = _idle_writes(plan, database_url)
        label = f"idle writes/min, {plan.running} running, {backend}"
        figures.append(
            Figure(SECTION, label, writes, "rows/min", plan.running, "running tasks", "0")
        )
        if database_url is not None:
            figures.append(
                Figure(
                    SECTION,
                    f"polling lease writes/min, {plan.running} running, {backend}",
                    lease_writes,
                    "rows/min",
                    60 / POLL_LEASE_RENEW_SECONDS,
                    "one renewal per 10 s",
                    "independent of running",
                )
            )
    return figures


def _idle_writes(plan: Plan, database_url: str | None) -> tuple[float, float]:
    """(task rows, lease rows) written per minute by one gateway over ``database_url`` (None:
    SQLite in its data dir) while ``plan.running`` tasks dream for two hours."""
    with (
        sim_server(
            queued_seconds=0.1,
            dreaming_seconds=7200,
            max_concurrency=plan.running + 10,
            creates_per_minute=1_000_000,
        ) as sim,
        gateway([official_account(sim, plan.running + 10)], database_url=database_url) as gw,
    ):
        template = create_task(gw, "bench idle")
        wait_state(gw, template, ("processing",))
        upstream_ids = _sim_generations(sim, plan.running - 1)
        clone_tasks(
            gw.database_url,
            template,
            len(upstream_ids),
            state="processing",
            next_poll_at=None,
            upstream_ids=upstream_ids,
        )
        install_write_counter(gw.database_url)
        time.sleep(min(10.0, plan.idle_seconds / 3))  # the first polls of the new tasks settle
        before, began = writes_so_far(gw.database_url), time.monotonic()
        time.sleep(plan.idle_seconds)
        after = writes_so_far(gw.database_url)
        minutes = (time.monotonic() - began) / 60
    return (after.tasks - before.tasks) / minutes, (after.leases - before.leases) / minutes


def _sim_generations(sim: SimServer, count: int) -> list[str]:
    """Create ``count`` generations at the sim directly (they dream for two hours)."""
    ids = []
    with httpx.Client(
        base_url=sim.base_url,
        headers={"Authorization": f"Bearer {SIM_KEY}"},
        timeout=30,
        trust_env=False,
    ) as http:
        for i in range(count):
            answer = http.post(
                "/dream-machine/v1/generations",
                json={"model": "ray-2", "prompt": f"bench idle {i}"},
            )
            answer.raise_for_status()
            ids.append(str(answer.json()["id"]))
    return ids
