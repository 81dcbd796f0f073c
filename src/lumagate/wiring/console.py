"""The operator console's part of the composition root: its services, from the gateway's parts.

The console acts through the same :class:`AdminService` as ``/admin``, the shared task service
(the playground) and the operator insights; testing credentials needs the engine's providers,
so it is built here, where both are known.
"""

from __future__ import annotations

from lumagate.api.console import ConsoleServices
from lumagate.domain.accounts import AccountHandle
from lumagate.gateway import Gateway
from lumagate.providers.base import ProviderError
from lumagate.providers.capabilities import Maintained
from lumagate.providers.registry import ProviderRegistry, UnknownProviderKind
from lumagate.service.account_checks import CredentialCheck, CredentialProbe, CredentialTester


def maintain_probe(providers: ProviderRegistry) -> CredentialProbe:
    """A credential check by the provider's ``maintain`` (kinds without one are untestable)."""

    async def probe(account: AccountHandle) -> CredentialCheck:
        try:
            provider = providers.get(account.kind)
        except UnknownProviderKind:
            return CredentialCheck(False, "untestable", untestable=True)
        if not isinstance(provider, Maintained):
            return CredentialCheck(False, "untestable", untestable=True)
        try:
            learned = await provider.maintain(account)
        except ProviderError as exc:
            return CredentialCheck(False, exc.message)
        return CredentialCheck(True, "ok", settings=dict(learned))

    return probe


def console_services(gateway: Gateway) -> ConsoleServices:
    services, stores = gateway.services, gateway.stores
    return ConsoleServices(
        admin=services.admin,
        insights=services.insights,
        tasks=services.tasks,
        checks=CredentialTester(
            stores.accounts, stores.pool, maintain_probe(gateway.engine.providers)
        ),
    )
