"""The operator's API under ``/admin``: keys (create, list, revoke, top up), upstream accounts
(list, enable, disable) and the credit ledger. Tasks of any tenant are in ``admin_tasks``.

Every route calls only :class:`~lumagate.service.admin.AdminService` (the future console's
service too); this module only parses requests and shapes answers.

Authenticated with ``Authorization: Bearer <admin key>`` (``LUMAGATE_ADMIN_KEY`` or the
``admin.key`` file in the data dir), compared in constant time. Errors use the default
``{"error": {...}}`` shape. The CLI's ``lumagate keys`` does the same through the same service.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, StrictInt, StrictStr

from lumagate.api import admin_tasks
from lumagate.api.body import read_model
from lumagate.api.deps import Admin, admin_key, max_body
from lumagate.api.routers import add_routes, app_router
from lumagate.domain import messages as msg
from lumagate.domain.accounts import Account
from lumagate.domain.channels import ALL_CHANNELS, parse_channels
from lumagate.domain.clock import iso_z, utcnow
from lumagate.domain.errors import AuthenticationRequired, GatewayError, InvalidRequest, KeyNotFound
from lumagate.domain.ledger import LedgerEntry
from lumagate.domain.tenant import ApiKey
from lumagate.security.keys import parse_bearer
from lumagate.service.account_admin import AccountNotFound
from lumagate.service.admin import AdminService
from lumagate.service.usage import UsageService

TAG = "Admin (/admin)"


class NotFound(GatewayError):
    status = 404
    code = "not_found"


async def require_admin(request: Request) -> None:
    presented = parse_bearer(request.headers.get("authorization"))
    if not admin_key(request).matches(presented):
        raise AuthenticationRequired(msg.ADMIN_KEY(), code="invalid_admin_key")


class CreateKeyBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: StrictStr
    credits: StrictInt | None = Field(default=None, description="None: unlimited.")
    channels: StrictStr | list[StrictStr] | None = Field(default=None, examples=["default,vip"])
    rpm: StrictInt | None = None
    max_running: StrictInt | None = None
    expires_days: float | None = None
    plan: StrictStr = "standard"
    deadline_minutes: StrictInt | None = Field(
        default=None, description="Task deadline of this key (None: the setting; 0: none)."
    )


class TopUpBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    amount: StrictInt
    note: StrictStr | None = None


class DisableBody(BaseModel):
    model_config = ConfigDict(extra="ignore")
    reason: StrictStr = "disabled by an operator"


def key_view(key: ApiKey) -> dict[str, Any]:
    now = utcnow()
    state = "revoked" if key.revoked_at else ("active" if key.usable(now) else "expired")
    return {
        **UsageService.profile(key),  # what the key's owner sees of it, and the operator's rest
        "rpm": key.rpm,
        "max_running": key.max_running,
        "deadline_minutes": key.deadline_minutes,
        "state": state,
        "created_at": iso_z(key.created_at),  # the admin API's times always carry microseconds
        "expires_at": iso_z(key.expires_at),
        "revoked_at": iso_z(key.revoked_at),
    }


def account_view(account: Account) -> dict[str, Any]:
    return {
        "id": account.id,
        "name": account.name,
        "kind": account.kind,
        "channels": [c.value for c in account.channels],
        "max_concurrency": account.max_concurrency,
        "enabled": account.enabled,
        "disabled_reason": account.disabled_reason,
        "cooldown_until": iso_z(account.cooldown_until),
        "failures": account.failures,
        "last_error": account.last_error,
        "created_at": iso_z(account.created_at),
    }


def ledger_view(entry: LedgerEntry) -> dict[str, Any]:
    return {
        "id": entry.id,
        "key_id": entry.key_id,
        "task_id": entry.task_id,
        "kind": entry.kind.value,
        "delta": entry.delta,
        "balance_after": entry.balance_after,
        "note": entry.note,
        "created_at": iso_z(entry.created_at),
    }


async def _key(admin: AdminService, ref: str) -> ApiKey:
    try:
        return await admin.key(ref)
    except KeyNotFound:
        raise NotFound(msg.NO_KEY_MATCHES(ref=repr(ref))) from None


# -- keys ---------------------------------------------------------------------------------
async def list_keys(admin: Admin) -> Any:
    return {"data": [key_view(k) for k in await admin.list_keys()]}


async def create_key(request: Request, admin: Admin) -> Any:
    body = await read_model(request, CreateKeyBody, max_body(request))
    channels = ALL_CHANNELS
    if body.channels is not None:
        text = body.channels if isinstance(body.channels, str) else ",".join(body.channels)
        try:
            channels = parse_channels(text)
        except ValueError as exc:
            raise InvalidRequest(
                msg.FIELD_DETAIL(field="channels", detail=exc), field="channels"
            ) from None
    created = await admin.create_key(
        body.name,
        credits=body.credits,
        channels=channels,
        rpm=body.rpm,
        max_running=body.max_running,
        expires_days=body.expires_days,
        plan=body.plan,
        deadline_minutes=body.deadline_minutes,
    )
    view = key_view(created.record)
    view.update(key=created.plaintext, webhook_secret=created.webhook_secret)
    return JSONResponse(view, status_code=201)


async def get_key(ref: str, admin: Admin) -> Any:
    key = await _key(admin, ref)
    view = key_view(key)
    view["webhook_secret"] = await admin.webhook_secret(key.id)
    return view


async def revoke_key(ref: str, admin: Admin) -> Any:
    try:
        key = await admin.revoke_key(ref)
    except KeyNotFound:
        raise NotFound(msg.NO_ACTIVE_KEY_MATCHES(ref=repr(ref))) from None
    return key_view(key)


async def top_up_key(ref: str, request: Request, admin: Admin) -> Any:
    body = await read_model(request, TopUpBody, max_body(request))
    try:
        key, balance = await admin.top_up_key(ref, body.amount, body.note)
    except KeyNotFound:
        raise NotFound(msg.NO_KEY_MATCHES(ref=repr(ref))) from None
    return {"id": key.id, "name": key.name, "credits": balance}


# -- accounts -----------------------------------------------------------------------------
async def list_accounts(admin: Admin) -> Any:
    return {"data": [account_view(a) for a in await admin.list_accounts()]}


async def enable_account(ref: str, admin: Admin) -> Any:
    try:
        return account_view(await admin.enable_account(ref))
    except AccountNotFound:
        raise NotFound(msg.NO_ACCOUNT_MATCHES(ref=repr(ref))) from None


async def disable_account(ref: str, request: Request, admin: Admin) -> Any:
    body = await read_model(request, DisableBody, max_body(request))
    try:
        return account_view(await admin.disable_account(ref, body.reason))
    except AccountNotFound:
        raise NotFound(msg.NO_ACCOUNT_MATCHES(ref=repr(ref))) from None


# -- ledger -------------------------------------------------------------------------------
async def list_ledger(request: Request, admin: Admin) -> Any:
    params = request.query_params
    offset, limit = admin_tasks.page(request)
    try:
        entries = await admin.ledger(
            key_ref=params.get("key") or None,
            task_id=params.get("task") or None,
            offset=offset,
            limit=limit,
        )
    except KeyNotFound:
        raise NotFound(msg.NO_KEY_MATCHES(ref=repr(params.get("key")))) from None
    return {"data": [ledger_view(e) for e in entries], "offset": offset, "limit": limit}


def build_router(app: FastAPI) -> APIRouter:
    router = app_router(app, prefix="/admin", tags=[TAG], dependencies=[Depends(require_admin)])
    for path, handler, method, summary in (
        ("/keys", list_keys, "GET", "List keys (never the keys themselves)"),
        ("/keys", create_key, "POST", "Create a key; the answer holds the key, shown once"),
        ("/keys/{ref}", get_key, "GET", "One key by id, name or prefix, with its webhook secret"),
        ("/keys/{ref}/revoke", revoke_key, "POST", "Revoke a key"),
        ("/keys/{ref}/top-up", top_up_key, "POST", "Add (or remove) credits"),
        ("/accounts", list_accounts, "GET", "List upstream accounts"),
        ("/accounts/{ref}/enable", enable_account, "POST", "Enable an account"),
        ("/accounts/{ref}/disable", disable_account, "POST", "Disable an account"),
        ("/ledger", list_ledger, "GET", "Ledger entries, newest first (?key=&task=)"),
    ):
        router.add_api_route(path, handler, methods=[method], summary=summary)
    admin_tasks.add_routes(router)
    return router


def install(app: FastAPI) -> None:
    add_routes(app, build_router(app))
