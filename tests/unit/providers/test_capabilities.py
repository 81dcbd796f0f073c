# ruff: noqa: RUF001  (Chinese text uses full-width punctuation)
"""What each account kind can deliver: the shortfalls, the refusal sentence and the degrade."""

from __future__ import annotations

from lumagate.domain.channels import Channel
from lumagate.domain.messages import CHINESE
from lumagate.domain.request import GenerationRequest
from lumagate.providers.capabilities import (
    can_deliver,
    degraded,
    nearest_kind,
    refusal,
    shortfalls,
    undeliverable,
)

BIG = GenerationRequest(prompt="a fox", resolution="1080p", duration="9s")


def test_a_web_session_delivers_only_ray_2_at_720p_for_5_seconds() -> None:
    assert can_deliver("luma-web", GenerationRequest(prompt="a fox"))
    assert [s.field for s in shortfalls("luma-web", BIG)] == ["resolution", "duration"]
    assert [
        s.field for s in shortfalls("luma-web", BIG.model_copy(update={"model": "ray-1-6"}))
    ] == [
        "model",
        "resolution",
        "duration",
    ]
    assert can_deliver("luma-official", BIG)
    assert can_deliver("relay", BIG) and can_deliver("sandbox", BIG)


def test_official_ray_1_6_takes_neither_resolution_nor_duration() -> None:
    old = BIG.model_copy(update={"model": "ray-1-6"})
    assert [s.field for s in shortfalls("luma-official", old)] == ["resolution", "duration"]


def test_the_refusal_names_the_field_and_what_the_channel_offers() -> None:
    text = refusal(shortfalls("luma-web", BIG), Channel.VIP, {})
    assert text.render() == (
        "resolution 1080p is not available on channel vip: at most 720p; "
        "duration 9s is not available on channel vip: at most 5s"
    )
    assert "频道 vip 无法提供 resolution 1080p：最多 720p" in text.render(CHINESE)


def test_degrading_records_what_was_asked_and_what_is_delivered() -> None:
    delivered = degraded(BIG, shortfalls("luma-web", BIG))
    assert (delivered.resolution, delivered.duration) == ("720p", "5s")
    assert delivered.requested == {"resolution": "1080p", "duration": "9s"}
    assert delivered.dropped_fields == ("resolution", "duration")
    assert can_deliver("luma-web", delivered)
    view = delivered.public_view()
    assert view["requested"] == {"resolution": "1080p", "duration": "9s"}
    assert view["dropped_fields"] == ["resolution", "duration"]
    assert "requested" not in BIG.public_view() and "dropped_fields" not in BIG.public_view()


def test_degrading_picks_the_closest_value_below_what_was_asked() -> None:
    four_k = GenerationRequest(prompt="x", model="ray-1-6", resolution="4k")
    delivered = degraded(four_k, shortfalls("luma-official", four_k))
    assert delivered.resolution == "720p" and delivered.model == "ray-1-6"
    small = GenerationRequest(prompt="x", resolution="540p")
    assert degraded(small, shortfalls("luma-web", small)).resolution == "720p"


def test_the_nearest_kind_falls_short_in_the_fewest_fields() -> None:
    assert nearest_kind(["luma-web", "luma-official"], BIG) == "luma-official"
    assert nearest_kind([], BIG) is None
    assert "at most 720p" in undeliverable(["luma-web"], BIG, Channel.DEFAULT).render()
