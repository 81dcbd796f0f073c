"""The service part of the composition root: what the HTTP API (and the engine's listeners) use.

Each service is built once here and handed to the app factory, which binds them for the
routes' FastAPI dependencies (``lumagate.api.deps``). The services reach the engine only
through plain callables and protocols given here (wake the dispatcher, the sender, task
updates), so nothing in ``service/`` imports the engine.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta

import httpx

from lumagate.domain.task import Task
from lumagate.media.store import MediaStore
from lumagate.service.account_admin import AccountAdmin
from lumagate.service.admin import AdminService, AdminStores
from lumagate.service.auth import Authenticator
from lumagate.service.billing import BillingService, price_table
from lumagate.service.callbacks import CallbackRecorder
from lumagate.service.cancels import TaskCancels
from lumagate.service.deliverability import Deliverability
from lumagate.service.insights import InsightsService
from lumagate.service.keys import KeyAdmin
from lumagate.service.rate_limits import RateLimitReader
from lumagate.service.task_bodies import TaskBodies, TaskRenderer
from lumagate.service.tasks import TaskService
from lumagate.service.usage import UsageService
from lumagate.service.video_content import VideoContentService
from lumagate.service.watch import TaskUpdates, TaskWatcher
from lumagate.settings import Settings
from lumagate.store.hot_write import HotWrites
from lumagate.wiring.operator import account_admin
from lumagate.wiring.stores import Stores


@dataclass(frozen=True)
class Services:
    """One instance of each service, as the API and the engine's listeners use them."""

    settings: Settings
    media: MediaStore
    authenticator: Authenticator
    tasks: TaskService
    keys: KeyAdmin
    billing: BillingService
    usage: UsageService
    bodies: TaskBodies
    callbacks: CallbackRecorder
    accounts: AccountAdmin
    admin: AdminService
    insights: InsightsService
    video_content: VideoContentService
    watcher: TaskWatcher
    rate_limits: RateLimitReader


@dataclass(frozen=True)
class EngineHooks:
    """How services reach the engine without importing it."""

    wake_dispatcher: Callable[[], None]
    callback_created: Callable[[], None]
    updates: TaskUpdates
    task_created: Callable[[Task], None] | None = None  # metrics and log context
    task_ended: Callable[[Task], Awaitable[None]] | None = None  # a cancel: refund, callback
    wake_upstream_cancels: Callable[[], None] | None = None
    task_queued: Callable[[Task], None] | None = None  # a create's (gated) dispatcher wake-up


def _deliverability(stores: Stores) -> Deliverability:
    settings = stores.settings
    return Deliverability(
        stores.accounts,
        degrade=settings.degrade_to_deliverable,
        sandbox_always=settings.sandbox_always,
    )


def _billing(stores: Stores) -> BillingService:
    settings = stores.settings
    return BillingService(
        stores.ledger,
        price_table(settings),
        default_model=settings.default_model,
        credit_usd=settings.credit_usd,
        running_retry_after=settings.running_limit_retry_after_seconds,
    )


def _task_service(
    stores: Stores,
    media: MediaStore,
    hooks: EngineHooks,
    billing: BillingService,
    cancels: TaskCancels,
) -> TaskService:
    settings = stores.settings
    return TaskService(
        stores.tasks,
        stores.accounts,
        media,
        default_model=settings.default_model,
        max_image_bytes=settings.max_image_bytes,
        transactions=stores.transactions,
        on_queued=hooks.task_queued or (lambda _task: hooks.wake_dispatcher()),
        admission=billing,
        on_created=hooks.task_created,
        deliverability=_deliverability(stores),
        cancels=cancels,
        default_deadline_minutes=settings.task_deadline_minutes,
        hot_writes=HotWrites(stores.db, stores.transactions),  # the create on the raw driver
    )


def build_services(
    stores: Stores,
    *,
    keys: KeyAdmin,
    media: MediaStore,
    http: httpx.AsyncClient,
    hooks: EngineHooks,
    renderers: Mapping[str, TaskRenderer],
) -> Services:
    settings = stores.settings
    billing = _billing(stores)
    cancels = TaskCancels(
        stores.tasks, on_ended=hooks.task_ended, on_upstream_cancel=hooks.wake_upstream_cancels
    )
    tasks = _task_service(stores, media, hooks, billing, cancels)
    bodies = TaskBodies(renderers, tasks)
    callbacks = CallbackRecorder(
        stores.deliveries,
        tasks,
        bodies,
        max_age=timedelta(seconds=settings.callback_max_age_seconds),
        on_created=hooks.callback_created,
    )
    accounts = account_admin(stores, hooks.wake_dispatcher)
    admin_stores = AdminStores(
        db=stores.db, keys=stores.keys, ledger=stores.ledger, tasks=stores.tasks
    )
    return Services(
        settings=settings,
        media=media,
        authenticator=Authenticator(stores.keys),
        tasks=tasks,
        keys=keys,
        billing=billing,
        usage=UsageService(billing),
        bodies=bodies,
        callbacks=callbacks,
        accounts=accounts,
        admin=AdminService(admin_stores, keys, accounts, bodies, callbacks, cancels),
        insights=InsightsService(stores.insights, stores.accounts, stores.pool),
        video_content=VideoContentService(tasks, http),
        watcher=TaskWatcher(tasks, hooks.updates),
        rate_limits=RateLimitReader(stores.tasks),
    )
