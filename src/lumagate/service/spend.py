"""Money views of a tenant's credits, for the dialects that speak dollars or cents.

Credits are integers. The OpenAI-style billing endpoints speak USD and Luma's ``/credits``
speaks USD cents, so both need one conversion: the ``credit_usd`` setting (default 0.01, i.e.
100 credits make one dollar and one credit is one cent). A key without a credit limit reports
``UNLIMITED_AVAILABLE`` (999999) credits, the sentinel ``subscription/usage`` also uses, because
clients expect a number.

What a tenant spent is :class:`lumagate.service.billing.BillingService`'s to say (the ledger).
"""

from __future__ import annotations

from lumagate.domain.tenant import ApiKey
from lumagate.service.usage import UNLIMITED_AVAILABLE
from lumagate.settings import Settings


def available_credits(tenant: ApiKey) -> int:
    return UNLIMITED_AVAILABLE if tenant.credits is None else max(0, tenant.credits)


def credit_balance_cents(tenant: ApiKey, settings: Settings) -> float:
    """Luma's ``credit_balance``: the key's available credits in USD cents."""
    return round(available_credits(tenant) * settings.credit_usd * 100.0, 4)
