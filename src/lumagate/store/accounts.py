"""Upstream accounts: the pool the dispatcher leases from, with health state.

Credentials are stored encrypted (a JSON object sealed by :class:`SecretBox`); only
:meth:`AccountStore.handle` opens them, when a provider is about to act for the account.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import delete, literal_column, select, update

from lumagate.domain.accounts import Account, AccountHandle
from lumagate.domain.channels import ALL_CHANNELS, Channel, parse_channels
from lumagate.domain.clock import utcnow
from lumagate.domain.scheduling import SANDBOX_KIND
from lumagate.domain.task import Task
from lumagate.security.crypto import SecretBox
from lumagate.store.database import Database
from lumagate.store.errors import NameTaken, unique_violation_as
from lumagate.store.executes import Executes
from lumagate.store.rows import from_row
from lumagate.store.schema import accounts, tasks
from lumagate.store.task_rows import task_from_row

SANDBOX_ACCOUNT_NAME = "sandbox"


def _from_row(row: Mapping[Any, Any]) -> Account:
    return from_row(
        Account,
        row,
        channels=parse_channels(row["channels"]),
        enabled=bool(row["enabled"]),
        settings=dict(row["settings"] or {}),
    )


class AccountLocks:
    """The ``accounts`` statement of a dispatch pass's unit of work."""

    def __init__(self, conn: Executes, *, is_sqlite: bool) -> None:
        self._conn = conn
        self._is_sqlite = is_sqlite

    async def lock_all(self) -> list[Account]:
        """All accounts, row-locked on PostgreSQL so concurrent dispatchers serialize."""
        query = select(accounts).order_by(accounts.c.id)
        if not self._is_sqlite:
            query = query.with_for_update()
        return [_from_row(r) for r in (await self._conn.execute(query)).mappings().all()]


