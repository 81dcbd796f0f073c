"""Fault injection: seeded dice and the ASGI middleware that turns rolls into bad answers.

Faults hit the two upstream API surfaces only. Debug endpoints (``/_sim/*``), media files and
upload PUTs are never faulted, so a test can always inspect the sim and fetch what it produced.
A lost create response is decided in the create handlers (it must happen AFTER recording).
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from lumagate.sim.config import SimConfig

API_PREFIXES: tuple[str, ...] = ("/dream-machine/", "/api/")


class Dice:
    """A reproducible source of yes/no decisions (one per purpose, so they don't interfere)."""

    def __init__(self, seed: int | None) -> None:
        self._rng = random.Random(seed)

    def reseed(self, seed: int | None) -> None:
        self._rng.seed(seed)

    def roll(self, rate: float) -> bool:
        """True with probability ``rate``; rates of 0 and 1 never consume randomness."""
        if rate <= 0.0:
            return False
        if rate >= 1.0:
            return True
        return self._rng.random() < rate


def is_faultable(path: str) -> bool:
    return path.startswith(API_PREFIXES)


class FaultMiddleware:
    """Answers a share of API requests with 500, a late 504, or a slow but correct answer."""

    def __init__(
        self, app: ASGIApp, config: Callable[[], SimConfig], dice: Callable[[], Dice]
    ) -> None:
        self.app = app
        self._config = config
        self._dice = dice

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not is_faultable(str(scope["path"])):
            await self.app(scope, receive, send)
            return
        config = self._config()
        dice = self._dice()
        if dice.roll(config.error_rate):
            response = JSONResponse({"detail": "Internal server error"}, status_code=500)
            await response(scope, receive, send)
            return
        if dice.roll(config.timeout_rate):
            await asyncio.sleep(config.timeout_seconds)
            response = JSONResponse({"detail": "Gateway timeout"}, status_code=504)
            await response(scope, receive, send)
            return
        if dice.roll(config.slow_rate):
            await asyncio.sleep(config.slow_seconds)
        await self.app(scope, receive, send)
