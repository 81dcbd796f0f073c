"""The operator's service: what ``/admin`` (and the future web console) can see and change.

Keys (list, create, show, revoke, top up), upstream accounts (list, add, disable, enable,
renew, remove: :class:`~lumagate.service.account_admin.AccountAdmin`), the credit ledger, and
tasks of any tenant with their dialect body, ledger entries and callback deliveries. The admin
routes call only this service; it alone knows which stores answer, so a console is one more
caller, not a second copy of the queries. Who may call it (the admin key) is the caller's job.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any, Protocol

from lumagate.domain import messages as msg
from lumagate.domain.accounts import Account, NewAccount
from lumagate.domain.errors import InvalidRequest, TaskNotFound
from lumagate.domain.ledger import LedgerEntry
from lumagate.domain.states import TaskState
from lumagate.domain.task import Task
from lumagate.domain.task_end import CANCELLED_BY_OPERATOR
from lumagate.domain.tenant import ApiKey
from lumagate.service.account_admin import AccountAdmin
from lumagate.service.cancels import TaskCancels
from lumagate.service.keys import KeyAdmin
from lumagate.store.database import Database
from lumagate.store.keys import KeyStore
from lumagate.store.ledger import LedgerStore
from lumagate.store.task_admin import list_any_tenant
from lumagate.store.tasks import TaskStore


@dataclass(frozen=True)
class TaskPage:
    """One page of tasks across tenants, newest first, and how many match in all (at least
    ``total`` when ``total_capped``: the count stops past the next pages, never walks history)."""

    tasks: list[Task]
    total: int
    total_capped: bool = False


@dataclass(frozen=True)
class AdminStores:
    """The stores the operator's service reads (built once by the composition root)."""

    db: Database
    keys: KeyStore
    ledger: LedgerStore
    tasks: TaskStore


class TaskRendering(Protocol):
    """Renders a task as its submitting dialect shows it (``TaskBodies``)."""

    async def render(self, task: Task) -> Any: ...


class DeliveryLog(Protocol):
    """A task's callback deliveries with every attempt (``CallbackRecorder``)."""

    async def log(self, task_id: str) -> list[dict[str, Any]]: ...


class Cancelling(Protocol):
    """Cancels one task (``TaskCancels``)."""

    async def cancel(self, task_id: str, *, tenant_id: str | None, reason: str) -> Task: ...


class AdminService:
    """Every operator operation on keys, accounts, the ledger and tasks."""

    def __init__(
        self,
        stores: AdminStores,
        keys: KeyAdmin,
        accounts: AccountAdmin,
        bodies: TaskRendering,
        callbacks: DeliveryLog,
        cancels: Cancelling | None = None,
    ) -> None:
        self._stores = stores
        self._cancels: Cancelling = cancels or TaskCancels(stores.tasks)
        # KeyAdmin's own methods (their options and bounds), not copies of their signatures:
        # a key by id, name or prefix (``KeyNotFound`` otherwise), create, its webhook secret,
        # revoke, new limits, and a top-up (or, negative, a removal) returning the balance.
        self.key = keys.find
        self.create_key = keys.create
        self.webhook_secret = keys.webhook_secret
        self.revoke_key = keys.revoke
        self.change_key_limits = keys.change_limits
        self.top_up_key = keys.top_up
        self.accounts = accounts
        self._bodies = bodies
        self._callbacks = callbacks

    # -- keys ---------------------------------------------------------------------------
    async def list_keys(self) -> list[ApiKey]:
        return await self._stores.keys.all()

    # -- accounts -----------------------------------------------------------------------
    async def list_accounts(self) -> list[Account]:
        return await self.accounts.list()

    async def account(self, ref: str) -> Account:
        return await self.accounts.get(ref)

    async def add_account(self, new: NewAccount) -> Account:
        return await self.accounts.add(new)

    async def disable_account(self, ref: str, reason: str) -> Account:
        return await self.accounts.disable(ref, reason)

    async def enable_account(self, ref: str) -> Account:
        return await self.accounts.enable(ref)

    async def renew_account(self, ref: str, credentials: dict[str, str]) -> Account:
        return await self.accounts.renew(ref, credentials)

    async def remove_account(self, ref: str, *, force: bool = False) -> Account:
        return await self.accounts.remove(ref, force=force)

    # -- ledger -------------------------------------------------------------------------
    async def ledger(
        self, *, key_ref: str | None, task_id: str | None, offset: int, limit: int
    ) -> list[LedgerEntry]:
        """Ledger entries, newest first, of one key and/or one task (or all)."""
        key_id = (await self.key(key_ref)).id if key_ref else None
        return await self._stores.ledger.entries(
            key_id=key_id, task_id=task_id, offset=offset, limit=limit
        )

    # -- tasks --------------------------------------------------------------------------
    async def list_tasks(
        self, *, key_ref: str | None, state: str | None, offset: int, limit: int
    ) -> TaskPage:
        """Tasks of any tenant; ``key_ref`` is a key's id, name or prefix."""
        if state is not None and state not in {s.value for s in TaskState}:
            raise InvalidRequest(msg.STATE_NOT_TASK_STATE(), field="state")
        tenant_id = None
        if key_ref is not None:
            key = await self._stores.keys.find(key_ref)
            tenant_id = key.id if key is not None else key_ref
        found, total, capped = await list_any_tenant(
            self._stores.db, tenant_id=tenant_id, state=state, offset=offset, limit=limit
        )
        return TaskPage(found, total, capped)

    async def task(self, task_id: str) -> Task:
        """One task of any tenant (``TaskNotFound`` for an unknown or malformed id)."""
        try:
            uuid.UUID(task_id)
        except ValueError:
            raise TaskNotFound(msg.TASK_NOT_FOUND()) from None
        task = await self._stores.tasks.get(task_id)
        if task is None:
            raise TaskNotFound(msg.TASK_NOT_FOUND())
        return task

    async def cancel_task(self, task_id: str) -> Task:
        """Cancel any tenant's unfinished task (``TaskAlreadyEnded`` once it has ended)."""
        await self.task(task_id)
        return await self._cancels.cancel(task_id, tenant_id=None, reason=CANCELLED_BY_OPERATOR)

    async def task_body(self, task: Task) -> Any:
        """The task as its submitting dialect shows it (what its callbacks carry)."""
        return await self._bodies.render(task)

    async def task_ledger(self, task_id: str) -> list[LedgerEntry]:
        return await self._stores.ledger.entries(task_id=task_id)

    async def task_deliveries(self, task_id: str) -> list[dict[str, Any]]:
        """The task's callback deliveries with every attempt."""
        return await self._callbacks.log(task_id)