class AccountStore:
    """The ``accounts`` table: the pool's records, health state and sealed credentials."""

    def __init__(self, db: Database, box: SecretBox) -> None:
        self.db = db
        self.box = box

    async def create(
        self,
        *,
        name: str,
        kind: str,
        now: datetime,
        base_url: str | None = None,
        credentials: dict[str, str] | None = None,
        max_concurrency: int = 1,
        channels: tuple[Channel, ...] = ALL_CHANNELS,
        settings: dict[str, Any] | None = None,
    ) -> Account:
        account_id = str(uuid.uuid4())
        sealed = self.box.encrypt(json.dumps(credentials)) if credentials else None
        taken = f"an account named {name!r} already exists"
        with unique_violation_as(NameTaken, taken):
            async with self.db.write() as conn:
                await conn.execute(
                    accounts.insert().values(
                        id=account_id,
                        name=name,
                        kind=kind,
                        base_url=base_url,
                        credentials=sealed,
                        max_concurrency=max_concurrency,
                        channels=",".join(c.value for c in channels),
                        enabled=True,
                        failures=0,
                        settings=settings or {},
                        created_at=now,
                        updated_at=now,
                    )
                )
        created = await self.get(account_id)
        assert created is not None
        return created

    async def get(self, account_id: str) -> Account | None:
        async with self.db.read() as conn:
            row = (
                (await conn.execute(select(accounts).where(accounts.c.id == account_id)))
                .mappings()
                .first()
            )
        return None if row is None else _from_row(row)

    async def find(self, id_or_name: str) -> Account | None:
        async with self.db.read() as conn:
            row = (
                (
                    await conn.execute(
                        select(accounts).where(
                            (accounts.c.id == id_or_name) | (accounts.c.name == id_or_name)
                        )
                    )
                )
                .mappings()
                .first()
            )
        return None if row is None else _from_row(row)

    async def all(self) -> list[Account]:
        async with self.db.read() as conn:
            rows = (
                (await conn.execute(select(accounts).order_by(accounts.c.created_at)))
                .mappings()
                .all()
            )
        return [_from_row(r) for r in rows]

    async def ensure_sandbox(self, now: datetime, concurrency: int) -> Account:
        existing = [a for a in await self.all() if a.kind == SANDBOX_KIND]
        if existing:
            return existing[0]
        try:
            return await self.create(
                name=SANDBOX_ACCOUNT_NAME, kind=SANDBOX_KIND, now=now, max_concurrency=concurrency
            )
        except NameTaken:  # a replica starting at the same moment made it: use that one
            return next(a for a in await self.all() if a.kind == SANDBOX_KIND)

    def handle(self, account: Account, sealed: str | None) -> AccountHandle:
        credentials = json.loads(self.box.decrypt(sealed)) if sealed else {}
        return AccountHandle(
            id=account.id,
            name=account.name,
            kind=account.kind,
            base_url=account.base_url,
            credentials=credentials,
            settings=account.settings,
        )

    async def with_task_of(self, upstream_id: str) -> list[tuple[Account, str | None, Task]]:
        """Every (account, its sealed credentials, task) pair where the account's task has
        ``upstream_id`` (one statement: an upstream callback's account and task together).
        Walks the accounts and, per account, ``ix_tasks_account_upstream``: bounded by the
        accounts, never by the history."""
        labelled = [column.label(f"account_{column.name}") for column in accounts.c]
        # SQLite would rather scan the tasks and find each one's account by key; a unary ``+``
        # keeps it off the accounts' key, so the accounts are the outer loop (its documented
        # way to steer a plan). PostgreSQL plans the loop that way by itself.
        account_id = literal_column("+accounts.id") if self.db.is_sqlite else accounts.c.id
        query = (
            select(*labelled, *tasks.c)
            .select_from(accounts.join(tasks, tasks.c.account_id == account_id))
            .where(tasks.c.upstream_id == upstream_id)
        )
        async with self.db.read() as conn:
            rows = (await conn.execute(query)).mappings().all()
        found = []
        for row in rows:
            account_row = {column.name: row[f"account_{column.name}"] for column in accounts.c}
            found.append((_from_row(account_row), account_row["credentials"], task_from_row(row)))
        return found

    async def load_handle(self, account_id: str) -> AccountHandle | None:
        async with self.db.read() as conn:
            row = (
                (await conn.execute(select(accounts).where(accounts.c.id == account_id)))
                .mappings()
                .first()
            )
        if row is None:
            return None
        return self.handle(_from_row(row), row["credentials"])

    async def _update(self, account_id: str, now: datetime, **values: Any) -> bool:
        statement = update(accounts).where(accounts.c.id == account_id)
        return await self.db.changed(statement.values(updated_at=now, **values)) > 0

    async def cool_down(self, account_id: str, until: datetime, reason: str, now: datetime) -> None:
        await self._update(account_id, now, cooldown_until=until, last_error=reason)

    async def disable(self, account_id: str, reason: str, now: datetime) -> bool:
        return await self._update(
            account_id, now, enabled=False, disabled_reason=reason, last_error=reason
        )

    async def enable(self, account_id: str, now: datetime) -> bool:
        return await self._update(
            account_id, now, enabled=True, disabled_reason=None, cooldown_until=None, failures=0
        )

    async def record_failure(self, account_id: str, reason: str, now: datetime) -> None:
        async with self.db.write() as conn:
            await conn.execute(
                update(accounts)
                .where(accounts.c.id == account_id)
                .values(failures=accounts.c.failures + 1, last_error=reason, updated_at=now)
            )

    async def update_credentials(
        self, account_id: str, credentials: dict[str, str], now: datetime
    ) -> None:
        await self._update(account_id, now, credentials=self.box.encrypt(json.dumps(credentials)))

    async def save_rotated_credentials(self, account_id: str, credentials: dict[str, str]) -> None:
        """A provider's ``CredentialSink``: an upstream rotated the account's credentials now."""
        await self.update_credentials(account_id, credentials, utcnow())

    async def remove(self, account_id: str) -> bool:
        return await self.db.changed(delete(accounts).where(accounts.c.id == account_id)) > 0
