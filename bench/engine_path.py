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

import httpx

from bench import upstream_calls
from bench.common import SIM_KEY, Plan, create_task, official_account, wait_state
from bench.harness import Gateway, gateway, sim_server
from bench.report import Figure, percentile
from bench.seed import clone_tasks, install_write_counter, writes_so_far
from bench.slot_watch import SlotWatch, watched_sim
from lumagate.sim.testing import SimServer

SECTION = "engine"
LATENCY_TARGETS = {"callbacks": (50.0, 50.0), "polling": (50.0, 250.0)}


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
    """Rows written to ``tasks`` per minute while ``plan.running`` tasks change nothing."""
    with (
        sim_server(
            queued_seconds=0.1,
            dreaming_seconds=7200,
            max_concurrency=plan.running + 10,
            creates_per_minute=1_000_000,
        ) as sim,
        gateway([official_account(sim, plan.running + 10)]) as gw,
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
        written = writes_so_far(gw.database_url) - before
        per_minute = written * 60 / (time.monotonic() - began)
    return [
        Figure(
            SECTION,
            f"idle writes/min, {plan.running} running",
            per_minute,
            "rows/min",
            plan.running,
            "running tasks",
            "0",
        )
    ]


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
