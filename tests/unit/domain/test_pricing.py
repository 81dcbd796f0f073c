"""Pricing: defaults, multipliers, rounding, overrides and their precedence."""

from __future__ import annotations

import pytest

from lumagate.domain.pricing import PriceTable, PricingError


def test_reference_generation_costs_the_base() -> None:
    assert PriceTable().price("default", "ray-2", "720p", "5s") == 100


def test_multipliers_compose_and_round_up() -> None:
    table = PriceTable()
    assert table.price("default", "ray-flash-2", "720p", "5s") == 35
    assert table.price("default", "ray-2", "540p", "5s") == 60
    assert table.price("default", "ray-2", "1080p", "5s") == 225
    assert table.price("default", "ray-2", "4k", "9s") == 1620
    assert table.price("vip", "ray-2", "720p", "9s") == 270  # 100 * 1.8 * 1.5, no float drift
    assert table.price("pro", "ray-2", "720p", "5s") == 200
    assert table.price("default", "ray-flash-2", "540p", "5s") == 21  # ceil(35 * 0.6)


def test_unknown_parts_fall_back_to_neutral_factors() -> None:
    table = PriceTable()
    assert table.price("default", "ray-9", "720p", "5s") == 100  # the highest base
    assert table.price("default", "ray-2", "8k", "5s") == 100


def test_most_specific_override_wins() -> None:
    table = PriceTable(
        overrides={
            "*/*/*/*": 7,
            "pro/*/*/*": 50,
            "pro/ray-2/*/*": 60,
            "*/ray-2/4k/9s": 999,
            "pro/ray-2/4k/9s": 1234,
        }
    )
    assert table.price("default", "ray-flash-2", "720p", "5s") == 7
    assert table.price("pro", "ray-flash-2", "720p", "5s") == 50
    assert table.price("pro", "ray-2", "720p", "5s") == 60
    assert table.price("vip", "ray-2", "4k", "9s") == 999
    assert table.price("pro", "ray-2", "4k", "9s") == 1234
    quote = table.quote("pro", "ray-2", "4k", "9s")
    assert quote.rule == "override pro/ray-2/4k/9s"


def test_override_tie_prefers_the_earlier_specific_part() -> None:
    table = PriceTable(overrides={"pro/*/*/*": 1, "*/ray-2/*/*": 2})
    assert table.price("pro", "ray-2", "720p", "5s") == 1


def test_custom_tables_and_free_generations() -> None:
    table = PriceTable(base={"ray-2": 10}, channel={"default": 0.0})
    assert table.price("default", "ray-2", "720p", "5s") == 0
    assert table.price("vip", "ray-2", "720p", "5s") == 10


@pytest.mark.parametrize(
    "kwargs",
    [
        {"overrides": {"pro/ray-2": 5}},
        {"overrides": {"pro//720p/5s": 5}},
        {"overrides": {"*/*/*/*": -1}},
        {"base": {"ray-2": -5}},
        {"resolution": {"720p": -1.0}},
    ],
)
def test_bad_tables_are_refused(kwargs: dict[str, object]) -> None:
    with pytest.raises(PricingError):
        PriceTable(**kwargs)  # type: ignore[arg-type]
