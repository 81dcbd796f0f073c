"""The credit ledger: every change of a key's balance, appended in the transaction that makes it.

Entries are never updated or deleted. ``delta`` is the change of the balance (a charge is
negative), ``balance_after`` the balance right after it (NULL for unlimited keys, whose usage is
recorded but never limited). For a limited key the sum of its entries equals its balance,
because the key's opening credits are an entry too.

A charge is one conditional UPDATE (``credits = credits - p WHERE credits >= p``), so two
concurrent creates can never spend the same credit. A refund is guarded by the unique index on
``(task_id, kind)``: a second refund of the same task fails and changes nothing.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import (
    ColumnElement,
    RowMapping,
    and_,
    bindparam,
    exists,
    func,
    or_,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from lumagate.domain import messages as msg
from lumagate.domain.clock import ensure_utc
from lumagate.domain.errors import KeyNotFound
from lumagate.domain.ledger import LedgerEntry, LedgerKind
from lumagate.domain.states import TaskState
from lumagate.domain.tenant import ApiKey
from lumagate.store.database import Database
from lumagate.store.errors import InsufficientCredits, UnlimitedKey
from lumagate.store.executes import Executes
from lumagate.store.rows import key_from_row
from lumagate.store.schema import api_keys, ledger, tasks


class ChargeStatus(StrEnum):
    CHARGED = "charged"
    UNLIMITED = "unlimited"  # recorded only
    INSUFFICIENT = "insufficient"


def _entry(row: RowMapping) -> LedgerEntry:
    return LedgerEntry(
        id=int(row["id"]),
        key_id=row["key_id"],
        task_id=row["task_id"],
        kind=LedgerKind(row["kind"]),
        delta=int(row["delta"]),
        balance_after=None if row["balance_after"] is None else int(row["balance_after"]),
        note=row["note"],
        created_at=ensure_utc(row["created_at"]),
    )


async def append_entry(
    conn: Executes,
    *,
    key_id: str,
    kind: LedgerKind,
    delta: int,
    balance_after: int | None,
    now: datetime,
    task_id: str | None = None,
    note: str | None = None,
) -> None:
    """Append inside the caller's transaction (the one that changed the balance)."""
    await conn.execute(
        ledger.insert().values(
            key_id=key_id,
            task_id=task_id,
            kind=kind.value,
            delta=delta,
            balance_after=balance_after,
            note=note,
            created_at=now,
        )
    )


async def _credits(conn: Executes, key_id: str) -> tuple[bool, int | None]:
    """(exists, credits) of a key."""
    row = (await conn.execute(select(api_keys.c.credits).where(api_keys.c.id == key_id))).first()
    return (False, None) if row is None else (True, row[0])


APPEND_ENTRY = ledger.insert()
# Built once (parameters, not literal values): a create compiles nothing and hashes no values.
TAKE_CREDITS = (
    update(api_keys)
    .where(
        api_keys.c.id == bindparam("key_id"),
        or_(api_keys.c.credits.is_(None), api_keys.c.credits >= bindparam("price")),
    )
    .values(credits=api_keys.c.credits - bindparam("price"))
    .returning(*api_keys.c)
)


