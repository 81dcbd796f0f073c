"""Retry policy: bounded attempts, growing delays, full jitter inside the stated bounds."""

from __future__ import annotations

import random

import pytest

from lumagate.domain.retry import RetryPolicy


def ceiling(policy: RetryPolicy, attempt: int) -> float:
    return min(policy.cap_seconds, policy.base_seconds * 2 ** (attempt - 1))


def test_attempts_are_bounded() -> None:
    policy = RetryPolicy(max_attempts=3)
    assert [policy.exhausted(a) for a in range(0, 6)] == [False, False, False, True, True, True]
    assert RetryPolicy().exhausted(5)
    assert not RetryPolicy().exhausted(4)


def test_delays_stay_within_half_to_full_ceiling() -> None:
    policy = RetryPolicy(base_seconds=2.0, cap_seconds=120.0)
    rng = random.Random(1234)
    for attempt in range(1, 12):
        top = ceiling(policy, attempt)
        for _ in range(200):
            delay = policy.delay(attempt, rng)
            assert top / 2 <= delay <= top
    assert ceiling(policy, 1) == 2.0
    assert ceiling(policy, 4) == 16.0


def test_delays_are_capped() -> None:
    policy = RetryPolicy(base_seconds=2.0, cap_seconds=10.0)
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
        assert ceiling(policy, attempt + 1) / 2 >= ceiling(policy, attempt)
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


def test_delay_without_rng_uses_module_random() -> None:
    policy = RetryPolicy(base_seconds=2.0, cap_seconds=120.0)
    for attempt in range(1, 5):
        top = ceiling(policy, attempt)
        assert top / 2 <= policy.delay(attempt) <= top
