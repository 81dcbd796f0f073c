"""Official-API callbacks: POST the Generation to ``callback_url`` like Luma does.

Deliveries run as background tasks so the ticker never waits on a receiver. Per generation they
are chained (``dreaming`` is delivered before ``completed``), a non-2xx reply or a network error
is retried, and nothing a receiver does can crash the sim. Every delivery is recorded for
``/_sim/callbacks`` so tests can see what was sent and how it went.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from dataclasses import asdict, dataclass
from typing import Any

import httpx


@dataclass
class Delivery:
    """One logical callback (a duplicate is a second Delivery)."""

    url: str
    generation_id: str
    state: str
    attempts: int = 0
    status_code: int | None = None
    error: str | None = None
    delivered: bool = False

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Redelivery:
    """How the simulated upstream redelivers a callback: ``retries`` more tries, ``delay`` apart.

    A fixed delay like the upstream it imitates; not lumagate's own jittered
    :class:`~lumagate.domain.retry.RetryPolicy`.
    """

    retries: int
    delay: float
    timeout: float


class CallbackDispatcher:
    """Fires callbacks in the background; ``aclose`` cancels what is still in flight."""

    def __init__(self, history: int = 10_000) -> None:
        self._client: httpx.AsyncClient | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._chains: dict[str, asyncio.Task[None]] = {}
        self.deliveries: deque[Delivery] = deque(maxlen=history)

    def clear(self) -> None:
        self.deliveries.clear()

    def submit(
        self,
        url: str,
        generation_id: str,
        payload: dict[str, Any],
        *,
        copies: int,
        policy: Redelivery,
    ) -> None:
        """Schedule ``copies`` deliveries of ``payload``, after earlier ones for the same id."""
        previous = self._chains.get(generation_id)
        state = str(payload.get("state", ""))

        async def deliver_copies() -> None:
            if previous is not None:
                await asyncio.wait([previous])
            for _ in range(copies):
                delivery = Delivery(url=url, generation_id=generation_id, state=state)
                self.deliveries.append(delivery)
                await self._deliver(delivery, payload, policy)

        task = asyncio.get_running_loop().create_task(deliver_copies())
        self._chains[generation_id] = task
        self._tasks.add(task)
        task.add_done_callback(lambda done: self._forget(generation_id, done))

    def _forget(self, generation_id: str, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if self._chains.get(generation_id) is task:
            del self._chains[generation_id]

    async def _deliver(
        self, delivery: Delivery, payload: dict[str, Any], policy: Redelivery
    ) -> None:
        for attempt in range(policy.retries + 1):
            if attempt:
                await asyncio.sleep(policy.delay)
            delivery.attempts += 1
            try:
                response = await self._http().post(
                    delivery.url, json=payload, timeout=policy.timeout
                )
            except Exception as exc:  # a receiver must never be able to crash the sim
                delivery.error = f"{type(exc).__name__}: {exc}"
                continue
            delivery.status_code = response.status_code
            if response.is_success:
                delivery.delivered = True
                delivery.error = None
                return

    def _http(self) -> httpx.AsyncClient:
        if self._client is None:
            self._client = httpx.AsyncClient(
                trust_env=False, headers={"User-Agent": "lumagate-sim/callbacks"}
            )
        return self._client

    async def aclose(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._tasks.clear()
        self._chains.clear()
        if self._client is not None:
            await self._client.aclose()
            self._client = None
