"""Retry policy: bounded attempts, growing delays, full jitter inside the stated bounds.

The bounds are written out as numbers (what the docs promise for base 2 s, cap 120 s), and the
extremes are reached through a random source that always draws its lowest or highest value, so
these tests check the policy's behaviour rather than a second copy of its formula.
"""

from __future__ import annotations

import random

import pytest

from lumagate.domain.retry import RetryPolicy


class Extreme(random.Random):
    """A random source whose ``uniform`` always returns the low (or the high) end."""

    def __init__(self, high: bool) -> None:
        super().__init__(0)
        self.high = high

    def uniform(self, a: float, b: float) -> float:
        return max(a, b) if self.high else min(a, b)


LOWEST, HIGHEST = Extreme(high=False), Extreme(high=True)

# attempt -> (shortest, longest) delay in seconds for base 2 s, cap 120 s.
DEFAULT_BOUNDS = {
    1: (1.0, 2.0),
    2: (2.0, 4.0),
    3: (4.0, 8.0),
    4: (8.0, 16.0),
    5: (16.0, 32.0),
    6: (32.0, 64.0),
    7: (60.0, 120.0),  # 128 s capped at 120 s
    8: (60.0, 120.0),
    40: (60.0, 120.0),
}


def test_attempts_are_bounded() -> None:
    policy = RetryPolicy(max_attempts=3)
    assert [policy.exhausted(a) for a in range(0, 6)] == [False, False, False, True, True, True]
    assert RetryPolicy().exhausted(5)
    assert not RetryPolicy().exhausted(4)


def test_an_unlimited_policy_is_never_exhausted_and_still_backs_off() -> None:
    policy = RetryPolicy.unlimited(base_seconds=5.0, cap_seconds=60.0)
    assert policy.max_attempts is None
    assert not any(policy.exhausted(a) for a in (0, 1, 5, 10**9))
    rng = random.Random(7)
    assert 2.5 <= policy.delay(1, rng) <= 5.0
    assert 30.0 <= policy.delay(30, rng) <= 60.0


@pytest.mark.parametrize(("attempt", "bounds"), DEFAULT_BOUNDS.items())
def test_delays_stay_within_half_to_full_ceiling(attempt: int, bounds: tuple[float, float]) -> None:
    policy = RetryPolicy(base_seconds=2.0, cap_seconds=120.0)
    low, high = bounds
    assert policy.delay(attempt, LOWEST) == pytest.approx(low)
    assert policy.delay(attempt, HIGHEST) == pytest.approx(high)
    rng = random.Random(1234)
    for _ in range(200):
        assert low <= policy.delay(attempt, rng) <= high


def test_delays_are_capped() -> None:
    policy = RetryPolicy(base_seconds=2.0, cap_seconds=10.0)
    assert [policy.delay(a, HIGHEST) for a in range(1, 7)] == [2.0, 4.0, 8.0, 10.0, 10.0, 10.0]
    assert all(policy.delay(a, LOWEST) == 5.0 for a in range(4, 40))  # the cap's half
    rng = random.Random(7)
    delays = [policy.delay(attempt, rng) for attempt in range(1, 40)]
    assert max(delays) <= 10.0
    assert all(d >= 5.0 for d in delays[3:])  # attempt 4 onward: ceiling is the cap


def test_delays_grow_with_attempts() -> None:
    policy = RetryPolicy(base_seconds=1.0, cap_seconds=1000.0)
    rng = random.Random(42)
    means = [sum(policy.delay(attempt, rng) for _ in range(300)) / 300 for attempt in range(1, 8)]
    assert means == sorted(means)
    # Each ceiling doubles, so the lowest possible delay of attempt n+1 equals the highest of n.
    for attempt in range(1, 7):
        assert policy.delay(attempt + 1, LOWEST) == policy.delay(attempt, HIGHEST)
    assert means[-1] > 10 * means[0]


def test_jitter_is_real_and_reproducible_with_a_seed() -> None:
    policy = RetryPolicy()
    first = [policy.delay(3, random.Random(99)) for _ in range(3)]
    assert len(set(first)) == 1  # same seed, same delay
    rng = random.Random(99)
    spread = {round(policy.delay(3, rng), 6) for _ in range(50)}
    assert len(spread) > 40  # not a constant
    sequence_a = [RetryPolicy().delay(a, r) for r in [random.Random(5)] for a in range(1, 6)]
    sequence_b = [RetryPolicy().delay(a, r) for r in [random.Random(5)] for a in range(1, 6)]
    assert sequence_a == sequence_b


@pytest.mark.parametrize("attempt", [0, -3])
def test_attempt_zero_or_less_uses_the_base(attempt: int) -> None:
    policy = RetryPolicy(base_seconds=4.0)
    delay = policy.delay(attempt, random.Random(0))
    assert 2.0 <= delay <= 4.0
    assert (policy.delay(attempt, LOWEST), policy.delay(attempt, HIGHEST)) == (2.0, 4.0)


def test_delay_without_rng_uses_module_random() -> None:
    policy = RetryPolicy(base_seconds=2.0, cap_seconds=120.0)
    for attempt in range(1, 5):
        low, high = DEFAULT_BOUNDS[attempt]
        assert low <= policy.delay(attempt) <= high
