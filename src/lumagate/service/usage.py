"""Usage of a tenant in the luma-web ``subscription/usage`` shape, and the caller's profile.

``consumed`` counts this month's generations that did not fail. ``available`` is the key's
remaining credits when the key has a credit limit; a key without a limit reports
``UNLIMITED_AVAILABLE`` (documented in docs/architecture.md) because clients expect a number.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from lumagate.domain.clock import utcnow
from lumagate.store.database import Database
from lumagate.store.keys import ApiKey
from lumagate.store.tasks import count_generations

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
    def __init__(self, db: Database) -> None:
        self.db = db

    async def usage(self, tenant: ApiKey) -> Usage:
        month_start = utcnow().replace(day=1, hour=0, minute=0, second=0, microsecond=0)
        consumed = await count_generations(self.db, tenant.id, month_start)
        available = UNLIMITED_AVAILABLE if tenant.credits is None else max(0, tenant.credits)
        return Usage(consumed=consumed, available=available, plan=tenant.plan)

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