class LedgerCharges:
    """The ledger statements of one unit of work: charging a task as it is stored."""

    def __init__(self, conn: Executes) -> None:
        self._conn = conn

    async def take_credits(self, key_id: str, price: int) -> ApiKey | None:
        """Charge ``price`` to the key and lock its row, in one statement: the key as it stands
        after the charge, or None (nothing changed) when it is gone or has too few credits.

        ``credits - price`` leaves an unlimited key's NULL as it is, so every create of a key
        updates its row: on PostgreSQL that takes the row lock ``SELECT ... FOR UPDATE`` took,
        and on SQLite the ``BEGIN IMMEDIATE`` writer serializes anyway. The caller records the
        charge with :meth:`record_charge` in the same transaction.
        """
        params = {"key_id": key_id, "price": price}
        row = (await self._conn.execute(TAKE_CREDITS, params)).mappings().first()
        return None if row is None else key_from_row(row)

    async def record_charge(
        self, key: ApiKey, task_id: str, price: int, now: datetime, note: str | None = None
    ) -> None:
        """The ledger entry of a charge :meth:`take_credits` made (``key`` as it returned)."""
        entry = {
            "key_id": key.id,
            "task_id": task_id,
            "kind": LedgerKind.CHARGE.value,
            "delta": -price,
            "balance_after": key.credits,
            "note": note,
            "created_at": now,
        }
        await self._conn.execute(APPEND_ENTRY, entry)

    async def charge(
        self,
        key_id: str,
        task_id: str,
        price: int,
        now: datetime,
        note: str | None = None,
    ) -> tuple[ChargeStatus, int | None]:
        """Charge ``price`` inside the caller's transaction; INSUFFICIENT changes nothing."""
        balance = (
            await self._conn.execute(
                update(api_keys)
                .where(
                    api_keys.c.id == key_id,
                    api_keys.c.credits.is_not(None),
                    api_keys.c.credits >= price,
                )
                .values(credits=api_keys.c.credits - price)
                .returning(api_keys.c.credits)
            )
        ).scalar_one_or_none()
        if balance is not None:
            status = ChargeStatus.CHARGED
        else:
            found, credits = await _credits(self._conn, key_id)
            if not found:
                raise KeyNotFound(msg.NO_KEY_MATCHES(ref=repr(key_id)))
            if credits is not None:
                return ChargeStatus.INSUFFICIENT, credits
            status = ChargeStatus.UNLIMITED
        await append_entry(
            self._conn,
            key_id=key_id,
            kind=LedgerKind.CHARGE,
            delta=-price,
            balance_after=None if balance is None else int(balance),
            now=now,
            task_id=task_id,
            note=note,
        )
        return status, None if balance is None else int(balance)


