"""Numeric ids: stable, positive, JavaScript-safe, distinct in practice."""

from __future__ import annotations

import uuid

from lumagate.domain.numeric_ids import numeric_id


def test_numeric_ids_are_stable_positive_and_js_safe() -> None:
    ids = [str(uuid.uuid4()) for _ in range(20000)]
    numbers = [numeric_id(i) for i in ids]
    assert all(0 < n < 2**53 for n in numbers)
    assert len(set(numbers)) == len(ids)
    assert [numeric_id(i) for i in ids[:10]] == numbers[:10]
    # Pinned: the number is part of the API (clients store it), so it must never change.
    assert numeric_id("4665a07c-7641-4809-a133-10786201bb56") == 7518073911199046
