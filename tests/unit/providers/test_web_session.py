"""Web-app cookies: Set-Cookie merged into the account's cookie string and persisted once."""

from __future__ import annotations

from lumagate.domain.accounts import AccountHandle
from lumagate.providers.web_session import SessionJars, merge_cookie, set_cookie_changes

COOKIE = "access_token=a1; luma_session=s1; refresh_token=r1"


def _account(cookie: str = COOKIE) -> AccountHandle:
    return AccountHandle(id="w", name="w", kind="luma-web", credentials={"cookie": cookie})


def test_set_cookie_changes_and_merge_keep_order_and_other_cookies() -> None:
    changes = set_cookie_changes(
        ["access_token=a2; Path=/; HttpOnly", "refresh_token=; Max-Age=0", "junk"]
    )
    assert changes == {"access_token": "a2", "refresh_token": None}
    assert merge_cookie(COOKIE, changes) == "access_token=a2; luma_session=s1"


async def test_rotation_is_persisted_once_and_used_by_stale_handles() -> None:
    saved: list[tuple[str, dict[str, str]]] = []

    async def sink(account_id: str, credentials: dict[str, str]) -> None:
        saved.append((account_id, credentials))

    jars = SessionJars(sink)
    stale = _account()
    assert jars.cookie_for(stale) == COOKIE
    assert await jars.absorb(stale, ["access_token=a2; Path=/"])
    assert not await jars.absorb(stale, ["access_token=a2; Path=/"])  # nothing new
    rotated = "access_token=a2; luma_session=s1; refresh_token=r1"
    assert saved == [("w", {"cookie": rotated})]
    assert jars.cookie_for(stale) == rotated  # a handle loaded before the rotation
    assert jars.cookie_for(_account(rotated)) == rotated  # the persisted one


async def test_a_cookie_pasted_by_the_operator_wins() -> None:
    async def sink(account_id: str, credentials: dict[str, str]) -> None:
        return None

    jars = SessionJars(sink)
    await jars.absorb(_account(), ["access_token=a2"])
    assert jars.cookie_for(_account("access_token=fresh")) == "access_token=fresh"
