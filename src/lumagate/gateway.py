"""The composition root: builds stores, providers, services and the engine from settings.

Both the server and the CLI commands use it, so a key created by ``lumagate keys create`` and
a task created over HTTP go through exactly the same code.
"""

from __future__ import annotations

import fcntl
import logging
import os
from pathlib import Path
from typing import IO

import httpx

from lumagate.domain.clock import utcnow
from lumagate.engine.context import EngineContext
from lumagate.engine.events import TaskEvents
from lumagate.engine.runtime import Engine, new_replica_id
from lumagate.engine.signals import EngineSignals
from lumagate.media.store import MediaStore
from lumagate.providers.registry import ProviderRegistry
from lumagate.providers.sandbox.provider import SandboxProvider
from lumagate.security.crypto import load_secret_box
from lumagate.service.auth import Authenticator
from lumagate.service.tasks import TaskService
from lumagate.service.usage import UsageService
from lumagate.settings import Settings
from lumagate.store import migrate
from lumagate.store.accounts import AccountStore
from lumagate.store.database import Database
from lumagate.store.keys import KeyStore
from lumagate.store.tasks import TaskStore

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
                providers=self.providers,
                signals=self.signals,
                events=self.events,
                replica_id=new_replica_id(),
                single_node=self.db.is_sqlite,
            )
        )
        self.sandbox.listener = self.engine.refresher.poke
        self.authenticator = Authenticator(self.keys)
        self.task_service = TaskService(
            self.tasks,
            self.accounts,
            self.media,
            default_model=settings.default_model,
            max_image_bytes=settings.max_image_bytes,
            on_queued=self.engine.task_queued,
        )
        self.usage = UsageService(self.db)
        self._lock_file: IO[str] | None = None

    async def prepare(self) -> None:
        """Apply migrations; the CLI's admin commands need no more than this."""
        await migrate.upgrade(self.db)

    async def start(self) -> None:
        """Prepare, claim the data dir (SQLite is single-node), and start the engine."""
        await self.prepare()
        if self.db.is_sqlite:
            self._lock_data_dir()
        if self.settings.sandbox_enabled:
            await self.accounts.ensure_sandbox(utcnow(), self.settings.sandbox_concurrency)
        await self.engine.start()

    async def stop(self) -> None:
        await self.engine.stop()
        await self.providers.close()
        await self.http.aclose()
        await self.db.dispose()
        if self._lock_file is not None:
            self._lock_file.close()
            self._lock_file = None

    async def close(self) -> None:
        """Release what :meth:`prepare` opened (CLI commands)."""
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