class LedgerStore:
    """The ledger's own transactions: refunds, top-ups and the reads of the numbers."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def refund(self, task_id: str, now: datetime, note: str | None = None) -> bool:
        """Give back the charge of ``task_id``; False if it had none or was refunded already."""
        try:
            async with self.db.write() as conn:
                charge = (
                    (
                        await conn.execute(
                            select(ledger).where(
                                ledger.c.task_id == task_id,
                                ledger.c.kind == LedgerKind.CHARGE.value,
                            )
                        )
                    )
                    .mappings()
                    .first()
                )
                if charge is None or await self._has(conn, task_id, LedgerKind.REFUND):
                    return False
                amount = -int(charge["delta"])
                balance = (
                    await conn.execute(
                        update(api_keys)
                        .where(api_keys.c.id == charge["key_id"], api_keys.c.credits.is_not(None))
                        .values(credits=api_keys.c.credits + amount)
                        .returning(api_keys.c.credits)
                    )
                ).scalar_one_or_none()
                await append_entry(
                    conn,
                    key_id=charge["key_id"],
                    kind=LedgerKind.REFUND,
                    delta=amount,
                    balance_after=None if balance is None else int(balance),
                    now=now,
                    task_id=task_id,
                    note=note,
                )
        except IntegrityError:  # a concurrent refund of the same task committed first
            return False
        return True

    async def top_up(self, key_id: str, amount: int, now: datetime, note: str | None) -> int:
        """Add ``amount`` (may be negative, never below zero); returns the new balance."""
        async with self.db.write() as conn:
            balance = (
                await conn.execute(
                    update(api_keys)
                    .where(
                        api_keys.c.id == key_id,
                        api_keys.c.credits.is_not(None),
                        api_keys.c.credits + amount >= 0,
                    )
                    .values(credits=api_keys.c.credits + amount)
                    .returning(api_keys.c.credits)
                )
            ).scalar_one_or_none()
            if balance is None:
                found, credits = await _credits(conn, key_id)
                if not found:
                    raise KeyNotFound(msg.NO_KEY_MATCHES(ref=repr(key_id)))
                if credits is None:
                    raise UnlimitedKey(key_id)
                raise InsufficientCredits(key_id, credits)
            await append_entry(
                conn,
                key_id=key_id,
                kind=LedgerKind.TOP_UP,
                delta=amount,
                balance_after=int(balance),
                now=now,
                note=note,
            )
        return int(balance)

    @staticmethod
    async def _has(conn: AsyncConnection, task_id: str, kind: LedgerKind) -> bool:
        row = (
            await conn.execute(
                select(ledger.c.id).where(ledger.c.task_id == task_id, ledger.c.kind == kind.value)
            )
        ).first()
        return row is not None

    # -- reads --------------------------------------------------------------------------
    async def entries(
        self,
        *,
        key_id: str | None = None,
        task_id: str | None = None,
        offset: int = 0,
        limit: int = 100,
    ) -> list[LedgerEntry]:
        query = select(ledger).order_by(ledger.c.id.desc()).offset(offset).limit(limit)
        if key_id is not None:
            query = query.where(ledger.c.key_id == key_id)
        if task_id is not None:
            query = query.where(ledger.c.task_id == task_id)
        async with self.db.read() as conn:
            rows = (await conn.execute(query)).mappings().all()
        return [_entry(r) for r in rows]

    async def spent(self, key_id: str, since: datetime | None, until: datetime | None) -> int:
        """Credits spent (charges less refunds) with entries in ``[since, until)``."""
        conditions = [
            ledger.c.key_id == key_id,
            ledger.c.kind.in_([LedgerKind.CHARGE.value, LedgerKind.REFUND.value]),
        ]
        if since is not None:
            conditions.append(ledger.c.created_at >= since)
        if until is not None:
            conditions.append(ledger.c.created_at < until)
        query = select(func.coalesce(func.sum(ledger.c.delta), 0)).where(and_(*conditions))
        async with self.db.read() as conn:
            return -int((await conn.execute(query)).scalar_one())

    async def generations_since(self, key_id: str, since: datetime) -> int:
        """Charged generations since ``since`` that were not refunded."""
        refund = ledger.alias("refund")
        query = (
            select(func.count())
            .select_from(ledger)
            .where(
                ledger.c.key_id == key_id,
                ledger.c.kind == LedgerKind.CHARGE.value,
                ledger.c.created_at >= since,
                ~exists().where(
                    refund.c.task_id == ledger.c.task_id,
                    refund.c.kind == LedgerKind.REFUND.value,
                ),
            )
        )
        async with self.db.read() as conn:
            return int((await conn.execute(query)).scalar_one())

    async def unrefunded_failures(
        self, *, since: datetime | None = None, limit: int = 200
    ) -> list[str]:
        """Failed or cancelled tasks that were charged and not refunded (a refund lost to a crash).

        Driven from the failed tasks (``ix_tasks_finished``), finished since ``since`` when
        given, each checked against the ledger by its unique (task, kind) index: the sweep
        reads recent failures, not every charge ever made."""
        charge = ledger.alias("charge")
        refund = ledger.alias("refund")
        failed: ColumnElement[bool] = tasks.c.state.in_(
            [TaskState.FAILED.value, TaskState.CANCELLED.value]
        )
        if since is not None:
            failed = and_(failed, tasks.c.finished_at >= since)
        query = (
            select(tasks.c.id)
            .where(
                failed,
                exists().where(
                    charge.c.task_id == tasks.c.id, charge.c.kind == LedgerKind.CHARGE.value
                ),
                ~exists().where(
                    refund.c.task_id == tasks.c.id, refund.c.kind == LedgerKind.REFUND.value
                ),
            )
            .limit(limit)
        )
        async with self.db.read() as conn:
            return [str(r[0]) for r in (await conn.execute(query)).all()]
