"""KeyAdmin over real stores: bounds of a new key, the webhook secret sealed at rest, top-ups
in the ledger, limit changes, revocation, and lookups by id, name or prefix."""

from __future__ import annotations

import pytest

from lumagate.domain.channels import Channel
from lumagate.domain.clock import utcnow
from lumagate.domain.errors import AuthenticationRequired, InvalidRequest, KeyNotFound
from lumagate.service.auth import Authenticator
from lumagate.service.keys import KeyAdmin
from lumagate.wiring.operator import key_admin
from lumagate.wiring.stores import Stores


@pytest.fixture
def admin(stores: Stores) -> KeyAdmin:
    return key_admin(stores)


async def test_a_new_key_authenticates_and_its_secret_is_sealed(
    admin: KeyAdmin, stores: Stores
) -> None:
    created = await admin.create("  alice ", credits=100, channels=(Channel.DEFAULT,), rpm=5)
    assert created.record.name == "alice"  # trimmed
    assert created.record.credits == 100 and created.record.rpm == 5
    found = await Authenticator(stores.keys).tenant(created.plaintext)
    assert found.id == created.record.id
    sealed = await stores.keys.sealed_webhook_secret(created.record.id)
    assert sealed is not None and created.webhook_secret not in sealed
    assert await admin.webhook_secret(created.record.id) == created.webhook_secret


@pytest.mark.parametrize(
    ("options", "field"),
    [
        ({"name": " "}, "name"),
        ({"credits": -1}, "credits"),
        ({"rpm": 0}, "rpm"),
        ({"max_running": 0}, "max_running"),
        ({"expires_days": 0.0}, "expires_days"),
        ({"plan": ""}, "plan"),
    ],
    ids=["blank-name", "negative-credits", "zero-rpm", "zero-running", "zero-days", "no-plan"],
)
async def test_a_key_out_of_bounds_is_refused_naming_the_field(
    admin: KeyAdmin, stores: Stores, options: dict[str, object], field: str
) -> None:
    arguments: dict[str, object] = {"name": "bob", **options}
    name = arguments.pop("name")
    with pytest.raises(InvalidRequest) as refused:
        await admin.create(str(name), **arguments)  # type: ignore[arg-type]
    assert refused.value.field == field
    assert await stores.keys.all() == []


async def test_expires_days_sets_the_expiry(admin: KeyAdmin) -> None:
    before = utcnow()
    created = await admin.create("soon", expires_days=2)
    assert created.record.expires_at is not None
    assert 2 * 86400 - 5 < (created.record.expires_at - before).total_seconds() < 2 * 86400 + 5


async def test_top_up_adds_to_the_balance_and_refuses_zero_and_overdraft(
    admin: KeyAdmin,
) -> None:
    created = await admin.create("payer", credits=10)
    record, balance = await admin.top_up(created.record.name, 15, "gift")
    assert record.id == created.record.id and balance == 25
    with pytest.raises(InvalidRequest, match="zero"):
        await admin.top_up(created.record.id, 0)
    with pytest.raises(InvalidRequest) as overdraft:
        await admin.top_up(created.record.id, -100)
    assert overdraft.value.field == "amount"
    assert (await admin.find(created.record.id)).credits == 25


async def test_change_limits_then_revoke(admin: KeyAdmin, stores: Stores) -> None:
    created = await admin.create("limited")
    changed = await admin.change_limits(
        created.record.prefix, channels=(Channel.VIP,), rpm=3, max_running=None
    )
    assert changed.channels == (Channel.VIP,) and changed.rpm == 3 and changed.max_running is None
    await admin.revoke(created.record.id)
    with pytest.raises(AuthenticationRequired):
        await Authenticator(stores.keys).tenant(created.plaintext)
    with pytest.raises(KeyNotFound):
        await admin.revoke(created.record.id)  # revoked keys cannot be revoked twice


async def test_an_unknown_reference_is_key_not_found(admin: KeyAdmin) -> None:
    with pytest.raises(KeyNotFound, match="nobody"):
        await admin.find("nobody")
    with pytest.raises(KeyNotFound):
        await admin.top_up("nobody", 5)
