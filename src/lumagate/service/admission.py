"""The hook through which a create is admitted: the charge made and limits checked in the
same unit of work (one write transaction) that stores the task, just before the insert (see
:class:`lumagate.service.billing.BillingService`).

:class:`~lumagate.service.tasks.TaskService` only knows this protocol, so it stays free of
billing rules and tests can run it with no admission at all.
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from lumagate.domain.tenant import ApiKey
from lumagate.store.tasks import NewTask
from lumagate.store.unit_of_work import UnitOfWork


class Admission(Protocol):
    """Limits and charge of a create, inside the unit of work that stores the task."""

    async def admit(self, work: UnitOfWork, tenant: ApiKey, new: NewTask, now: datetime) -> None:
        """Before the insert of ``new``: charge it and check the key's limits (raise to refuse:
        the unit of work then rolls the charge back and stores no task)."""
