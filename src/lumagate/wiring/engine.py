"""The engine part of the composition root: providers, the engine loops and their listeners.

Only ``lumagate serve`` (and tests that run tasks) build this part: it opens the upstream HTTP
client, registers the sandbox and the real upstream providers, and adds the upkeep, callback
sender and catch-up loops beside the engine's own. The services it needs come in built.
"""

from __future__ import annotations

from dataclasses import dataclass

from lumagate.engine.callback_sender import CallbackSender
from lumagate.engine.catch_up import CatchUp
from lumagate.engine.context import EngineContext
from lumagate.engine.events import TaskEvents
from lumagate.engine.hooks import UpstreamHooks
from lumagate.engine.mirror_copy import MirrorCopier
from lumagate.engine.mirroring import MirrorFetchers, MirrorWorker
from lumagate.engine.partial_files import PartialFileSweep
from lumagate.engine.poll_lease import PollLease
from lumagate.engine.retention import MediaRetention
from lumagate.engine.runtime import Engine, new_replica_id
from lumagate.engine.signals import EngineSignals
from lumagate.engine.task_ends import DeadlineKeeper, UpstreamCancels
from lumagate.engine.upkeep import Upkeep
from lumagate.media.store import MediaStore
from lumagate.providers.http import UpstreamHttp, new_upstream_client
from lumagate.providers.registry import ProviderRegistry
from lumagate.providers.sandbox.jobs import RenderLease
from lumagate.providers.sandbox.provider import SandboxProvider
from lumagate.providers.setup import register_upstreams
from lumagate.settings import Settings
from lumagate.store.engine_leases import EngineLeases
from lumagate.wiring.observability import Observability
from lumagate.wiring.services import Services
from lumagate.wiring.stores import Stores


@dataclass(frozen=True)
class EngineParts:
    """The engine and what it owns: providers, the upstream HTTP client, the hook receiver."""

    engine: Engine
    providers: ProviderRegistry
    sandbox: SandboxProvider
    upstream_http: UpstreamHttp
    callback_sender: CallbackSender
    upstream_hooks: UpstreamHooks
    mirror_fetchers: MirrorFetchers

    async def close(self) -> None:
        """Release what the parts opened (after the engine stopped, or was never started)."""
        await self.callback_sender.close()
        await self.mirror_fetchers.aclose()
        await self.providers.close()
        await self.upstream_http.client.aclose()


def build_engine(
    stores: Stores,
    services: Services,
    *,
    media: MediaStore,
    signals: EngineSignals,
    events: TaskEvents,
    callback_sender: CallbackSender,
    observability: Observability,
) -> EngineParts:
    settings = stores.settings
    providers = ProviderRegistry()
    providers.wrap_calls(observability.metered)  # the engine's upstream calls, timed
    replica_id = new_replica_id()
    sandbox = _sandbox(stores, media, replica_id)
    providers.register(sandbox)
    engine = Engine(
        EngineContext(
            settings=settings,
            tasks=stores.tasks,
            accounts=stores.accounts,
            pool=stores.pool,
            transactions=stores.transactions,
            providers=providers,
            signals=signals,
            events=events,
            replica_id=replica_id,
            single_node=stores.db.is_sqlite,
            mirrors=stores.mirrors,
        ),
        _poll_lease(stores, replica_id),
    )
    sandbox.listener = engine.refresher.poke
    upstream_http = _upstreams(stores, providers, media)
    _add_loops_and_listeners(engine, services, events, callback_sender, observability)
    _add_retention(engine, stores, media)
    if media.local is not None:  # object storage leaves no partial files
        engine.add_loop("partial-files", PartialFileSweep(media.local).run)
    fetchers = _add_mirroring(engine, stores, media, settings)
    return EngineParts(
        engine=engine,
        providers=providers,
        sandbox=sandbox,
        upstream_http=upstream_http,
        callback_sender=callback_sender,
        upstream_hooks=UpstreamHooks(engine.ctx, engine.refresher),
        mirror_fetchers=fetchers,
    )


def _poll_lease(stores: Stores, replica_id: str) -> PollLease | None:
    """Replicas share one database: only the holder of this lease polls (engine/poll_lease.py).
    SQLite needs none: one engine runs per data directory."""
    if stores.db.is_sqlite:
        return None
    return PollLease(EngineLeases(stores.db), replica_id, stores.settings.lease_seconds)


def _sandbox(stores: Stores, media: MediaStore, replica_id: str) -> SandboxProvider:
    """The sandbox, its render jobs in the shared database under this replica's leases."""
    settings = stores.settings
    return SandboxProvider(
        settings.data_dir / "sandbox",
        media,
        concurrency=settings.sandbox_concurrency,
        fps=settings.sandbox_fps,
        fail_marker=settings.sandbox_fail_marker,
        jobs=stores.render_jobs,
        lease=RenderLease(replica_id, settings.lease_seconds, single_node=stores.db.is_sqlite),
    )


def _upstreams(stores: Stores, providers: ProviderRegistry, media: MediaStore) -> UpstreamHttp:
    """The upstream HTTP client, and the real upstream providers registered over it."""
    settings = stores.settings
    upstream_http = UpstreamHttp(
        new_upstream_client(settings.upstream_timeout_seconds),
        attempts=settings.upstream_get_attempts,
    )
    register_upstreams(
        providers,
        upstream_http,
        media,
        settings,
        taken=stores.pool.upstream_ids_taken,
        save_credentials=stores.accounts.save_rotated_credentials,
    )
    return upstream_http


def _add_mirroring(
    engine: Engine, stores: Stores, media: MediaStore, settings: Settings
) -> MirrorFetchers:
    """The copier that keeps finished upstream videos, run as the engine's ``mirror`` loop."""
    fetchers = MirrorFetchers(settings)
    copier = MirrorCopier(engine.ctx, stores.mirrors, media, fetchers.for_account)
    worker = MirrorWorker(engine.ctx, stores.mirrors, copier)
    engine.ctx.mirror_starter = worker  # a job stored here starts at once (engine/mirror_hold.py)
    engine.add_loop("mirror", worker.run)
    return fetchers


def _add_retention(engine: Engine, stores: Stores, media: MediaStore) -> None:
    """The media retention sweep, when ``LUMAGATE_MEDIA_RETENTION_DAYS`` is set."""
    settings = stores.settings
    if settings.media_retention_days is None:
        return
    retention = MediaRetention(stores.media_retention, media, settings.media_retention_days)
    period = settings.media_retention_sweep_seconds
    engine.add_loop("media-retention", lambda: retention.run(period))


def _add_loops_and_listeners(
    engine: Engine,
    services: Services,
    events: TaskEvents,
    callback_sender: CallbackSender,
    observability: Observability,
) -> None:
    """Upkeep, callback sender and catch-up beside the engine's loops; the task listeners."""
    engine.add_loop("upkeep", Upkeep(engine.ctx).run)
    engine.add_loop("deadlines", DeadlineKeeper(engine.ctx).run)
    engine.add_loop("upstream-cancels", UpstreamCancels(engine.ctx).run)
    events.add_listener(services.billing.on_task_changed)
    events.add_listener(services.callbacks.on_task_changed)
    events.add_listener(observability.metrics.on_task_changed)
    catch_up = CatchUp(
        [
            ("refunds", services.billing.refund_missed),
            ("callbacks", services.callbacks.record_missed),
        ]
    )
    engine.add_loop("callback-sender", callback_sender.run)
    engine.add_loop("catch-up", catch_up.run)
