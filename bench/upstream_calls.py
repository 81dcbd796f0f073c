"""Upstream calls per completed task, counted at the sim (``/_sim/stats`` routes per credential).

With upstream callbacks an official task costs about 2 calls: the create and at most one read
when the "completed" callback arrives (several tasks finishing together share one list call).
Polling instead reads one list page per account per refresh, so its cost per task falls as more
tasks run on the account at once: reported for batch sizes 1, 10 and 50 (the account runs that
many at once and gets that many tasks per wave, three waves). The web account sometimes
needs a poll more (``video: null``); its download is the listed ``video_raw``. Upkeep calls
(credits, keep-alive, usage) are counted too: one each per run at the default interval.

Run: ``python -m bench.upstream_calls`` (or ``python -m bench`` for every benchmark).
Ratios compare runs on one machine; absolute timings mean nothing here.
"""

from __future__ import annotations

from dataclasses import dataclass

from bench.harness import calls_by_route, gateway, run_tasks, sim_server

QUEUED_SECONDS = 1.0
DREAMING_SECONDS = 3.0
REFRESH_SECONDS = "1.0"
WAVES = 3


@dataclass(frozen=True)
class Row:
    upstream: str
    follow: str
    batch: int
    tasks: int
    calls: int
    routes: dict[str, int]
    seconds: float = QUEUED_SECONDS + DREAMING_SECONDS  # how long each task runs upstream

    @property
    def per_task(self) -> float:
        return self.calls / self.tasks if self.tasks else float("nan")


def _measure(
    kind: str, callbacks: bool, batch: int, seconds: float = QUEUED_SECONDS + DREAMING_SECONDS
) -> Row:
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
        completed = sum(1 for s in states.values() if s == "completed")
        routes = calls_by_route(sim, credential)
    follow = "callbacks" if callbacks else "polling"
    return Row(kind, follow, batch, completed, sum(routes.values()), routes, seconds)


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
