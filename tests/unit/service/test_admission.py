"""The Admission hook as TaskService uses it: admit before the insert and charge after it, in
one unit of work, so a refusal at either step stores no task."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from lumagate.domain.channels import Channel
from lumagate.domain.clock import utcnow
from lumagate.domain.errors import QuotaExceeded, RateLimitExceeded
from lumagate.domain.task import Task
from lumagate.domain.tenant import ApiKey
from lumagate.media.store import MediaStore
from lumagate.service.admission import Admission
from lumagate.service.tasks import CreateCommand, TaskService
from lumagate.store.unit_of_work import UnitOfWork
from lumagate.wiring.stores import Stores


class RecordingAdmission:
    """Says what it was asked, and refuses at the step it is told to."""

    def __init__(self, refuse_at: str | None = None) -> None:
        self.refuse_at = refuse_at
        self.calls: list[str] = []

    async def admit(self, work: UnitOfWork, tenant: ApiKey, now: datetime) -> None:
        self.calls.append("admit")
        if self.refuse_at == "admit":
            raise RateLimitExceeded("slow down", retry_after=3)

    async def charge(self, work: UnitOfWork, tenant: ApiKey, task: Task, now: datetime) -> None:
        unfinished = await work.quotas.unfinished(tenant.id)  # this transaction's new task
        self.calls.append(f"charge, {unfinished} unfinished")
        if self.refuse_at == "charge":
            raise QuotaExceeded("no credits")


def _service(stores: Stores, tmp_path: Path, admission: Admission) -> TaskService:
    return TaskService(
        stores.tasks,
        stores.accounts,
        MediaStore(tmp_path / "media", "http://127.0.0.1:8000"),
        transactions=stores.transactions,
        default_model="ray-2",
        max_image_bytes=1_000_000,
        admission=admission,
    )


async def test_admit_then_charge_around_the_insert(stores: Stores, tmp_path: Path) -> None:
    admission = RecordingAdmission()
    key, _ = await stores.keys.create("t", utcnow())
    task = await _service(stores, tmp_path, admission).create(
        key, CreateCommand(Channel.DEFAULT, "reseller", "a fox")
    )
    assert admission.calls == ["admit", "charge, 1 unfinished"]
    assert await stores.tasks.get(task.id) is not None


@pytest.mark.parametrize("step", ["admit", "charge"], ids=["admit", "charge"])
async def test_a_refusal_at_either_step_stores_no_task(
    stores: Stores, tmp_path: Path, step: str
) -> None:
    key, _ = await stores.keys.create("t", utcnow())
    service = _service(stores, tmp_path, RecordingAdmission(refuse_at=step))
    with pytest.raises((RateLimitExceeded, QuotaExceeded)):
        await service.create(key, CreateCommand(Channel.DEFAULT, "reseller", "a fox"))
    assert (await stores.tasks.count_by_state()) == {}
