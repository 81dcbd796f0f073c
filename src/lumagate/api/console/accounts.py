"""``/console/accounts``: the upstream pool; add, test, disable, enable, renew, remove.

Credentials go in through the form and never come back out: the list shows kind, channels,
state, load, failures, last error and (for web sessions) when the session expires.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import HTMLResponse, Response
from starlette.datastructures import FormData

from lumagate.api.console.account_forms import SECRET_FIELD, new_account
from lumagate.api.console.deps import checked_form, console_of, require_session, text
from lumagate.api.console.session import ConsoleSession
from lumagate.api.console.views import (
    FormError,
    account_quota,
    account_state,
    back,
    channels_from,
    required_int,
    session_expires,
)
from lumagate.api.routers import app_router
from lumagate.domain.errors import GatewayError
from lumagate.service.account_admin import AccountBusyError, AccountNotFound

PATH = "/console/accounts"


async def list_page(
    request: Request, session: ConsoleSession = Depends(require_session)
) -> HTMLResponse:
    console = console_of(request)
    admin = console.services.admin
    accounts = await admin.list_accounts()
    running = await admin.accounts.running()
    rows = [
        {
            "account": a,
            "state": account_state(a),
            "running": running.get(a.id, 0),
            "quota": account_quota(a),
            "session_expires": session_expires(a),
        }
        for a in accounts
    ]
    return console.pages.render(
        request,
        "accounts.html",
        session,
        rows=rows,
        kinds=list(SECRET_FIELD),
    )


async def add(request: Request, session: ConsoleSession = Depends(require_session)) -> Response:
    form = await checked_form(request, session)
    console = console_of(request)
    try:
        new = new_account(
            kind=text(form, "kind"),
            secret=text(form, "secret"),
            name=text(form, "name"),
            url=text(form, "base_url"),
            max_concurrency=required_int(text(form, "max_concurrency"), "max_concurrency", 1),
            channels=channels_from([v for v in form.getlist("channels") if isinstance(v, str)]),
            taken={a.name for a in await console.services.admin.list_accounts()},
        )
        account = await console.services.admin.add_account(new)
    except FormError as exc:
        return back(PATH, err=exc.key, detail=str(exc.values.get("field", "")))
    except GatewayError as exc:
        return back(PATH, err="error.invalid", detail=exc.message)
    return back(PATH, msg="flash.account_added", detail=account.name)


Action = Callable[[FormData, str, Request], Awaitable[str]]


async def _disable(form: FormData, ref: str, request: Request) -> str:
    await console_of(request).services.admin.disable_account(ref, text(form, "reason"))
    return "flash.account_disabled"


async def _enable(form: FormData, ref: str, request: Request) -> str:
    await console_of(request).services.admin.enable_account(ref)
    return "flash.account_enabled"


async def _renew(form: FormData, ref: str, request: Request) -> str:
    services = console_of(request).services
    account = await services.admin.account(ref)
    secret = text(form, "secret")
    if account.kind not in SECRET_FIELD or not secret:
        raise FormError("error.secret_required")
    await services.admin.renew_account(account.id, {SECRET_FIELD[account.kind]: secret})
    if account.kind == "luma-web":
        await services.checks.note_session_expiry(account.id, secret)
    return "flash.account_renewed"


async def _remove(form: FormData, ref: str, request: Request) -> str:
    await console_of(request).services.admin.remove_account(ref)
    return "flash.account_removed"


ACTIONS: dict[str, Action] = {
    "disable": _disable,
    "enable": _enable,
    "renew": _renew,
    "remove": _remove,
}


def _action_route(name: str) -> Callable[..., Awaitable[Response]]:
    async def act(
        account_id: str, request: Request, session: ConsoleSession = Depends(require_session)
    ) -> Response:
        form = await checked_form(request, session)
        try:
            message = await ACTIONS[name](form, account_id, request)
        except AccountNotFound:
            return back(PATH, err="error.account_not_found")
        except FormError as exc:
            return back(PATH, err=exc.key)
        except AccountBusyError:
            return back(PATH, err="error.account_busy")
        except GatewayError as exc:
            return back(PATH, err="error.invalid", detail=exc.message)
        return back(PATH, msg=message)

    return act


async def test_credentials(
    account_id: str, request: Request, session: ConsoleSession = Depends(require_session)
) -> Response:
    await checked_form(request, session)
    services = console_of(request).services
    try:
        account = await services.admin.account(account_id)
    except AccountNotFound:
        return back(PATH, err="error.account_not_found")
    check = await services.checks.test(account.id)
    if check.ok:
        return back(PATH, msg="flash.test_ok")
    if check.untestable:
        return back(PATH, err="error.untestable")
    return back(PATH, err="error.test_failed", detail=check.message)


def router(app: FastAPI) -> APIRouter:
    routes = app_router(app, include_in_schema=False)
    routes.add_api_route(PATH, list_page, methods=["GET"], response_class=HTMLResponse)
    routes.add_api_route(PATH, add, methods=["POST"])
    routes.add_api_route(PATH + "/{account_id}/test", test_credentials, methods=["POST"])
    for name in ACTIONS:
        routes.add_api_route(PATH + "/{account_id}/" + name, _action_route(name), methods=["POST"])
    return routes
