"""Console sessions: sealed, expiring, revocable cookies; CSRF comparison; the sign-in limiter."""

from __future__ import annotations

import pytest

from lumagate.api.console.session import SessionCodec, SignInLimiter, tokens_match


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def test_a_session_cookie_round_trips_and_reveals_nothing() -> None:
    clock = Clock()
    codec = SessionCodec(lambda: b"k" * 32, 3600, clock)
    cookie, session = codec.issue()
    assert codec.read(cookie) == session
    assert session.csrf not in cookie and session.sid not in cookie
    assert session.csrf_matches(session.csrf)
    other = "y" if session.csrf.endswith("x") else "x"  # a different last character, always
    assert not session.csrf_matches(session.csrf[:-1] + other)
    assert not session.csrf_matches(None)


def test_a_session_expires_and_a_revoked_one_is_refused() -> None:
    clock = Clock()
    codec = SessionCodec(lambda: b"k" * 32, 60, clock)
    cookie, session = codec.issue()
    clock.now += 59
    assert codec.read(cookie) is not None
    clock.now += 2
    assert codec.read(cookie) is None
    cookie, session = codec.issue()
    codec.revoke(session)
    assert codec.read(cookie) is None


@pytest.mark.parametrize("cookie", ["", "garbage", "gAAAAA" + "x" * 80, "é"])
def test_malformed_cookies_are_no_session(cookie: str) -> None:
    assert SessionCodec(lambda: b"k" * 32, 60).read(cookie) is None


def test_a_cookie_sealed_with_another_admin_key_is_refused() -> None:
    cookie, _ = SessionCodec(lambda: b"a" * 32, 60).issue()
    assert SessionCodec(lambda: b"b" * 32, 60).read(cookie) is None


def test_wrong_keys_are_limited_per_client_and_forgiven_after_the_window() -> None:
    clock = Clock()
    limiter = SignInLimiter(3, window=300, clock=clock)
    for _ in range(3):
        assert limiter.retry_after("10.0.0.1") is None
        limiter.failed("10.0.0.1")
    wait = limiter.retry_after("10.0.0.1")
    assert wait is not None and 1 <= wait <= 301
    assert limiter.retry_after("10.0.0.2") is None  # another client is not affected
    clock.now += 301
    assert limiter.retry_after("10.0.0.1") is None


def test_a_success_clears_the_failures() -> None:
    limiter = SignInLimiter(2, clock=Clock())
    limiter.failed("c")
    limiter.succeeded("c")
    limiter.failed("c")
    assert limiter.retry_after("c") is None


def test_double_submit_tokens_must_both_be_present_and_equal() -> None:
    assert tokens_match("abc", "abc")
    assert not tokens_match("abc", "abd")
    assert not tokens_match(None, "abc")
    assert not tokens_match("", "")
    assert not tokens_match("abc", None)
