"""The Admission hook as TaskService uses it: admitted (charged, limits checked) just before the
insert, in the unit of work that stores the task, so a refusal stores no task and no charge."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from lumagate.domain.channels import Channel
from lumagate.domain.clock import utcnow
from lumagate.domain.errors import QuotaExceeded, RateLimitExceeded
from lumagate.domain.tenant import ApiKey
from lumagate.media.store import MediaStore
from lumagate.service.admission import Admission
from lumagate.service.tasks import CreateCommand, TaskService
from lumagate.store.tasks import NewTask
from lumagate.store.unit_of_work import UnitOfWork
from lumagate.wiring.stores import Stores


class RecordingAdmission:
    """Says what it was asked, writes a charge in the unit of work, and refuses when told to."""

    def __init__(self, refuse: Exception | None = None) -> None:
        self.refuse = refuse
        self.calls: list[str] = []

    async def admit(self, work: UnitOfWork, tenant: ApiKey, new: NewTask, now: datetime) -> None:
        unfinished = await work.quotas.unfinished(tenant.id)  # the insert is still to come
        self.calls.append(f"admit {new.request.prompt!r}, {unfinished} unfinished")
        await work.ledger.record_charge(tenant, new.id, 5, now, note="probe")
        if self.refuse is not None:
            raise self.refuse


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


async def test_admitted_before_the_insert_and_committed_with_it(
    stores: Stores, tmp_path: Path
) -> None:
    admission = RecordingAdmission()
    key, _ = await stores.keys.create("t", utcnow())
    task = await _service(stores, tmp_path, admission).create(
        key, CreateCommand(Channel.DEFAULT, "reseller", "a fox")
    )
    assert admission.calls == ["admit 'a fox', 0 unfinished"]
    assert await stores.tasks.get(task.id) is not None
    assert [e.task_id for e in await stores.ledger.entries(key_id=key.id)] == [task.id]


@pytest.mark.parametrize(
    "refusal",
    [RateLimitExceeded("slow down", retry_after=3), QuotaExceeded("no credits")],
    ids=["rate", "credits"],
)
async def test_a_refusal_stores_no_task_and_no_charge(
    stores: Stores, tmp_path: Path, refusal: Exception
) -> None:
    key, _ = await stores.keys.create("t", utcnow())
    service = _service(stores, tmp_path, RecordingAdmission(refuse=refusal))
    with pytest.raises(type(refusal)):
        await service.create(key, CreateCommand(Channel.DEFAULT, "reseller", "a fox"))
    assert (await stores.tasks.count_by_state()) == {}
    assert await stores.ledger.entries(key_id=key.id) == []
