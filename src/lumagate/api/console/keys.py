"""``/console/keys``: tenant keys with credits, channels, limits and spend; create (the key is
shown once, on the answer to the create form, never again), top up, change limits, revoke."""

from __future__ import annotations

from collections.abc import Sequence

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from lumagate.api.console.deps import checked_form, console_of, require_session, text
from lumagate.api.console.session import ConsoleSession
from lumagate.api.console.views import (
    FormError,
    back,
    channels_from,
    key_state,
    optional_int,
    required_int,
)
from lumagate.api.routers import app_router
from lumagate.domain.errors import GatewayError, KeyNotFound

PATH = "/console/keys"


def _channels(form_values: Sequence[object]) -> list[str]:
    return [v for v in form_values if isinstance(v, str)]


def _refused(exc: FormError | GatewayError) -> RedirectResponse:
    """Back to the keys page with what was wrong: a form field, an unknown key, or the
    service's refusal in its own words."""
    if isinstance(exc, FormError):
        detail = str(exc.values.get("field", ""))
        return back(PATH, err=exc.key, detail=detail)
    if isinstance(exc, KeyNotFound):
        return back(PATH, err="error.key_not_found")
    return back(PATH, err="error.invalid", detail=exc.message)


async def list_page(
    request: Request, session: ConsoleSession = Depends(require_session)
) -> HTMLResponse:
    console = console_of(request)
    keys = await console.services.admin.list_keys()
    spend = await console.services.insights.spend_by_key()
    keys.sort(key=lambda k: (key_state(k) != "active", k.name.lower()))
    rows = [{"key": k, "state": key_state(k), "spent": spend.get(k.id, 0)} for k in keys]
    return console.pages.render(request, "keys.html", session, rows=rows)


async def create(request: Request, session: ConsoleSession = Depends(require_session)) -> Response:
    form = await checked_form(request, session)
    console = console_of(request)
    try:
        days = text(form, "expires_days")
        created = await console.services.admin.create_key(
            text(form, "name"),
            credits=optional_int(text(form, "credits"), "credits", 0),
            channels=channels_from(_channels(form.getlist("channels"))),
            rpm=optional_int(text(form, "rpm"), "rpm", 1),
            max_running=optional_int(text(form, "max_running"), "max_running", 1),
            expires_days=None if not days else float(required_int(days, "expires_days", 1)),
        )
    except (FormError, GatewayError) as exc:
        return _refused(exc)
    return console.pages.render(
        request,
        "key_created.html",
        session,
        key=created.record,
        plaintext=created.plaintext,
        webhook_secret=created.webhook_secret,
    )


async def top_up(
    key_id: str, request: Request, session: ConsoleSession = Depends(require_session)
) -> Response:
    form = await checked_form(request, session)
    try:
        amount = required_int(text(form, "amount"), "amount")
        _, balance = await console_of(request).services.admin.top_up_key(
            key_id, amount, text(form, "note") or None
        )
    except (FormError, GatewayError) as exc:
        return _refused(exc)
    return back(PATH, msg="flash.topped_up", detail=str(balance))


async def limits(
    key_id: str, request: Request, session: ConsoleSession = Depends(require_session)
) -> Response:
    form = await checked_form(request, session)
    try:
        await console_of(request).services.admin.change_key_limits(
            key_id,
            channels=channels_from(_channels(form.getlist("channels"))),
            rpm=optional_int(text(form, "rpm"), "rpm", 1),
            max_running=optional_int(text(form, "max_running"), "max_running", 1),
        )
    except (FormError, GatewayError) as exc:
        return _refused(exc)
    return back(PATH, msg="flash.limits_changed")


async def revoke(
    key_id: str, request: Request, session: ConsoleSession = Depends(require_session)
) -> Response:
    await checked_form(request, session)
    try:
        await console_of(request).services.admin.revoke_key(key_id)
    except KeyNotFound:
        return back(PATH, err="error.key_not_found")
    return back(PATH, msg="flash.key_revoked")


def router(app: FastAPI) -> APIRouter:
    routes = app_router(app, include_in_schema=False)
    routes.add_api_route(PATH, list_page, methods=["GET"], response_class=HTMLResponse)
    routes.add_api_route(PATH, create, methods=["POST"])
    routes.add_api_route(PATH + "/{key_id}/top-up", top_up, methods=["POST"])
    routes.add_api_route(PATH + "/{key_id}/limits", limits, methods=["POST"])
    routes.add_api_route(PATH + "/{key_id}/revoke", revoke, methods=["POST"])
    return routes
