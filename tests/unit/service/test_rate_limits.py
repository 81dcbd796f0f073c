"""The rate-limit headers from a key's rpm and its creates of the last minute."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from lumagate.domain.channels import Channel
from lumagate.domain.tenant import ApiKey
from lumagate.service.rate_limits import RateLimitReader

NOW = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
KEY = ApiKey(
    id="k-1",
    name="n",
    prefix="sk-lg-abcd",
    credits=None,
    channels=(Channel.DEFAULT,),
    rpm=3,
    max_running=None,
    plan="default",
    created_at=NOW,
    expires_at=None,
    revoked_at=None,
)


class Window:
    def __init__(self, count: int, newest: datetime | None) -> None:
        self.answer = (count, newest)
        self.asked: list[tuple[str, datetime]] = []

    async def creates_since(self, tenant_id: str, since: datetime) -> tuple[int, datetime | None]:
        self.asked.append((tenant_id, since))
        return self.answer


async def test_an_empty_window_is_the_full_limit() -> None:
    window = Window(0, None)
    headers = await RateLimitReader(window).headers(KEY, NOW)
    assert headers == {
        "x-ratelimit-limit-requests": "3",
        "x-ratelimit-remaining-requests": "3",
        "x-ratelimit-reset-requests": "0s",
    }
    assert window.asked == [("k-1", NOW - timedelta(seconds=60))]


async def test_reset_is_when_the_newest_create_ages_out() -> None:
    newest = NOW - timedelta(seconds=12.5)
    headers = await RateLimitReader(Window(2, newest)).headers(KEY, NOW)
    assert headers["x-ratelimit-remaining-requests"] == "1"
    assert headers["x-ratelimit-reset-requests"] == "48s"  # 47.5 s, rounded up


async def test_remaining_never_goes_below_zero() -> None:
    headers = await RateLimitReader(Window(5, NOW)).headers(KEY, NOW)
    assert headers["x-ratelimit-remaining-requests"] == "0"
    assert headers["x-ratelimit-reset-requests"] == "60s"


async def test_a_key_without_rpm_gets_no_headers() -> None:
    window = Window(9, NOW)
    assert await RateLimitReader(window).headers(replace(KEY, rpm=None), NOW) == {}
    assert window.asked == []
