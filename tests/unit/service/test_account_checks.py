"""Reading a web cookie's session expiry from its access-token JWT."""

from __future__ import annotations

import base64
import json

from lumagate.service.account_checks import session_expiry


def _jwt(claims: object) -> str:
    def part(value: object) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")

    return f"{part({'alg': 'HS256'})}.{part(claims)}.signature"


def test_the_expiry_of_the_access_token_is_read() -> None:
    cookie = f"foo=bar; access_token={_jwt({'exp': 1_800_000_000})}; refresh_token=x"
    assert session_expiry(cookie) == "2027-01-15T08:00:00.000000Z"


def test_no_expiry_when_the_cookie_has_no_readable_token() -> None:
    assert session_expiry("access_token=opaque") is None
    assert session_expiry("refresh_token=" + _jwt({"exp": 1})) is None
    assert session_expiry("access_token=a.!!!.c") is None
    assert session_expiry("access_token=" + _jwt({"sub": "me"})) is None
    assert session_expiry("access_token=" + _jwt({"exp": True})) is None
    assert session_expiry("access_token=" + _jwt(["exp"])) is None
    assert session_expiry("access_token=" + _jwt({"exp": 10**30})) is None
