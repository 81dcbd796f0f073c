"""Registering the real upstream providers: what the composition root calls once.

Kept out of ``gateway.py`` so adding an upstream kind is one new provider module plus one line
here. All of them share one upstream HTTP client (``providers/http.py``); the web provider
persists rotated cookies through ``save_credentials``, and the listing providers ask ``taken``
which generations are already some task's. Both are the store's, passed in by the composition
root: providers know no store (an import-linter contract holds that).
"""

from __future__ import annotations

from lumagate.media.store import MediaStore
from lumagate.providers.http import UpstreamHttp
from lumagate.providers.listing import TakenLookup
from lumagate.providers.luma_official import LumaOfficialProvider
from lumagate.providers.luma_web import LumaWebProvider
from lumagate.providers.registry import ProviderRegistry
from lumagate.providers.relay import RelayProvider
from lumagate.providers.web_session import CredentialSink, SessionJars
from lumagate.settings import Settings

UPSTREAM_KINDS = (LumaOfficialProvider.kind, LumaWebProvider.kind, RelayProvider.kind)


def register_upstreams(
    registry: ProviderRegistry,
    http: UpstreamHttp,
    media: MediaStore,
    settings: Settings,
    *,
    taken: TakenLookup,
    save_credentials: CredentialSink,
) -> None:
    registry.register(
        LumaOfficialProvider(
            http,
            media,
            public_base_url=settings.resolved_public_url(),
            taken=taken,
            callbacks=settings.upstream_callbacks,
            callback_poll_seconds=settings.upstream_callback_poll_seconds,
        )
    )
    registry.register(LumaWebProvider(http, media, SessionJars(save_credentials), taken=taken))
    registry.register(RelayProvider(http, media))
