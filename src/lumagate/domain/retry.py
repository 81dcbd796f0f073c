"""The one retry policy: exponential backoff with full jitter, bounded or explicitly unlimited.

The engine retries ambiguous submissions with the default (five attempts); the callback sender
uses :meth:`RetryPolicy.unlimited`, because a delivery ends by age (its retry window), not by a
count of attempts.
"""

from __future__ import annotations

import random
from dataclasses import dataclass


@dataclass(frozen=True)
class RetryPolicy:
    """How long to wait before each retry, and (unless ``max_attempts`` is None) when to stop."""

    max_attempts: int | None = 5  # None: never exhausted
    base_seconds: float = 2.0
    cap_seconds: float = 120.0

    @classmethod
    def unlimited(cls, base_seconds: float, cap_seconds: float) -> RetryPolicy:
        """Backoff only: the caller decides when to give up (e.g. by age)."""
        return cls(max_attempts=None, base_seconds=base_seconds, cap_seconds=cap_seconds)

    def delay(self, attempt: int, rng: random.Random | None = None) -> float:
        """Seconds to wait before attempt ``attempt + 1`` (``attempt`` counts from 1)."""
        ceiling = min(self.cap_seconds, self.base_seconds * (2 ** max(0, attempt - 1)))
        return (rng or random).uniform(ceiling / 2, ceiling)

    def exhausted(self, attempt: int) -> bool:
        return self.max_attempts is not None and attempt >= self.max_attempts
