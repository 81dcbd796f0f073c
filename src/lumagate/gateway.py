"""The composition root: builds stores, providers, services and the engine from settings.

Both the server and the CLI commands use it, so a key created by ``lumagate keys create`` and
a task created over HTTP go through exactly the same code.
"""

from __future__ import annotations

import fcntl
import logging
import os
from datetime import timedelta
from pathlib import Path
from typing import IO

import httpx

from lumagate.domain.clock import utcnow
from lumagate.engine.callback_sender import CallbackPolicy, CallbackSender
from lumagate.engine.catch_up import CatchUp
from lumagate.engine.context import EngineContext
from lumagate.engine.events import TaskEvents
from lumagate.engine.hooks import UpstreamHooks
from lumagate.engine.runtime import Engine, new_replica_id
from lumagate.engine.signals import EngineSignals
from lumagate.engine.upkeep import Upkeep
from lumagate.media.store import MediaStore
from lumagate.providers.http import UpstreamHttp, new_upstream_client
from lumagate.providers.registry import ProviderRegistry
from lumagate.providers.sandbox.provider import SandboxProvider
from lumagate.providers.setup import register_upstreams
from lumagate.security.admin_key import AdminKey, load_or_create_admin_key
from lumagate.security.crypto import load_secret_box
from lumagate.security.ssrf import SsrfGuard
from lumagate.service.auth import Authenticator
from lumagate.service.billing import BillingService, price_table
from lumagate.service.callbacks import CallbackRecorder
from lumagate.service.keys import KeyAdmin
from lumagate.service.tasks import TaskService
from lumagate.service.usage import UsageService
from lumagate.settings import Settings
from lumagate.store import migrate
from lumagate.store.accounts import AccountStore
from lumagate.store.database import Database
from lumagate.store.deliveries import DeliveryStore
from lumagate.store.keys import KeyStore
from lumagate.store.ledger import LedgerStore
from lumagate.store.pool import PoolStore
from lumagate.store.tasks import TaskStore
from lumagate.store.unit_of_work import Transactions

log = logging.getLogger(__name__)


class DataDirInUse(RuntimeError):
    pass


class Gateway:
    """Everything one lumagate process needs, wired once."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        self.db = Database(settings.resolved_database_url)
        self.box = load_secret_box(settings.data_dir, os.environ.get("LUMAGATE_SECRET_KEY"))
        self.http = httpx.AsyncClient(timeout=httpx.Timeout(30.0))
        self.media = MediaStore(settings.media_dir, settings.resolved_public_url(), self.http)
        self.tasks = TaskStore(self.db)
        self.keys = KeyStore(self.db)
        self.accounts = AccountStore(self.db, self.box)
        self.events = TaskEvents()
        self.signals = EngineSignals()
        self.providers = ProviderRegistry()
        self.sandbox = SandboxProvider(
            settings.data_dir / "sandbox",
            self.media,
            concurrency=settings.sandbox_concurrency,
            fail_marker=settings.sandbox_fail_marker,
        )
        self.providers.register(self.sandbox)
        self.engine = Engine(
            EngineContext(
                settings=settings,
                tasks=self.tasks,
                accounts=self.accounts,
                pool=PoolStore(self.db),
                transactions=Transactions(self.db),
                providers=self.providers,
                signals=self.signals,
                events=self.events,
                replica_id=new_replica_id(),
                single_node=self.db.is_sqlite,
            )
        )
        self.sandbox.listener = self.engine.refresher.poke
        self._wire_upstreams(settings)
        self.authenticator = Authenticator(self.keys)
        self.ledger = LedgerStore(self.db)
        self.billing = BillingService(
            self.ledger,
            price_table(settings),
            default_model=settings.default_model,
            credit_usd=settings.credit_usd,
            running_retry_after=settings.running_limit_retry_after_seconds,
        )
        self.key_admin = KeyAdmin(self.keys, self.ledger, self.box)
        self.task_service = TaskService(
            self.tasks,
            self.accounts,
            self.media,
            default_model=settings.default_model,
            max_image_bytes=settings.max_image_bytes,
            transactions=self.engine.ctx.transactions,
            on_queued=self.engine.task_queued,
            admission=self.billing,
        )
        self.usage = UsageService(self.billing)
        self._wire_callbacks(settings)
        self._admin_key: AdminKey | None = None
        self._lock_file: IO[str] | None = None

    def _wire_upstreams(self, settings: Settings) -> None:
        """Real upstream providers on one HTTP client, their callback receiver and upkeep loop."""
        self.upstream_http = new_upstream_client(settings.upstream_timeout_seconds)
        register_upstreams(
            self.providers,
            UpstreamHttp(self.upstream_http, attempts=settings.upstream_get_attempts),
            self.media,
            settings,
            taken=self.engine.ctx.pool.upstream_ids_taken,
            save_credentials=self.accounts.save_rotated_credentials,
        )
        self.upstream_hooks = UpstreamHooks(self.engine.ctx, self.engine.refresher)
        self.engine.add_loop("upkeep", Upkeep(self.engine.ctx).run)

    def _wire_callbacks(self, settings: Settings) -> None:
        """Refunds and callbacks hear task events; the sender and catch-up sweep run as loops."""
        self.deliveries = DeliveryStore(self.db)
        self.callback_sender = CallbackSender(
            self.deliveries,
            self.key_admin.webhook_secret,
            SsrfGuard(settings.callback_allow),
            CallbackPolicy.from_settings(settings),
        )
        self.callbacks = CallbackRecorder(
            self.deliveries,
            self.task_service,
            max_age=timedelta(seconds=settings.callback_max_age_seconds),
            on_created=self.callback_sender.poke,
        )
        self.events.add_listener(self.billing.on_task_changed)
        self.events.add_listener(self.callbacks.on_task_changed)
        self.catch_up = CatchUp(
            [("refunds", self.billing.refund_missed), ("callbacks", self.callbacks.record_missed)]
        )
        self.engine.add_loop("callback-sender", self.callback_sender.run)
        self.engine.add_loop("catch-up", self.catch_up.run)

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
        """Apply migrations; the CLI's admin commands need no more than this."""
        await migrate.upgrade(self.db)

    async def start(self) -> None:
        """Prepare, claim the data dir (SQLite is single-node), and start the engine."""
        await self.prepare()
        if self.db.is_sqlite:
            self._lock_data_dir()
        _ = self.admin_key  # created on the first start
        if self.settings.sandbox_enabled:
            await self.accounts.ensure_sandbox(utcnow(), self.settings.sandbox_concurrency)
        await self.engine.start()

    async def stop(self) -> None:
        await self.engine.stop()
        await self.callback_sender.close()
        await self.providers.close()
        await self.upstream_http.aclose()
        await self.http.aclose()
        await self.db.dispose()
        if self._lock_file is not None:
            self._lock_file.close()
            self._lock_file = None

    async def close(self) -> None:
        """Release what :meth:`prepare` opened (CLI commands)."""
        await self.upstream_http.aclose()
        await self.callback_sender.close()
        await self.http.aclose()
        await self.db.dispose()

    def _lock_data_dir(self) -> None:
        path: Path = self.settings.data_dir / "lumagate.lock"
        handle = path.open("a")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            raise DataDirInUse(
                f"another lumagate server is using {self.settings.data_dir}; with SQLite only "
                "one server may run per data directory (use PostgreSQL for several replicas)"
            ) from None
        self._lock_file = handle
