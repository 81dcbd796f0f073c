"""Usage of a tenant in the luma-web ``subscription/usage`` shape, and the caller's profile.

The numbers come from the credit ledger (:mod:`lumagate.service.billing`). ``consumed`` counts
this month's charged generations that were not refunded. ``available`` is how many standard
generations (default model, 720p, 5 s, default channel) the key's balance still buys; a key
without a limit reports ``UNLIMITED_AVAILABLE`` because clients expect a number
(docs/billing-and-callbacks.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from lumagate.domain.tenant import ApiKey
from lumagate.service.billing import BillingService

UNLIMITED_AVAILABLE = 999_999

PLANS: list[dict[str, Any]] = [
    {
        "name": "Free",
        "key": "free",
        "capacity_per_month": 30,
        "monthly_cost_in_cents": 0,
        "yearly_cost_in_cents": 0,
    },
    {
        "name": "Standard",
        "key": "standard",
        "capacity_per_month": 150,
        "monthly_cost_in_cents": 2999,
        "yearly_cost_in_cents": 28790.4,
    },
    {
        "name": "Pro",
        "key": "pro",
        "capacity_per_month": 430,
        "monthly_cost_in_cents": 9999,
        "yearly_cost_in_cents": 95990.4,
    },
    {
        "name": "Premier",
        "key": "premier",
        "capacity_per_month": 2030,
        "monthly_cost_in_cents": 49999,
        "yearly_cost_in_cents": 479990.4,
    },
]


@dataclass(frozen=True)
class Usage:
    consumed: int
    available: int
    plan: str

    @property
    def capacity(self) -> int:
        return self.consumed + self.available

    def luma_shape(self) -> dict[str, Any]:
        return {
            "consumed": self.consumed,
            "capacity": self.capacity,
            "available": self.available,
            "subscription": {"active": True, "plan": self.plan, "type": None},
            "plans": PLANS,
        }


class UsageService:
    def __init__(self, billing: BillingService) -> None:
        self.billing = billing

    async def usage(self, tenant: ApiKey) -> Usage:
        summary = await self.billing.summary(tenant)
        price = self.billing.standard_price()
        if summary.balance is None or price <= 0:
            available = UNLIMITED_AVAILABLE
        else:
            available = max(0, summary.balance) // price
        return Usage(consumed=summary.generations_month, available=available, plan=tenant.plan)

    @staticmethod
    def profile(tenant: ApiKey) -> dict[str, Any]:
        return {
            "id": tenant.id,
            "name": tenant.name,
            "key_prefix": tenant.prefix,
            "channels": [c.value for c in tenant.channels],
            "credits": tenant.credits,
            "unlimited": tenant.credits is None,
            "plan": tenant.plan,
            "created_at": tenant.created_at.isoformat().replace("+00:00", "Z"),
        }
