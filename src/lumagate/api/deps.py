"""The routes' FastAPI dependencies: the services they use, and the calling tenant.

The app factory binds one :class:`ApiServices` (built by the composition root) on
``app.state.services``; the provider functions below are the only readers of it. A route
declares what it uses by type (``tasks: Tasks``), so its signature says which service it
touches, tests can swap one with ``app.dependency_overrides[task_service]``, and importing a
dialect module loads neither the engine nor the stores' wiring.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any, Protocol

from fastapi import Depends, Request

from lumagate.api.rate_limit_headers import STATE_NAME as RATE_LIMIT_STATE
from lumagate.domain.tenant import ApiKey
from lumagate.media.store import MediaStore
from lumagate.observability import log_context
from lumagate.observability.db_gauges import DatabaseGauges
from lumagate.observability.metrics import GatewayMetrics
from lumagate.security.keys import parse_authorization
from lumagate.service.admin import AdminService
from lumagate.service.auth import Authenticator
from lumagate.service.billing import BillingService
from lumagate.service.callbacks import CallbackRecorder
from lumagate.service.rate_limits import RateLimitReader
from lumagate.service.readiness import ReadinessCheck
from lumagate.service.tasks import TaskService
from lumagate.service.usage import UsageService
from lumagate.service.video_content import VideoContentService
from lumagate.service.watch import TaskWatcher
from lumagate.settings import Settings


class HookReceiver(Protocol):
    """Applies an upstream callback (the engine's ``UpstreamHooks``); False: unknown token."""

    async def receive(self, token: str, payload: Any) -> bool: ...


class AdminKeyCheck(Protocol):
    """Compares a presented admin key in constant time (``security.admin_key.AdminKey``)."""

    def matches(self, presented: str | None) -> bool: ...


@dataclass(frozen=True)
class ApiServices:
    """Everything a route may ask for, bound once per app by the app factory."""

    settings: Settings
    media: MediaStore
    authenticator: Authenticator
    tasks: TaskService
    usage: UsageService
    billing: BillingService
    callbacks: CallbackRecorder
    admin: AdminService
    admin_key: Callable[[], AdminKeyCheck]  # loaded (or created) on first use
    video_content: VideoContentService
    watcher: TaskWatcher
    upstream_hooks: HookReceiver
    metrics: GatewayMetrics
    db_gauges: DatabaseGauges
    readiness: ReadinessCheck
    rate_limits: RateLimitReader


def _services(request: Request) -> ApiServices:
    services: ApiServices = request.app.state.services
    return services


def settings_of(request: Request) -> Settings:
    return _services(request).settings


def task_service(request: Request) -> TaskService:
    return _services(request).tasks


def usage_service(request: Request) -> UsageService:
    return _services(request).usage


def billing_service(request: Request) -> BillingService:
    return _services(request).billing


def callback_log(request: Request) -> CallbackRecorder:
    return _services(request).callbacks


def admin_service(request: Request) -> AdminService:
    return _services(request).admin


def admin_key(request: Request) -> AdminKeyCheck:
    return _services(request).admin_key()


def video_content(request: Request) -> VideoContentService:
    return _services(request).video_content


def task_watcher(request: Request) -> TaskWatcher:
    return _services(request).watcher


def upstream_hooks(request: Request) -> HookReceiver:
    return _services(request).upstream_hooks


def media_store(request: Request) -> MediaStore:
    return _services(request).media


def gateway_metrics(request: Request) -> GatewayMetrics:
    return _services(request).metrics


def database_gauges(request: Request) -> DatabaseGauges:
    return _services(request).db_gauges


def readiness_check(request: Request) -> ReadinessCheck:
    return _services(request).readiness


def max_body(request: Request) -> int:
    """The largest request body a route reads (``LUMAGATE_MAX_BODY_BYTES``)."""
    return settings_of(request).max_body_bytes


SettingsDep = Annotated[Settings, Depends(settings_of)]
Tasks = Annotated[TaskService, Depends(task_service)]
Usage = Annotated[UsageService, Depends(usage_service)]
Billing = Annotated[BillingService, Depends(billing_service)]
Callbacks = Annotated[CallbackRecorder, Depends(callback_log)]
Admin = Annotated[AdminService, Depends(admin_service)]
VideoContent = Annotated[VideoContentService, Depends(video_content)]
Watcher = Annotated[TaskWatcher, Depends(task_watcher)]
Hooks = Annotated[HookReceiver, Depends(upstream_hooks)]
Metrics = Annotated[GatewayMetrics, Depends(gateway_metrics)]
DbGauges = Annotated[DatabaseGauges, Depends(database_gauges)]
Readiness = Annotated[ReadinessCheck, Depends(readiness_check)]


async def bearer_tenant(request: Request) -> ApiKey:
    """The tenant of ``Authorization: Bearer <key>`` or a bare ``Authorization: <key>`` (401 in
    the dialect's shape otherwise)."""
    authenticator = _services(request).authenticator
    tenant = await authenticator.tenant(parse_authorization(request.headers.get("authorization")))
    log_context.set_field("tenant", tenant.name)  # the key's name on the request's log lines
    note_rate_limits(request, tenant)
    return tenant


async def bearer_or_secret_key_tenant(request: Request) -> ApiKey:
    """Bearer, or the luma-mock dialect's ``Secret-Key`` header."""
    presented = parse_authorization(request.headers.get("authorization")) or request.headers.get(
        "secret-key"
    )
    tenant = await _services(request).authenticator.tenant(presented)
    log_context.set_field("tenant", tenant.name)
    note_rate_limits(request, tenant)
    return tenant


def note_rate_limits(request: Request, tenant: ApiKey) -> None:
    """Ask :mod:`lumagate.api.rate_limit_headers` to put the key's rate-limit headers on the
    response (read when the response starts, so a create just made is counted)."""
    if tenant.rpm is None:
        return
    limits = _services(request).rate_limits
    setattr(request.state, RATE_LIMIT_STATE, lambda: limits.headers(tenant))
