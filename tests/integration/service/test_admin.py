"""AdminService over real stores (SQLite and PostgreSQL): what /admin and the console can do.

Built from the composition root's parts without the engine: the dispatcher wake-up is a
counter here, so the tests see that pool changes wake it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest

from lumagate.domain.accounts import SESSION_LOST_AT, NewAccount
from lumagate.domain.channels import Channel
from lumagate.domain.clock import utcnow
from lumagate.domain.errors import InvalidRequest, KeyNotFound, TaskNotFound
from lumagate.domain.states import TaskState
from lumagate.gateway import Gateway
from lumagate.service.account_admin import AccountBusyError, AccountNotFound
from lumagate.service.admin import AdminService
from lumagate.service.tasks import CreateCommand
from lumagate.settings import Settings


@dataclass
class Admin:
    gateway: Gateway
    service: AdminService


@pytest.fixture
async def admin(database_url: str, tmp_path: Path) -> AsyncIterator[Admin]:
    gateway = Gateway(Settings(data_dir=tmp_path / "data", database_url=database_url))
    await gateway.prepare()
    try:
        yield Admin(gateway, gateway.services.admin)
    finally:
        await gateway.close()


def _wakeups(admin: Admin) -> list[None]:
    """Counts dispatcher wake-ups by replacing the pool service's hook."""
    calls: list[None] = []
    admin.service.accounts._on_pool_changed = lambda: calls.append(None)
    return calls


async def test_keys_are_created_listed_topped_up_and_revoked(admin: Admin) -> None:
    service = admin.service
    created = await service.create_key("shop", credits=100, channels=(Channel.VIP,))
    assert [k.id for k in await service.list_keys()] == [created.record.id]
    assert (await service.key("shop")).id == created.record.id
    assert await service.webhook_secret(created.record.id) == created.webhook_secret
    key, balance = await service.top_up_key("shop", 50, "bought")
    assert (key.id, balance) == (created.record.id, 150)
    entries = await service.ledger(key_ref="shop", task_id=None, offset=0, limit=10)
    assert [e.delta for e in entries] == [50, 100]  # newest first: the top-up, then the grant
    revoked = await service.revoke_key(created.record.id)
    assert revoked.id == created.record.id
    assert (await service.key("shop")).revoked_at is not None
    with pytest.raises(KeyNotFound):
        await service.key("nobody")
    with pytest.raises(KeyNotFound):
        await service.ledger(key_ref="nobody", task_id=None, offset=0, limit=10)


async def test_accounts_are_added_disabled_enabled_renewed_and_removed(admin: Admin) -> None:
    service, woken = admin.service, _wakeups(admin)
    added = await service.add_account(
        NewAccount(kind="relay", base_url="http://127.0.0.1:9", credentials={"api_key": "k"})
    )
    assert added.name == "relay-1" and len(woken) == 1
    assert [a.id for a in await service.list_accounts()] == [added.id]
    disabled = await service.disable_account("relay-1", "maintenance")
    assert not disabled.enabled and disabled.disabled_reason == "maintenance"
    stores = admin.gateway.stores
    await stores.pool.update_settings(added.id, {SESSION_LOST_AT: "2026-01-01T00:00:00Z"}, utcnow())
    enabled = await service.enable_account(added.id)
    assert enabled.enabled and enabled.settings.get(SESSION_LOST_AT) is None
    assert len(woken) == 2
    await service.disable_account(added.id, "expired session")
    renewed = await service.renew_account("relay-1", {"api_key": "new"})
    assert renewed.enabled and len(woken) == 3
    handle = await stores.accounts.load_handle(added.id)
    assert handle is not None and handle.credentials == {"api_key": "new"}
    removed = await service.remove_account("relay-1")
    assert removed.id == added.id
    assert await service.list_accounts() == []
    with pytest.raises(AccountNotFound):
        await service.enable_account("relay-1")


async def test_an_account_running_tasks_is_removed_only_when_forced(admin: Admin) -> None:
    service, stores = admin.service, admin.gateway.stores
    account = await service.add_account(NewAccount(kind="relay", name="busy"))
    key = (await service.create_key("t")).record
    task = await admin.gateway.services.tasks.create(
        key, CreateCommand(channel=Channel.DEFAULT, dialect="reseller", prompt="a fox")
    )
    now = utcnow()
    async with stores.transactions.begin() as work:
        assert await work.tasks.claim(task, account.id, "r", now + timedelta(30), now)
    with pytest.raises(AccountBusyError) as busy:
        await service.remove_account("busy")
    assert busy.value.running == 1
    assert (await service.remove_account("busy", force=True)).id == account.id


async def test_tasks_of_any_tenant_with_body_ledger_and_deliveries(admin: Admin) -> None:
    service = admin.service
    tasks = admin.gateway.services.tasks
    one = (await service.create_key("one", credits=10_000)).record
    two = (await service.create_key("two")).record
    mine = await tasks.create(
        one,
        CreateCommand(
            channel=Channel.DEFAULT,
            dialect="official",
            prompt="a fox",
            notify_url="http://127.0.0.1:9/hook",
        ),
    )
    await tasks.create(
        two, CreateCommand(channel=Channel.DEFAULT, dialect="reseller", prompt="a cat")
    )
    everything = await service.list_tasks(key_ref=None, state=None, offset=0, limit=50)
    assert everything.total == 2
    page = await service.list_tasks(key_ref="one", state="queued", offset=0, limit=50)
    assert [t.id for t in page.tasks] == [mine.id] and page.total == 1
    assert (await service.list_tasks(key_ref="one", state="failed", offset=0, limit=5)).total == 0
    with pytest.raises(InvalidRequest):
        await service.list_tasks(key_ref=None, state="bogus", offset=0, limit=5)
    task = await service.task(mine.id)
    body = await service.task_body(task)
    assert body["id"] == mine.id and body["generation_type"] == "video"  # the official shape
    assert [e.kind.value for e in await service.task_ledger(mine.id)] == ["charge"]
    failed = await admin.gateway.stores.tasks.transition(
        task, TaskState.FAILED, utcnow(), failure_reason="x"
    )
    assert failed is not None
    assert await admin.gateway.services.callbacks.record(failed) is not None
    deliveries = await service.task_deliveries(mine.id)
    assert [d["event"] for d in deliveries] == ["failed"]
    for bad in ("not-a-uuid", "6f1c4a2e-0000-4000-8000-000000000001"):
        with pytest.raises(TaskNotFound):
            await service.task(bad)
