"""Billing: what a generation costs, whether a key may create one now, refunds, usage numbers.

A create is admitted inside the unit of work (one write transaction) that stores the task (see
:class:`~lumagate.service.admission.Admission`): one conditional UPDATE charges the price and
locks the key's row (``credits = credits - p WHERE credits IS NULL OR credits >= p RETURNING``
the key, so no separate lock and no read of the balance), then its rate limit (tasks created in
the last 60 s, counted in the database so the limit holds across replicas) and its running limit
(tasks not yet ended, counted from the store) are checked and the ledger entry appended. When the
UPDATE changes nothing the key is read to tell a revoked key, a limit and too few credits apart,
in that order. Refusals raise before the commit, so a refused create leaves no task and no charge.
A task that fails, is cancelled or times out is refunded in full exactly once (listener on task
events, plus a sweep after crashes; the ledger's unique index makes a second refund a no-op).

Other dialects read their numbers here: :meth:`BillingService.summary` and
:meth:`BillingService.spent_between` (credits; :meth:`BillingSummary.usd` converts).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from lumagate.domain import messages as msg
from lumagate.domain.channels import Channel
from lumagate.domain.clock import utcnow
from lumagate.domain.errors import AuthenticationRequired, QuotaExceeded, RateLimitExceeded
from lumagate.domain.pricing import PriceQuote, PriceTable
from lumagate.domain.request import GenerationRequest
from lumagate.domain.task import Task
from lumagate.domain.task_end import refunded
from lumagate.domain.tenant import ApiKey
from lumagate.service.watermark import Watermark
from lumagate.settings import Settings
from lumagate.store.ledger import LedgerStore
from lumagate.store.tasks import NewTask
from lumagate.store.unit_of_work import UnitOfWork

RATE_WINDOW = timedelta(seconds=60)


def price_table(settings: Settings) -> PriceTable:
    return PriceTable(
        base=settings.price_base,
        resolution=settings.price_resolution,
        duration=settings.price_duration,
        channel=settings.price_channel,
        overrides=settings.price_overrides,
    )


@dataclass(frozen=True)
class BillingSummary:
    """A key's money picture in credits. ``balance`` is None for an unlimited key."""

    balance: int | None
    spent_total: int
    spent_month: int
    generations_month: int
    credit_usd: float

    @property
    def unlimited(self) -> bool:
        return self.balance is None

    @property
    def limit(self) -> int | None:
        """Everything the key was ever given (opening credits plus top-ups)."""
        return None if self.balance is None else self.balance + self.spent_total

    def usd(self, credits: int) -> float:
        return round(credits * self.credit_usd, 6)


SWEEP_BATCH = 200


class BillingService:
    def __init__(
        self,
        ledger: LedgerStore,
        prices: PriceTable,
        *,
        default_model: str,
        credit_usd: float,
        running_retry_after: int,
    ) -> None:
        self.ledger = ledger
        self.prices = prices
        self.default_model = default_model
        self.credit_usd = credit_usd
        self.running_retry_after = running_retry_after
        self._swept = Watermark()

    # -- prices -------------------------------------------------------------------------
    def quote(self, channel: Channel, request: GenerationRequest) -> PriceQuote:
        return self.prices.quote(channel.value, request.model, request.resolution, request.duration)

    def standard_price(self) -> int:
        """A default-channel, 720p, 5 s generation of the default model (usage in generations)."""
        return self.prices.price(Channel.DEFAULT.value, self.default_model, "720p", "5s")

    # -- admission (inside the create's write transaction) ------------------------------
    async def admit(self, work: UnitOfWork, tenant: ApiKey, new: NewTask, now: datetime) -> None:
        """Charge the key and lock its row in one statement, check its limits, record the
        charge; any refusal raises and the unit of work rolls the charge back."""
        quote = self.quote(new.channel, new.request)
        key = await work.ledger.take_credits(tenant.id, quote.credits)
        charged = key is not None
        if key is None:  # gone, or too few credits: say which (limits first, as always)
            key = await work.quotas.lock_key(tenant.id)
        if key is None or not key.usable(now):
            raise AuthenticationRequired(msg.BAD_KEY())
        await self._check_limits(work, key, now)
        if not charged:
            raise QuotaExceeded(msg.NOT_ENOUGH_CREDITS(cost=quote.credits, balance=key.credits))
        await work.ledger.record_charge(key, new.id, quote.credits, now, note=quote.rule)

    async def _check_limits(self, work: UnitOfWork, key: ApiKey, now: datetime) -> None:
        """The key's requests per minute and running tasks (counted in the database, under
        the key's row lock, so they hold across replicas)."""
        if key.rpm is not None:
            since = now - RATE_WINDOW
            recent = await work.quotas.creates_since(key.id, since)
            if recent >= key.rpm:
                # The window frees a slot when the (recent - rpm)-th oldest create ages out.
                oldest = await work.quotas.nth_create_since(key.id, since, recent - key.rpm)
                wait = 1.0 if oldest is None else (oldest + RATE_WINDOW - now).total_seconds()
                raise RateLimitExceeded(
                    msg.RATE_PER_MINUTE(rpm=key.rpm),
                    retry_after=max(1, math.ceil(wait)),
                )
        limit = key.max_running
        if limit is not None and await work.quotas.unfinished(key.id, up_to=limit) >= limit:
            raise RateLimitExceeded(
                msg.TOO_MANY_RUNNING(limit=limit),
                retry_after=self.running_retry_after,
            )

    # -- refunds ------------------------------------------------------------------------
    async def on_task_changed(self, task: Task) -> None:
        """Task event listener: a failed, cancelled or timed-out task gets its charge back in
        full (the rule: ``domain/task_end.refunded``)."""
        if refunded(task.state):
            await self.ledger.refund(task.id, utcnow(), note=_short(task.failure_reason))

    async def refund_missed(self) -> int:
        """Refund failed tasks whose refund was lost (the process died in between).

        The first sweep reads every failure; later ones only those since the watermark."""
        started = utcnow()
        found = await self.ledger.unrefunded_failures(since=self._swept.since, limit=SWEEP_BATCH)
        refunded = 0
        for task_id in found:
            if await self.ledger.refund(task_id, utcnow(), note="refund after restart"):
                refunded += 1
        if len(found) < SWEEP_BATCH:  # a full batch may have left some: look again from here
            self._swept.swept(started)
        return refunded

    # -- numbers ------------------------------------------------------------------------
    async def summary(self, tenant: ApiKey, now: datetime | None = None) -> BillingSummary:
        now = now or utcnow()
        month = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
        return BillingSummary(
            balance=tenant.credits,
            spent_total=await self.ledger.spent(tenant.id, None, None),
            spent_month=await self.ledger.spent(tenant.id, month, None),
            generations_month=await self.ledger.generations_since(tenant.id, month),
            credit_usd=self.credit_usd,
        )

    async def spent_between(
        self, tenant: ApiKey, start: datetime | None, end: datetime | None
    ) -> int:
        """Credits spent (charges less refunds) with entries in ``[start, end)``."""
        return await self.ledger.spent(tenant.id, start, end)


def _short(text: str | None, limit: int = 200) -> str | None:
    return None if text is None else text[:limit]
