"""Exact Bearer parsing, the bare key beside it, key material, and channel parsing."""

from __future__ import annotations

import hashlib

import pytest

from lumagate.domain.channels import ALL_CHANNELS, Channel, parse_channels
from lumagate.security.keys import (
    KEY_PREFIX,
    digests_match,
    display_prefix,
    generate_api_key,
    hash_api_key,
    parse_authorization,
    parse_bearer,
)


@pytest.mark.parametrize(
    ("header", "token"),
    [
        ("Bearer sk-lg-abc", "sk-lg-abc"),
        ("Bearer  x", " x"),  # only the literal prefix is stripped: the space stays
        ("Bearer x ", "x "),  # no trimming at the end either
        ("Bearer \tx", "\tx"),
        ("Bearer Bearer x", "Bearer x"),  # stripped once
        ("Bearer sk-lg-a/b+c=", "sk-lg-a/b+c="),
        ("Bearer xBearer", "xBearer"),
    ],
)
def test_bearer_token_is_everything_after_the_literal_prefix(header: str, token: str) -> None:
    assert parse_bearer(header) == token


@pytest.mark.parametrize(
    "header",
    [
        None,
        "",
        "Bearer ",  # nothing after the prefix
        "Bearer",
        "bearer x",  # case matters: the prefix is literal
        "BEARER x",
        "Bearerx",
        "Bearer\tx",
        " Bearer x",
        "Basic dXNlcjpwYXNz",
        "sk-lg-abc",
        "Token x",
    ],
)
def test_bearer_rejects_anything_else(header: str | None) -> None:
    assert parse_bearer(header) is None


def test_bearer_does_not_strip_characters_of_the_prefix_from_the_token() -> None:
    # A character-set strip (lstrip("Bearer ")) would eat the leading "B", "e", "a", "r".
    assert parse_bearer("Bearer earBxyz") == "earBxyz"
    assert parse_bearer("Bearer  Bearer") == " Bearer"


def test_generated_keys_are_unique_prefixed_and_hash_to_sha256() -> None:
    keys = {generate_api_key() for _ in range(50)}
    assert len(keys) == 50
    key = keys.pop()
    assert key.startswith(KEY_PREFIX)
    assert len(key) >= len(KEY_PREFIX) + 40
    assert hash_api_key(key) == hashlib.sha256(key.encode()).hexdigest()
    assert hash_api_key(key) != hash_api_key(key + " ")
    assert display_prefix(key) == key[:10]
    assert digests_match(hash_api_key(key), hash_api_key(key))
    assert not digests_match(hash_api_key(key), hash_api_key(key[:-1]))


@pytest.mark.parametrize(
    ("text", "channels"),
    [
        ("default,vip,pro", ALL_CHANNELS),
        ("pro", (Channel.PRO,)),
        (" VIP , pro ", (Channel.VIP, Channel.PRO)),
        ("pro,vip,pro,default", (Channel.PRO, Channel.VIP, Channel.DEFAULT)),
        ("default,,", (Channel.DEFAULT,)),
    ],
)
def test_parse_channels(text: str, channels: tuple[Channel, ...]) -> None:
    assert parse_channels(text) == channels


def test_parse_channels_names_the_unknown_one() -> None:
    with pytest.raises(ValueError, match="'gold'"):
        parse_channels("default,gold,pro")


@pytest.mark.parametrize("text", ["", " ", ",", " , ,"])
def test_parse_channels_needs_one(text: str) -> None:
    with pytest.raises(ValueError, match="at least one"):
        parse_channels(text)


def test_channel_priority_order() -> None:
    assert Channel.PRO.priority > Channel.VIP.priority > Channel.DEFAULT.priority
    assert sorted(ALL_CHANNELS, key=lambda c: -c.priority) == [
        Channel.PRO,
        Channel.VIP,
        Channel.DEFAULT,
    ]


# -- parse_authorization: Bearer exactly as above, else the whole value as a bare key -------
KEY = "sk-lg-abc_DEF-123"


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (f"Bearer {KEY}", KEY),
        (KEY, KEY),  # the Go /luma clients' form
        (f"Bearer  {KEY}", f" {KEY}"),  # stripped once: the extra space stays (and fails)
        ("Bearer Bearer x", "Bearer x"),
        (f"bearer {KEY}", f"bearer {KEY}"),  # not the literal prefix: the whole value
        (f"Basic {KEY}", f"Basic {KEY}"),
        ("Bearer ", None),
        ("Bearer", "Bearer"),
        ("", None),
        (None, None),
    ],
)
def test_bearer_exactly_else_a_bare_key(header: str | None, expected: str | None) -> None:
    assert parse_authorization(header) == expected


def test_bearer_parsing_is_unchanged_for_the_admin_key() -> None:
    assert parse_bearer(KEY) is None  # /admin still wants the scheme
    assert parse_bearer(f"Bearer {KEY}") == KEY
