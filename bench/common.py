"""What every bench section shares: the run's size (full or ``--quick``), the official account
argument list for a sim, and waiting for a task state through the gateway's API."""

from __future__ import annotations

import time
from dataclasses import dataclass

import httpx

from bench.harness import Gateway
from lumagate.sim.testing import SimServer

SIM_KEY = "luma-bench"


@dataclass(frozen=True)
class Plan:
    """How big and how long each section is; ``quick`` shrinks every one of them."""

    quick: bool
    rounds: int
    seconds: float
    connections: int
    history: int
    queue: int
    running: int
    latency_tasks: int
    idle_seconds: float
    lone_task_seconds: float  # how long the lone polled task of the upstream section runs

    @classmethod
    def make(cls, quick: bool) -> Plan:
        if quick:
            return cls(True, 1, 2.0, 32, 20_000, 2_000, 200, 5, 30.0, 20.0)
        return cls(False, 3, 4.0, 32, 100_000, 10_000, 1_000, 12, 60.0, 120.0)


def official_account(sim: SimServer, max_concurrency: int, *, callbacks: bool = True) -> list[str]:
    args = ["luma-official", "--api-key", SIM_KEY, "--base-url", sim.base_url + "/dream-machine/v1"]
    args += ["--max-concurrency", str(max_concurrency)]
    return args if callbacks else [*args, "--no-callbacks"]


def create_task(gw: Gateway, prompt: str) -> str:
    with gw.client() as http:
        answer = http.post("/luma/generations", json={"user_prompt": prompt})
        answer.raise_for_status()
        return str(answer.json()["id"])


def wait_state(gw: Gateway, task_id: str, states: tuple[str, ...], timeout: float = 60.0) -> str:
    """Poll the task until its public state is one of ``states``; the state reached."""
    deadline = time.monotonic() + timeout
    with gw.client() as http:
        while time.monotonic() < deadline:
            try:
                state = str(http.get(f"/luma/generations/{task_id}").json()["state"])
            except httpx.HTTPError:
                state = ""
            if state in states:
                return state
            time.sleep(0.1)
    raise TimeoutError(f"task {task_id} did not reach {states}")
