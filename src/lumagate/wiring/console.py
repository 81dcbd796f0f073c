"""The operator console's part of the composition root: its services, from the gateway's parts.

The console acts through the same :class:`AdminService` as ``/admin``, the shared task service
(the playground) and the operator insights; testing credentials needs the engine's providers,
so it is built here, where both are known.
"""

from __future__ import annotations

from lumagate.api.console import ConsoleServices
from lumagate.gateway import Gateway
from lumagate.service.account_checks import CredentialTester


def console_services(gateway: Gateway) -> ConsoleServices:
    services, stores = gateway.services, gateway.stores
    return ConsoleServices(
        admin=services.admin,
        insights=services.insights,
        tasks=services.tasks,
        checks=CredentialTester(stores.accounts, stores.pool, gateway.engine.providers),
    )
