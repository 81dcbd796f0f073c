"""API keys (tenants): stored hashed, looked up by digest, scoped by channel.

The key itself is never stored (only its SHA-256 digest); the webhook secret is stored sealed by
:class:`~lumagate.security.crypto.SecretBox` and opened only by the service layer.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import bindparam, select, update

from lumagate.domain.channels import Channel
from lumagate.domain.ledger import LedgerKind
from lumagate.domain.tenant import ApiKey
from lumagate.security.keys import (
    digests_match,
    display_prefix,
    generate_api_key,
    hash_api_key,
)
from lumagate.store.database import Database
from lumagate.store.hot_read import HotRead
from lumagate.store.ledger import append_entry
from lumagate.store.rows import key_from_row
from lumagate.store.schema import api_keys, tasks

if TYPE_CHECKING:  # a task is made only by the GET's lookup (_key_and_task)
    from lumagate.domain.task import Task

_KEY_COLUMNS = tuple(api_keys.c)
_TASK_COLUMNS = tuple(tasks.c)
_KEY_NAMES = tuple(c.name for c in _KEY_COLUMNS)
_TASK_NAMES = tuple(c.name for c in _TASK_COLUMNS)
# Built once: composing this select per request cost more CPU than running it.
_KEY_AND_TASK = (
    select(*_KEY_COLUMNS, *_TASK_COLUMNS)
    .select_from(api_keys.outerjoin(tasks, tasks.c.id == bindparam("task_id")))
    .where(api_keys.c.key_hash == bindparam("digest"))
)


def _key_and_task(values: tuple[Any, ...]) -> tuple[str, ApiKey, Task | None, bool]:
    """A row of ``_KEY_AND_TASK``: the key's digest, the key, the task (None: the outer join
    found none) and whether the task is hidden. Depends on the row alone (hot_read keeps it)."""
    from lumagate.store.task_rows import task_from_row  # not with the module: keys create

    key_row = dict(zip(_KEY_NAMES, values[: len(_KEY_NAMES)], strict=True))
    task_row = dict(zip(_TASK_NAMES, values[len(_KEY_NAMES) :], strict=True))
    task = None if task_row["id"] is None else task_from_row(task_row)
    return key_row["key_hash"], key_from_row(key_row), task, bool(task_row["hidden"])


class KeyStore:
    """The ``api_keys`` table: creating, finding, authenticating and revoking keys."""

    def __init__(self, db: Database) -> None:
        self.db = db
        # The GET's statement on the raw driver (store/hot_read.py), closed with the database.
        self.hot = HotRead(db.url, db.dialect, _KEY_AND_TASK)
        db.close_with(self.hot.close)

    async def create(
        self,
        name: str,
        now: datetime,
        *,
        credits: int | None = None,
        channels: tuple[Channel, ...] = (Channel.DEFAULT, Channel.VIP, Channel.PRO),
        rpm: int | None = None,
        max_running: int | None = None,
        deadline_minutes: int | None = None,
        plan: str = "standard",
        expires_at: datetime | None = None,
        webhook_secret: str | None = None,
    ) -> tuple[ApiKey, str]:
        """Create a key; returns the record and the plaintext key (shown once, never stored)."""
        plaintext = generate_api_key()
        key_id = str(uuid.uuid4())
        async with self.db.write() as conn:
            await conn.execute(
                api_keys.insert().values(
                    id=key_id,
                    name=name,
                    key_hash=hash_api_key(plaintext),
                    key_prefix=display_prefix(plaintext),
                    credits=credits,
                    channels=",".join(c.value for c in channels),
                    rpm=rpm,
                    max_running=max_running,
                    deadline_minutes=deadline_minutes,
                    plan=plan,
                    webhook_secret=webhook_secret,
                    expires_at=expires_at,
                    created_at=now,
                )
            )
            if credits is not None:  # so a limited key's ledger always sums to its balance
                await append_entry(
                    conn,
                    key_id=key_id,
                    kind=LedgerKind.OPENING,
                    delta=credits,
                    balance_after=credits,
                    now=now,
                    note="credits at creation",
                )
            row = (
                (await conn.execute(select(api_keys).where(api_keys.c.id == key_id)))
                .mappings()
                .one()
            )
        return key_from_row(row), plaintext

    async def authenticate_with_task(
        self, plaintext: str, task_id: str, now: datetime
    ) -> tuple[ApiKey | None, Task | None]:
        """The usable key and the task ``task_id`` in one statement (a client's GET of one task:
        one round trip, and a revoked key is refused at once on every replica). The task is None
        unless it is the key's own and not hidden, as :meth:`TaskStore.get` with a tenant."""
        digest = hash_api_key(plaintext)
        parameters = {"task_id": task_id, "digest": digest}
        rows = await self.hot.fetch(parameters, _key_and_task)
        if rows is None:  # the raw driver could not answer: the async engine does
            async with self.db.read_one() as conn:
                found = await conn.execute(_KEY_AND_TASK, parameters)
                rows = [_key_and_task(tuple(row)) for row in found]
        if not rows:
            return None, None
        key_hash, key, task, hidden = rows[0]
        if not digests_match(key_hash, digest) or not key.usable(now):
            return None, None
        if task is None or task.tenant_id != key.id or hidden:
            return key, None  # no such task (the outer join found none), or not the caller's
        return key, task

    async def get(self, key_id: str) -> ApiKey | None:
        async with self.db.read_one() as conn:
            row = (
                (await conn.execute(select(api_keys).where(api_keys.c.id == key_id)))
                .mappings()
                .first()
            )
        return None if row is None else key_from_row(row)

    async def find(self, id_or_name: str) -> ApiKey | None:
        async with self.db.read() as conn:
            row = (
                (
                    await conn.execute(
                        select(api_keys)
                        .where(
                            (api_keys.c.id == id_or_name)
                            | (api_keys.c.name == id_or_name)
                            | (api_keys.c.key_prefix == id_or_name)
                        )
                        .order_by(api_keys.c.created_at.desc())
                    )
                )
                .mappings()
                .first()
            )
        return None if row is None else key_from_row(row)

    async def all(self) -> list[ApiKey]:
        async with self.db.read() as conn:
            rows = (
                (await conn.execute(select(api_keys).order_by(api_keys.c.created_at)))
                .mappings()
                .all()
            )
        return [key_from_row(r) for r in rows]

    async def revoke(self, key_id: str, now: datetime) -> bool:
        return (
            await self.db.changed(
                update(api_keys)
                .where(api_keys.c.id == key_id, api_keys.c.revoked_at.is_(None))
                .values(revoked_at=now)
            )
        ) > 0

    async def update_limits(
        self,
        key_id: str,
        *,
        channels: tuple[Channel, ...],
        rpm: int | None,
        max_running: int | None,
    ) -> bool:
        """Replace a key's channels and rate limits (None: no limit); credits are the ledger's."""
        return (
            await self.db.changed(
                update(api_keys)
                .where(api_keys.c.id == key_id)
                .values(
                    channels=",".join(c.value for c in channels), rpm=rpm, max_running=max_running
                )
            )
        ) > 0

    async def sealed_webhook_secret(self, key_id: str) -> str | None:
        async with self.db.read() as conn:
            return (
                await conn.execute(select(api_keys.c.webhook_secret).where(api_keys.c.id == key_id))
            ).scalar_one_or_none()

    async def set_webhook_secret_if_missing(self, key_id: str, sealed: str) -> bool:
        """Give a key created without a webhook secret one; False if it already had one."""
        return (
            await self.db.changed(
                update(api_keys)
                .where(api_keys.c.id == key_id, api_keys.c.webhook_secret.is_(None))
                .values(webhook_secret=sealed)
            )
        ) > 0
