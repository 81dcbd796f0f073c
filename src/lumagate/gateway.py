"""The composition root of the server: stores, services and the engine, wired once.

The parts are built by :mod:`lumagate.wiring` (``stores``, ``services``, ``engine``); this
class only orders them and owns their lifecycle (migrate, lock the data dir, start and stop
the engine, close clients). The app factory (``lumagate.api.app``) binds ``services`` for the
routes; the CLI does not use this class at all, it builds only the part a command needs.

The callback body renderers of the dialects are given here, not registered globally, so a
gateway built without the HTTP app sends exactly the bodies the app's dialects show.
"""

from __future__ import annotations

import fcntl
import logging
from collections.abc import Mapping
from pathlib import Path
from typing import IO

import httpx

from lumagate.domain.clock import utcnow
from lumagate.engine.callback_sender import CallbackPolicy, CallbackSender
from lumagate.engine.events import TaskEvents
from lumagate.engine.signals import EngineSignals
from lumagate.media.file_modes import private_file
from lumagate.media.store import DEFAULT_PRESIGN_SECONDS, MediaStore
from lumagate.security.admin_key import AdminKey, load_or_create_admin_key
from lumagate.security.guarded_fetch import GuardedFetcher
from lumagate.security.link_signing import LinkSigner
from lumagate.security.ssrf import SsrfGuard
from lumagate.security.tls import client_tls
from lumagate.service.task_bodies import TaskRenderer
from lumagate.settings import Settings
from lumagate.wiring.engine import EngineParts, build_engine
from lumagate.wiring.media import media_backend
from lumagate.wiring.observability import build_observability
from lumagate.wiring.operator import key_admin
from lumagate.wiring.services import EngineHooks, Services, build_services
from lumagate.wiring.stores import Stores, open_stores

log = logging.getLogger(__name__)


class DataDirInUse(RuntimeError):
    pass


class ReplicaSecretsMissing(RuntimeError):
    """A PostgreSQL replica without the shared secret and admin keys (docs/replicas.md)."""


def dialect_renderers() -> dict[str, TaskRenderer]:
    """Each dialect's task body, keyed by the name it stores in ``Task.dialect``."""
    from lumagate.api import luma_mock, newapi_video, official, openai_videos, reseller
    from lumagate.api.luma_shapes import flat_generation

    return {
        reseller.DIALECT: flat_generation,
        official.DIALECT: official.callback_body,
        luma_mock.DIALECT: luma_mock.callback_body,
        newapi_video.DIALECT: newapi_video.callback_body,
        openai_videos.DIALECT: openai_videos.callback_body,
    }


def media_store(settings: Settings, stores: Stores, fetcher: GuardedFetcher) -> MediaStore:
    """The media store on the configured backend, its links signed when they expire."""
    signer = (
        None
        if settings.media_url_ttl_seconds is None
        else LinkSigner(stores.box.derive("media-links"), settings.media_url_ttl_seconds)
    )
    return MediaStore(
        media_backend(settings),
        settings.resolved_public_url(),
        fetcher,
        signer,
        serve_by_redirect=settings.media_serve == "redirect",
        presign_seconds=settings.media_url_ttl_seconds or DEFAULT_PRESIGN_SECONDS,
    )


class Gateway:
    """One lumagate server process: ``stores``, ``services`` and ``engine`` parts."""

    def __init__(
        self, settings: Settings, *, renderers: Mapping[str, TaskRenderer] | None = None
    ) -> None:
        self.settings = settings
        self.stores: Stores = open_stores(settings)
        self.observability = build_observability(self.stores)
        self.http = httpx.AsyncClient(
            timeout=httpx.Timeout(30.0), verify=client_tls(trust_env=True)
        )
        self.fetcher = GuardedFetcher(  # every tenant URL: the callbacks' SSRF rules and allow-list
            SsrfGuard(settings.callback_allow),
            max_bytes=settings.max_image_bytes,
            timeout=settings.image_fetch_timeout_seconds,
        )
        media = media_store(settings, self.stores, self.fetcher)
        signals, events = EngineSignals(), TaskEvents()
        keys = key_admin(self.stores)
        sender = CallbackSender(
            self.stores.deliveries,
            keys.webhook_secret,
            SsrfGuard(settings.callback_allow),
            CallbackPolicy.from_settings(settings),
        )
        self.services: Services = build_services(
            self.stores,
            keys=keys,
            media=media,
            http=self.http,
            hooks=EngineHooks(
                wake_dispatcher=signals.dispatch.set,
                callback_created=sender.poke,
                updates=events,
                task_created=self.observability.task_created,
                task_ended=events.publish,
                wake_upstream_cancels=signals.cancel.set,
                task_queued=signals.task_queued,
            ),
            renderers=dialect_renderers() if renderers is None else renderers,
        )
        self.engine: EngineParts = build_engine(
            self.stores,
            self.services,
            media=media,
            signals=signals,
            events=events,
            callback_sender=sender,
            observability=self.observability,
        )
        self._admin_key: AdminKey | None = None
        self._lock_file: IO[str] | None = None

    @property
    def admin_key(self) -> AdminKey:
        """The /admin API key (``LUMAGATE_ADMIN_KEY`` or ``<data dir>/admin.key``)."""
        if self._admin_key is None:
            self._admin_key, path = load_or_create_admin_key(
                self.settings.data_dir, self.settings.admin_key
            )
            if path is not None:
                log.info("admin API key is in %s", path)
        return self._admin_key

    async def prepare(self) -> None:
        """Apply migrations: what serving without the engine needs."""
        await self.stores.prepare()

    async def start(self) -> None:
        """Prepare, claim the data dir (SQLite is single-node), and start the engine."""
        problem = self.settings.replica_secrets_problem()
        if problem is not None:
            raise ReplicaSecretsMissing(problem)
        await self.prepare()
        if self.stores.db.is_sqlite:
            self._lock_data_dir()
        elif not self.settings.public_url:
            log.warning(
                "LUMAGATE_PUBLIC_URL is not set: links name this replica (%s), which other "
                "replicas' clients and upstreams may not reach; set it to the load balancer "
                "(docs/replicas.md)",
                self.settings.resolved_public_url(),
            )
        _ = self.admin_key  # created on the first start
        if self.settings.sandbox_enabled:
            await self.stores.accounts.ensure_sandbox(utcnow(), self.settings.sandbox_concurrency)
        await self.engine.engine.start()

    async def stop(self) -> None:
        """Stop the engine (a no-op if it never started) and release everything."""
        await self.engine.engine.stop()
        await self.close()

    async def close(self) -> None:
        await self.engine.close()
        await self.http.aclose()
        await self.fetcher.aclose()
        await self.stores.close()
        if self._lock_file is not None:
            self._lock_file.close()
            self._lock_file = None

    def _lock_data_dir(self) -> None:
        path: Path = self.settings.data_dir / "lumagate.lock"
        handle = private_file(path).open("a")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            raise DataDirInUse(
                f"another lumagate server is using {self.settings.data_dir}; with SQLite only "
                "one server may run per data directory (use PostgreSQL for several replicas)"
            ) from None
        self._lock_file = handle
