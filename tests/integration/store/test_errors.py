"""The store's own errors (store/errors.py), raised from real unique rules on both databases."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from cryptography.fernet import Fernet
from sqlalchemy.exc import SQLAlchemyError

from lumagate.domain.channels import Channel
from lumagate.domain.errors import KeyNotFound
from lumagate.domain.request import GenerationRequest
from lumagate.security.crypto import SecretBox
from lumagate.store.accounts import AccountStore
from lumagate.store.database import Database
from lumagate.store.errors import (
    BalanceRefused,
    Conflict,
    IdempotencyKeyTaken,
    InsufficientCredits,
    NameTaken,
    StoreError,
    UnlimitedKey,
)
from lumagate.store.keys import KeyStore
from lumagate.store.ledger import LedgerStore
from lumagate.store.tasks import NewTask, TaskStore
from lumagate.store.unit_of_work import Transactions

T0 = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


def keyed_task(tenant_id: str, key: str) -> NewTask:
    return NewTask(
        id=str(uuid.uuid4()),
        tenant_id=tenant_id,
        channel=Channel.DEFAULT,
        dialect="reseller",
        request=GenerationRequest(prompt="p"),
        idempotency_key=key,
    )


def test_the_tree_is_the_documented_one() -> None:
    assert issubclass(NameTaken, Conflict) and issubclass(IdempotencyKeyTaken, Conflict)
    assert issubclass(UnlimitedKey, BalanceRefused)
    assert issubclass(InsufficientCredits, BalanceRefused)
    assert issubclass(Conflict, StoreError) and issubclass(BalanceRefused, StoreError)
    assert not issubclass(StoreError, SQLAlchemyError)


async def test_a_second_account_of_the_same_name_is_name_taken(db: Database) -> None:
    accounts = AccountStore(db, SecretBox(Fernet.generate_key()))
    await accounts.create(name="pool-1", kind="relay", now=T0)
    with pytest.raises(NameTaken) as caught:
        await accounts.create(name="pool-1", kind="relay", now=T0)
    assert isinstance(caught.value.__cause__, SQLAlchemyError)  # kept for the log only
    assert [a.name for a in await accounts.all()] == ["pool-1"]


async def test_an_idempotency_key_naming_another_task_is_key_taken(db: Database) -> None:
    transactions = Transactions(db)
    first = keyed_task("tenant-a", "k-1")
    async with transactions.begin() as work:
        await work.tasks.insert(first, T0)
    with pytest.raises(IdempotencyKeyTaken):
        async with transactions.begin() as work:
            await work.tasks.insert(keyed_task("tenant-a", "k-1"), T0 + timedelta(seconds=1))
    # The refused unit of work left nothing behind; another tenant may use the same key.
    async with transactions.begin() as work:
        await work.tasks.insert(keyed_task("tenant-b", "k-1"), T0)
    found = await TaskStore(db).find_idempotent("tenant-a", "k-1", T0 - timedelta(hours=1))
    assert found is not None and found[0].id == first.id
    assert await TaskStore(db).count_by_state() == {"queued": 2}


async def test_refused_top_ups_and_missing_keys_raise_the_store_and_domain_errors(
    db: Database,
) -> None:
    keys, ledger = KeyStore(db), LedgerStore(db)
    limited, _ = await keys.create("limited", T0, credits=10)
    unlimited, _ = await keys.create("unlimited", T0)
    with pytest.raises(InsufficientCredits):
        await ledger.top_up(limited.id, -11, T0, None)
    with pytest.raises(UnlimitedKey):
        await ledger.top_up(unlimited.id, 5, T0, None)
    with pytest.raises(KeyNotFound):
        await ledger.top_up("no-such-key", 5, T0, None)
    assert await ledger.top_up(limited.id, -10, T0, None) == 0
