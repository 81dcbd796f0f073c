"""Registering the real upstream providers: what the composition root calls once.

Kept out of ``gateway.py`` so adding an upstream kind is one new provider module plus one line
here. All of them share one upstream HTTP client (``providers/http.py``); the web provider
persists rotated cookies through the account store, and the listing providers ask the pool
store which generations are already some task's.
"""

from __future__ import annotations

from lumagate.domain.clock import utcnow
from lumagate.media.store import MediaStore
from lumagate.providers.http import UpstreamHttp
from lumagate.providers.luma_official import LumaOfficialProvider
from lumagate.providers.luma_web import LumaWebProvider
from lumagate.providers.registry import ProviderRegistry
from lumagate.providers.relay import RelayProvider
from lumagate.providers.web_session import SessionJars
from lumagate.settings import Settings
from lumagate.store.accounts import AccountStore
from lumagate.store.pool import PoolStore

UPSTREAM_KINDS = (LumaOfficialProvider.kind, LumaWebProvider.kind, RelayProvider.kind)


def register_upstreams(
    registry: ProviderRegistry,
    http: UpstreamHttp,
    media: MediaStore,
    accounts: AccountStore,
    pool: PoolStore,
    settings: Settings,
) -> None:

    async def persist(account_id: str, credentials: dict[str, str]) -> None:
        await accounts.update_credentials(account_id, credentials, utcnow())

    registry.register(
        LumaOfficialProvider(
            http,
            media,
            public_base_url=settings.resolved_public_url(),
            taken=pool.upstream_ids_taken,
            callbacks=settings.upstream_callbacks,
            callback_poll_seconds=settings.upstream_callback_poll_seconds,
        )
    )
    registry.register(
        LumaWebProvider(http, media, SessionJars(persist), taken=pool.upstream_ids_taken)
    )
    registry.register(RelayProvider(http, media))
