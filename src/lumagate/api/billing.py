"""one-api / new-api billing endpoints (CONTRACT §4, seed 002 "查询令牌用量/限额").

Dashboards (NextChat and the like) ask ``/v1/dashboard/billing/subscription`` for the key's
limit and ``/v1/dashboard/billing/usage`` for what it used, both in US dollars (usage in cents).
The numbers come from the caller's credits and the credit ledger
(:class:`lumagate.service.billing.BillingService`), converted with the ``credit_usd`` setting
(default 0.01: 100 credits = 1 USD):

- ``hard_limit_usd`` (= ``soft_limit_usd`` = ``system_hard_limit_usd``) is what the key can
  spend in total: available credits plus everything spent so far, as one-api reports it, so
  ``hard_limit_usd - total_usage/100`` over all time is the balance.
- ``total_usage`` is credits spent (charges less refunds) in ``[start_date, end_date)``, as
  USD x 100. Dates are ``YYYY-MM-DD`` (UTC); either may be omitted.
- A key without a credit limit reports ``UNLIMITED_AVAILABLE`` available credits.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Depends, FastAPI, Request

from lumagate.api.deps import Billing, bearer_tenant
from lumagate.api.dialect_common import documented_route
from lumagate.api.routers import add_routes, app_router
from lumagate.domain import messages as msg
from lumagate.domain.clock import unix_seconds
from lumagate.domain.errors import InvalidRequest
from lumagate.domain.tenant import ApiKey
from lumagate.service.spend import available_credits

TAG = "Billing (/v1/dashboard/billing)"


def _date(request: Request, name: str) -> datetime | None:
    raw = request.query_params.get(name)
    if raw is None or not raw.strip():
        return None
    try:
        return datetime.strptime(raw.strip(), "%Y-%m-%d").replace(tzinfo=UTC)
    except ValueError:
        raise InvalidRequest(msg.DATE_FORMAT(field=name), field=name) from None


async def subscription(billing: Billing, tenant: ApiKey = Depends(bearer_tenant)) -> Any:
    summary = await billing.summary(tenant)
    limit_usd = summary.usd(available_credits(tenant) + max(0, summary.spent_total))
    return {
        "object": "billing_subscription",
        "has_payment_method": True,
        "soft_limit_usd": limit_usd,
        "hard_limit_usd": limit_usd,
        "system_hard_limit_usd": limit_usd,
        "access_until": unix_seconds(tenant.expires_at),
    }


async def usage(request: Request, billing: Billing, tenant: ApiKey = Depends(bearer_tenant)) -> Any:
    since, until = _date(request, "start_date"), _date(request, "end_date")
    if since is not None and until is not None and until < since:
        raise InvalidRequest(msg.END_BEFORE_START(), field="end_date")
    spent = max(0, await billing.spent_between(tenant, since, until))
    return {"object": "list", "total_usage": round(spent * billing.credit_usd * 100, 4)}


def build_router(app: FastAPI) -> APIRouter:
    """Under ``/v1`` (documented) and, as one-api also serves them, without it."""
    router = app_router(app, tags=[TAG])
    subscription_example = {
        "object": "billing_subscription",
        "has_payment_method": True,
        "soft_limit_usd": 20.0,
        "hard_limit_usd": 20.0,
        "system_hard_limit_usd": 20.0,
        "access_until": 0,
    }
    for prefix in ("/v1", ""):
        documented_route(
            router,
            f"{prefix}/dashboard/billing/subscription",
            subscription,
            "GET",
            "The key's spending limit in USD",
            subscription_example,
            include_in_schema=bool(prefix),
        )
        documented_route(
            router,
            f"{prefix}/dashboard/billing/usage",
            usage,
            "GET",
            "USD cents spent in [start_date, end_date)",
            {"object": "list", "total_usage": 350.0},
            include_in_schema=bool(prefix),
        )
    return router


def install(app: FastAPI) -> None:
    # Errors use the default OpenAI shape ({"error": {message, type, code}}).
    add_routes(app, build_router(app))
