"""The hook through which a create is admitted: limits checked and the charge made in the
same unit of work (one write transaction) that stores the task (see
:class:`lumagate.service.billing.BillingService`).

:class:`~lumagate.service.tasks.TaskService` only knows this protocol, so it stays free of
billing rules and tests can run it with no admission at all.
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from lumagate.domain.task import Task
from lumagate.domain.tenant import ApiKey
from lumagate.store.unit_of_work import UnitOfWork


class Admission(Protocol):
    """Limits and charge of a create, inside the unit of work that stores the task."""

    async def admit(self, work: UnitOfWork, tenant: ApiKey, now: datetime) -> None:
        """Before the insert: lock the key, check its rate and running limits (raise to refuse)."""

    async def charge(self, work: UnitOfWork, tenant: ApiKey, task: Task, now: datetime) -> None:
        """After the insert, same transaction: charge the task (raise QuotaExceeded to refuse)."""
