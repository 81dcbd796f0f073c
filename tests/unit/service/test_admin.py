"""AdminService's own logic over real stores (a fresh SQLite file) and fakes of the parts it
hands work to: how a key reference and a state narrow a task listing, which ids are "not
found", that an operator's cancel is any tenant's and says so, and that bodies and deliveries
come from the injected renderer and log. Every operation end to end, on SQLite and
PostgreSQL: tests/integration/service/test_admin.py."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from lumagate.domain.errors import InvalidRequest, KeyNotFound, TaskNotFound
from lumagate.domain.states import TaskState
from lumagate.domain.task import Task
from lumagate.domain.task_end import CANCELLED_BY_OPERATOR
from lumagate.service.admin import AdminService, AdminStores
from lumagate.service.cancels import TaskCancels
from lumagate.wiring.operator import account_admin, key_admin
from lumagate.wiring.stores import Stores
from tests.support.stores import stored_task


class Bodies:
    async def render(self, task: Task) -> Any:
        return {"rendered": task.id}


class Deliveries:
    def __init__(self) -> None:
        self.asked: list[str] = []

    async def log(self, task_id: str) -> list[dict[str, Any]]:
        self.asked.append(task_id)
        return [{"event": "completed", "task": task_id}]


class Cancels:
    """Records what the service asks and cancels through the real TaskCancels."""

    def __init__(self, real: TaskCancels) -> None:
        self.real = real
        self.asked: list[tuple[str, str | None, str]] = []

    async def cancel(self, task_id: str, *, tenant_id: str | None, reason: str) -> Task:
        self.asked.append((task_id, tenant_id, reason))
        return await self.real.cancel(task_id, tenant_id=tenant_id, reason=reason)


def _service(stores: Stores, cancels: Cancels | None = None) -> AdminService:
    admin_stores = AdminStores(
        db=stores.db, keys=stores.keys, ledger=stores.ledger, tasks=stores.tasks
    )
    return AdminService(
        admin_stores, key_admin(stores), account_admin(stores), Bodies(), Deliveries(), cancels
    )


async def test_a_listing_is_narrowed_by_a_key_reference_and_a_state(stores: Stores) -> None:
    service = _service(stores)
    shop = (await service.create_key("shop")).record
    other = (await service.create_key("other")).record
    queued = await stored_task(stores, shop.id)
    running = await stored_task(stores, shop.id, TaskState.PROCESSING)
    await stored_task(stores, other.id)
    everything = await service.list_tasks(key_ref=None, state=None, offset=0, limit=10)
    assert everything.total == 3 and len(everything.tasks) == 3
    for ref in ("shop", shop.id, shop.prefix):  # a key by name, id or display prefix
        page = await service.list_tasks(key_ref=ref, state=None, offset=0, limit=10)
        assert {t.id for t in page.tasks} == {queued.id, running.id} and page.total == 2
    page = await service.list_tasks(key_ref="shop", state="processing", offset=0, limit=10)
    assert [t.id for t in page.tasks] == [running.id] and page.total == 1
    page = await service.list_tasks(key_ref="shop", state=None, offset=1, limit=1)
    assert len(page.tasks) == 1 and page.total == 2


async def test_a_reference_that_is_no_key_lists_that_tenant_id(stores: Stores) -> None:
    service = _service(stores)
    gone = await stored_task(stores, "a-deleted-key-id")  # tasks outlive their key's row
    page = await service.list_tasks(key_ref="a-deleted-key-id", state=None, offset=0, limit=5)
    assert [t.id for t in page.tasks] == [gone.id]
    nobody = await service.list_tasks(key_ref="nobody", state=None, offset=0, limit=5)
    assert (nobody.tasks, nobody.total) == ([], 0)


async def test_a_state_that_is_no_task_state_is_refused_on_its_field(stores: Stores) -> None:
    with pytest.raises(InvalidRequest) as refused:
        await _service(stores).list_tasks(key_ref=None, state="bogus", offset=0, limit=5)
    assert refused.value.field == "state"


async def test_an_unknown_or_malformed_task_id_is_not_found(stores: Stores) -> None:
    service = _service(stores)
    task = await stored_task(stores, "tenant")
    assert (await service.task(task.id)).id == task.id
    for bad in ("not-a-uuid", "", str(uuid.uuid4())):
        with pytest.raises(TaskNotFound):
            await service.task(bad)


async def test_an_operator_cancels_any_tenants_task_as_the_operator(stores: Stores) -> None:
    cancels = Cancels(TaskCancels(stores.tasks))
    service = _service(stores, cancels)
    task = await stored_task(stores, "some-tenant")
    cancelled = await service.cancel_task(task.id)
    assert cancelled.state == TaskState.CANCELLED
    assert cancelled.failure_reason == CANCELLED_BY_OPERATOR
    assert cancels.asked == [(task.id, None, CANCELLED_BY_OPERATOR)]
    with pytest.raises(TaskNotFound):
        await service.cancel_task("not-a-uuid")
    assert len(cancels.asked) == 1  # a malformed id never reaches the cancel


async def test_without_a_cancel_service_the_operators_cancel_still_works(stores: Stores) -> None:
    task = await stored_task(stores, "some-tenant", TaskState.SUBMITTED, upstream_id="up-1")
    cancelled = await _service(stores).cancel_task(task.id)
    assert cancelled.state == TaskState.CANCELLED


async def test_bodies_and_deliveries_come_from_the_injected_parts(stores: Stores) -> None:
    service = _service(stores)
    task = await stored_task(stores, "tenant")
    assert await service.task_body(task) == {"rendered": task.id}
    assert await service.task_deliveries(task.id) == [{"event": "completed", "task": task.id}]


async def test_the_ledger_of_a_key_and_of_everything(stores: Stores) -> None:
    service = _service(stores)
    shop = (await service.create_key("shop", credits=100)).record
    await service.create_key("other", credits=7)
    await service.top_up_key("shop", 5, "bonus")
    mine = await service.ledger(key_ref="shop", task_id=None, offset=0, limit=10)
    assert [(e.key_id, e.delta) for e in mine] == [(shop.id, 5), (shop.id, 100)]
    everything = await service.ledger(key_ref=None, task_id=None, offset=0, limit=10)
    assert sorted(e.delta for e in everything) == [5, 7, 100]
    assert await service.task_ledger(str(uuid.uuid4())) == []
    with pytest.raises(KeyNotFound):
        await service.ledger(key_ref="nobody", task_id=None, offset=0, limit=10)
