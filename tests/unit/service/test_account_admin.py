"""AccountAdmin over real stores: names, disable/enable (which clears a lost session and wakes
the dispatcher), renew, remove, and lookups by id or name."""

from __future__ import annotations

import pytest

from lumagate.domain.accounts import SESSION_LOST_AT, NewAccount
from lumagate.domain.clock import utcnow
from lumagate.domain.errors import InvalidRequest
from lumagate.service.account_admin import AccountAdmin, AccountNotFound
from lumagate.wiring.operator import account_admin
from lumagate.wiring.stores import Stores


@pytest.fixture
def woken() -> list[str]:
    return []


@pytest.fixture
def admin(stores: Stores, woken: list[str]) -> AccountAdmin:
    return account_admin(stores, lambda: woken.append("dispatch"))


async def test_accounts_without_a_name_are_numbered_per_kind(
    admin: AccountAdmin, woken: list[str]
) -> None:
    first = await admin.add(NewAccount(kind="relay", base_url="http://127.0.0.1:1"))
    second = await admin.add(NewAccount(kind="relay", base_url="http://127.0.0.1:2"))
    named = await admin.add(NewAccount(kind="luma_official", name="main"))
    assert (first.name, second.name, named.name) == ("relay-1", "relay-2", "main")
    assert woken == ["dispatch"] * 3
    assert {a.name for a in await admin.list()} == {"relay-1", "relay-2", "main"}
    assert (await admin.get("relay-2")).id == second.id
    assert (await admin.get(named.id)).name == "main"


async def test_a_name_too_long_is_refused(admin: AccountAdmin) -> None:
    with pytest.raises(InvalidRequest):
        await admin.add(NewAccount(kind="relay", name="x" * 10_000))
    assert await admin.list() == []


async def test_disable_keeps_the_reason_and_enable_clears_it_and_the_lost_session(
    admin: AccountAdmin, stores: Stores, woken: list[str]
) -> None:
    account = await admin.add(NewAccount(kind="luma_web", name="web"))
    disabled = await admin.disable("web", "session expired")
    assert not disabled.enabled and disabled.disabled_reason == "session expired"
    lost = {SESSION_LOST_AT: "2026-01-01T00:00:00Z"}
    await stores.pool.update_settings(account.id, lost, utcnow())
    woken.clear()
    enabled = await admin.enable("web")
    assert enabled.enabled and enabled.disabled_reason is None
    assert SESSION_LOST_AT not in enabled.settings
    assert woken == ["dispatch"]


async def test_renew_replaces_the_credentials_and_enables(
    admin: AccountAdmin, stores: Stores
) -> None:
    account = await admin.add(
        NewAccount(kind="luma_web", name="web", credentials={"access_token": "old"})
    )
    await admin.disable(account.id, "401")
    renewed = await admin.renew("web", {"access_token": "new"})
    assert renewed.enabled
    handle = await stores.accounts.load_handle(account.id)
    assert handle is not None and handle.credentials == {"access_token": "new"}


async def test_remove_deletes_and_an_unknown_account_is_not_found(admin: AccountAdmin) -> None:
    account = await admin.add(NewAccount(kind="relay", name="gone"))
    assert (await admin.remove("gone")).id == account.id
    assert await admin.running() == {}
    with pytest.raises(AccountNotFound):
        await admin.get("gone")
    with pytest.raises(AccountNotFound):
        await admin.disable("gone", "why")
