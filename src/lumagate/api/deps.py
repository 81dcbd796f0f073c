"""Request-scoped access to the gateway and the calling tenant."""

from __future__ import annotations

from fastapi import Request

from lumagate.domain.tenant import ApiKey
from lumagate.gateway import Gateway
from lumagate.security.keys import parse_bearer


def gateway_of(request: Request) -> Gateway:
    gateway: Gateway = request.app.state.gateway
    return gateway


async def bearer_tenant(request: Request) -> ApiKey:
    """The tenant of ``Authorization: Bearer <key>`` (401 in the dialect's shape otherwise)."""
    gateway = gateway_of(request)
    return await gateway.authenticator.tenant(parse_bearer(request.headers.get("authorization")))


async def bearer_or_secret_key_tenant(request: Request) -> ApiKey:
    """Bearer, or the luma-mock dialect's ``Secret-Key`` header."""
    gateway = gateway_of(request)
    presented = parse_bearer(request.headers.get("authorization")) or request.headers.get(
        "secret-key"
    )
    return await gateway.authenticator.tenant(presented)
